from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from baishitong.tickets.schemas import LocationIn, TicketType


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SuggestIn(Strict):
    text: str = Field(min_length=1, max_length=5000)
    address: str | None = Field(default=None, max_length=300)
    location: LocationIn | None = None
    type: TicketType | None = None


class CodeName(BaseModel):
    code: str
    name: str


class CategoryRef(CodeName):
    path: str


class RegionRef(CodeName):
    kind: str
    town: CodeName | None = None


class ScoredLabel(BaseModel):
    label: str = Field(description="模型的标签：从数据库训练的模型为分类编码，用 CSV 训练的可能是分类名称")
    score: float
    code: str | None = Field(description="标签对应的启用分类的编码；标签不是分类（如承办单位模型）时为 null")
    name: str | None = Field(description="该分类的名称")
    path: str | None = Field(description="该分类连同上级的完整路径，如“城乡建设 › 市政设施”")


class SuggestOut(BaseModel):
    category: CategoryRef | None
    label: str | None
    confidence: float | None
    top3: list[ScoredLabel]
    region: RegionRef | None
    lead_unit: CodeName | None
    co_units: list[CodeName]
    rule: dict | None
    model_version: str | None
    auto_dispatch: bool
    evidence: dict


class LocateOut(BaseModel):
    town: CodeName | None
    community: CodeName | None
    method: str | None
    score: float


class ModelOut(BaseModel):
    version: str
    kind: str
    source: str
    labels: list[str]
    metrics: dict
    active: bool
    note: str | None
    created_by: str
    created_at: datetime


class RetrainIn(Strict):
    label: Literal["category", "category_l1", "unit"] = Field(
        default="category",
        description="category：问题分类，已办结工单足够多的二、三级分类单独学习，建议给出有把握的最细一级；category_l1：只学一级分类；unit：承办单位",
    )


class RetrainOut(BaseModel):
    request_key: str


class RuleIn(Strict):
    id: int | None = Field(default=None, description="GET 读到的规则 id，可原样发回；保存时不用：每次保存都写成新的一版")
    priority: int = 0
    category_prefix: str | None = Field(default=None, max_length=16)
    region_code: str | None = Field(default=None, max_length=16)
    type: TicketType | None = None
    keywords: list[str] | None = Field(default=None, max_length=50)
    lead: str = Field(min_length=1, max_length=32, description='单位编码，或 "@town" 表示诉求所在镇街')
    co_units: list[str] = Field(default_factory=list, max_length=10)
    active: bool = True
    note: str | None = Field(default=None, max_length=500)


class RuleOut(RuleIn):
    model_config = ConfigDict(extra="ignore")
    id: int


class CatalogueIn(Strict):
    note: str | None = Field(default=None, max_length=500)
    base_version: int | None = Field(default=None, description="编辑开始时读取到的 version；给出时，他人已保存新版本则返回 409")
    rules: list[RuleIn] = Field(min_length=1, max_length=5000)


class CatalogueOut(BaseModel):
    version: int | None
    note: str | None
    created_by: str | None
    created_at: datetime | None
    rules: list[RuleOut]


class ReviewItem(BaseModel):
    number: str
    title: str
    type: str
    created_at: datetime
    decision: dict


class MisrouteRow(BaseModel):
    code: str | None
    name: str | None
    decisions: int
    corrections: int
    misroute_rate: float


class CategoryMisrouteRow(MisrouteRow):
    category_corrections: int = Field(description="问题分类在受理时（话务员所选与智能分类建议不同）或派单时被改为另一分支的建议数（改为上下级分类不计）；各行按智能分拨建议的分类汇总")
    category_misroute_rate: float = Field(description="分类纠正率：category_corrections / decisions")


class MisrouteOut(BaseModel):
    since: str | None
    total: dict
    by_unit: list[MisrouteRow]
    by_category: list[CategoryMisrouteRow]
