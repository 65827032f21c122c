from datetime import date, datetime

from fastapi import UploadFile
from pydantic import BaseModel, ConfigDict, Field

from baishitong.bounds import Day


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ArticleFields(Strict):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=50_000)
    category_code: str | None = Field(default=None, max_length=16)
    unit_code: str | None = Field(default=None, max_length=32)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    synonyms: list[str] = Field(default_factory=list, max_length=50)
    valid_from: Day | None = None
    valid_to: Day | None = None
    review_due: Day | None = None


class ArticleCreate(ArticleFields):
    id: str | None = Field(default=None, max_length=64, description="外部编号；不填则自动生成")
    status: str = Field(default="draft", pattern="^(draft|published)$")


class ArticleUpdate(ArticleFields):
    version: int = Field(description="编辑开始时看到的版本号；已被他人修改时返回 409")
    status: str | None = Field(default=None, pattern="^(draft|published|retired)$")


class ArticleFields(BaseModel):
    """What an article and each of its saved versions have in common."""

    title: str
    body: str
    category_code: str | None
    unit_code: str | None
    keywords: list[str]
    synonyms: list[str]
    valid_from: date | None
    valid_to: date | None
    review_due: date | None
    status: str
    version: int


class ArticleOut(ArticleFields):
    id: str
    validity_note: str | None = Field(description="不在有效期内时为“已过期”或“未生效”（不能作为现行规定答复）；有效时为 null")
    updated_at: datetime
    updated_by: str
    url: str


class ArticleVersionOut(ArticleFields):
    action: str
    saved_by: str
    saved_at: datetime


class SearchHitOut(BaseModel):
    id: str
    title: str
    score: float
    snippet: str
    highlights: list[str]
    url: str


class ArticleHitOut(SearchHitOut):
    status: str = Field(description="published，或工作人员带 include_retired 时的 retired（已下线，不能作为现行规定答复）")


class ArticleImportIn(BaseModel):
    file: UploadFile = Field(description="知识库文章：CSV（UTF-8 或 GB18030）或 XLSX")


class ArticleImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int


class ItemOut(BaseModel):
    code: str
    name: str
    department: str | None
    channels: list[str]
    materials: list[str]
    fee: str | None
    time_limit_days: int | None
    promised_days: int | None
    online_url: str | None
    description: str
    url: str


class ItemHitOut(SearchHitOut):
    item: ItemOut
