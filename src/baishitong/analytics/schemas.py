from datetime import datetime

from pydantic import BaseModel, Field


class HotTopicOut(BaseModel):
    label: str = Field(description="代表性诉求的标题")
    phrases: list[str] = Field(description="多数诉求共有的关键词句")
    size: int = Field(description="工单数")
    people: int = Field(description="诉求人数（同一电话只计一次）")
    support: int = 0
    heat: float
    recent: int = Field(description="近48小时新增工单数")
    first_at: datetime
    last_at: datetime
    region: str | None = None
    category: str | None = None
    examples: list[str] = Field(description="最近的几张工单编号")


class HotTopicsOut(BaseModel):
    window_days: int
    computed_at: datetime | None = None
    n_tickets: int = 0
    truncated: bool = False
    topics: list[HotTopicOut] = []

    @classmethod
    def of(cls, window_days: int, snapshot) -> "HotTopicsOut":
        """The API's and the page's view of a stored snapshot (None: not computed yet)."""
        if snapshot is None:
            return cls(window_days=window_days)
        return cls(window_days=window_days, computed_at=snapshot.computed_at, n_tickets=snapshot.n_tickets, truncated=snapshot.truncated, topics=snapshot.topics)


WINDOW_DAYS = "统计周期（天）：1、7 或 30，其他值 422 invalid_window"


class RefreshIn(BaseModel):
    # The periods of service.HOT_WINDOWS, which the API checks; listed here for the documentation.
    window_days: int = Field(7, description=WINDOW_DAYS, json_schema_extra={"enum": [1, 7, 30]})


class RefreshOut(BaseModel):
    window_days: int
    queued: bool
