"""API shapes for 惠企政策 and 融资产品; every refusal is worded in Chinese for the enterprise or the admin."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from baishitong import clock
from baishitong.enterprise import INDUSTRIES, SIZES, STATUS_LABELS, TAGS, credit_code
from baishitong.tickets.service import LOCAL_TZ

FIRST_YEAR = 1949


def _codes(values: list[str], allowed: dict[str, str], what: str) -> list[str]:
    """Known codes only, each once, in the order given."""
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise ValueError(f"{what}“{'、'.join(wrong)}”无效，可选：{'、'.join(f'{c}（{label}）' for c, label in allowed.items())}")
    return list(dict.fromkeys(values))


def _text(value: str, label: str, limit: int, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise ValueError(f"请填写{label}")
    if len(value) > limit:
        raise ValueError(f"{label}不能超过 {limit} 个字")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProfileIn(Strict):
    """The enterprise's own description; nothing here is stored."""

    industry: str = Field(description="行业编码", json_schema_extra={"enum": list(INDUSTRIES)})
    size: str = Field(description="企业规模编码", json_schema_extra={"enum": list(SIZES)})
    town: str = Field(max_length=16, description="所在镇街的区划编码")
    year_established: int = Field(description="成立年份")
    tags: list[str] = Field(default_factory=list, description="企业资质编码", json_schema_extra={"items": {"enum": list(TAGS)}})
    name: str | None = Field(default=None, max_length=100, description="企业名称（选填）")
    credit_code: str | None = Field(default=None, max_length=32, description="统一社会信用代码（选填，填写则校验）")

    @field_validator("industry")
    @classmethod
    def _industry(cls, value: str) -> str:
        if value not in INDUSTRIES:
            raise ValueError("请选择所属行业")
        return value

    @field_validator("size")
    @classmethod
    def _size(cls, value: str) -> str:
        if value not in SIZES:
            raise ValueError("请选择企业规模")
        return value

    @field_validator("year_established")
    @classmethod
    def _year(cls, value: int) -> int:
        if not FIRST_YEAR <= value <= clock.now().astimezone(LOCAL_TZ).year:
            raise ValueError(f"成立年份应在 {FIRST_YEAR} 年至今年之间")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return _codes(value, TAGS, "企业资质")

    @field_validator("name", "credit_code")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str | None) -> str | None:
        return credit_code.validate(value) if value else None


class EligibilityIn(Strict):
    industries: list[str] = Field(default_factory=list, description="适用行业编码；为空表示不限", json_schema_extra={"items": {"enum": list(INDUSTRIES)}})
    sizes: list[str] = Field(default_factory=list, description="适用企业规模编码；为空表示不限", json_schema_extra={"items": {"enum": list(SIZES)}})
    towns: list[str] = Field(default_factory=list, description="适用镇街区划编码；为空表示全区")
    tags: list[str] = Field(default_factory=list, description="须具备其一的资质编码；为空表示不限", json_schema_extra={"items": {"enum": list(TAGS)}})
    min_years: int = Field(default=0, description="最低成立年限")
    status: str = Field(default="draft", description="draft 草稿、published 已发布、retired 已下架", json_schema_extra={"enum": list(STATUS_LABELS)})

    @field_validator("industries")
    @classmethod
    def _industries(cls, value: list[str]) -> list[str]:
        return _codes(value, INDUSTRIES, "行业")

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, value: list[str]) -> list[str]:
        return _codes(value, SIZES, "企业规模")

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return _codes(value, TAGS, "资质")

    @field_validator("towns")
    @classmethod
    def _towns(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))  # existence is checked against the gazetteer by the service

    @field_validator("min_years")
    @classmethod
    def _min_years(cls, value: int) -> int:
        if not 0 <= value <= 50:
            raise ValueError("最低成立年限应在 0 至 50 年之间")
        return value

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        if value not in STATUS_LABELS:
            raise ValueError("状态应为 draft（草稿）、published（已发布）或 retired（已下架）")
        return value


