from pydantic import BaseModel, Field


class ReplyPhraseOut(BaseModel):
    id: int
    title: str
    body: str
    unit: str | None = Field(description="所属单位编码；为空表示全部单位通用")
