from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AskIn(Strict):
    question: str = Field(min_length=1, max_length=500)
    session_id: str | None = Field(default=None, max_length=32)


class CitationOut(BaseModel):
    id: str
    kind: str
    title: str
    score: float
    url: str


class AskOut(BaseModel):
    session_id: str
    turn_id: int
    answer: str
    citations: list[CitationOut]
    confidence: float
    follow_ups: list[str]
    handover: bool
    actions: list[dict]


class TurnOut(BaseModel):
    id: int
    role: str
    text: str
    author: str | None
    citations: list[dict]
    helpful: bool | None
    created_at: datetime


class SessionOut(BaseModel):
    session_id: str
    status: str
    operator: str | None
    handover_at: datetime | None
    updated_at: datetime
    turns: list[TurnOut]


class QueueEntryOut(BaseModel):
    session_id: str
    status: str
    operator: str | None
    handover_at: datetime | None
    last_question: str | None


class ReplyIn(Strict):
    text: str = Field(min_length=1, max_length=2000)


class RateIn(Strict):
    helpful: bool


class RateOut(BaseModel):
    turn_id: int
    helpful: bool


class GroupOut(BaseModel):
    label: str
    size: int
    questions: list[str]