class PolicyIn(EligibilityIn):
    title: str
    unit: str = Field(description="发文单位编码")
    summary: str
    body: str = Field(default="", description="正文（Markdown）")
    benefit: str = Field(description="扶持内容，如“最高补贴50万元”")
    apply_from: date | None = None
    apply_to: date | None = None

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return _text(value, "政策标题", 200)

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        return _text(value, "发文单位", 32)

    @field_validator("summary")
    @classmethod
    def _summary(cls, value: str) -> str:
        return _text(value, "政策摘要", 500)

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        return _text(value, "政策正文", 20000, required=False)

    @field_validator("benefit")
    @classmethod
    def _benefit(cls, value: str) -> str:
        return _text(value, "扶持内容", 200)

    @model_validator(mode="after")
    def _window(self) -> "PolicyIn":
        if self.apply_from and self.apply_to and self.apply_to < self.apply_from:
            raise ValueError("申报截止日期不能早于开始日期")
        return self


class ProductIn(EligibilityIn):
    institution: str = Field(description="银行或机构")
    name: str = Field(description="产品名称")
    summary: str = ""
    amount_min: int | None = Field(default=None, description="最低额度（万元）")
    amount_max: int | None = Field(default=None, description="最高额度（万元）")
    rate: str = Field(description="利率说明，如“年化3.45%起”")
    term: str = Field(description="期限，如“1至3年”")
    contact: str = Field(description="联系人及电话")

    @field_validator("institution")
    @classmethod
    def _institution(cls, value: str) -> str:
        return _text(value, "银行或机构", 128)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _text(value, "产品名称", 128)

    @field_validator("summary")
    @classmethod
    def _summary(cls, value: str) -> str:
        return _text(value, "产品简介", 500, required=False)

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        return _text(value, "利率", 64)

    @field_validator("term")
    @classmethod
    def _term(cls, value: str) -> str:
        return _text(value, "期限", 64)

    @field_validator("contact")
    @classmethod
    def _contact(cls, value: str) -> str:
        return _text(value, "联系方式", 128)

    @field_validator("amount_min", "amount_max")
    @classmethod
    def _amount(cls, value: int | None) -> int | None:
        if value is not None and not 0 < value <= 1_000_000:
            raise ValueError("额度应为 1 至 1000000 万元")
        return value

    @model_validator(mode="after")
    def _range(self) -> "ProductIn":
        if self.amount_min and self.amount_max and self.amount_max < self.amount_min:
            raise ValueError("最高额度不能低于最低额度")
        return self


class EligibilityOut(BaseModel):
    industries: list[str]
    sizes: list[str]
    towns: list[str]
    tags: list[str]
    min_years: int
    status: str
    updated_at: datetime


class PolicyOut(EligibilityOut):
    id: int
    title: str
    unit: str
    unit_name: str
    summary: str
    body: str
    benefit: str
    apply_from: date | None
    apply_to: date | None


class ProductOut(EligibilityOut):
    id: int
    institution: str
    name: str
    summary: str
    amount_min: int | None
    amount_max: int | None
    amount: str = Field(description="额度说明")
    rate: str
    term: str
    contact: str


class MatchOut(BaseModel):
    id: int
    title: str
    issuer: str = Field(description="发文单位或金融机构")
    benefit: str = Field(description="扶持内容或额度")
    full: bool = Field(description="true 完全符合；false 差一项")
    met: list[str] = Field(description="已符合的条件")
    missing: list[str] = Field(description="尚缺的条件（差一项时有一条）")
    reason: str = Field(description="可直接展示的说明，如“符合：制造业、小型企业、位于北滘镇”")
    apply_to: date | None = None
    days_left: int | None = None
    closing_soon: bool = False
    not_yet_open: bool = False
    url: str


class MatchResultOut(BaseModel):
    policies: list[MatchOut]
    products: list[MatchOut]
