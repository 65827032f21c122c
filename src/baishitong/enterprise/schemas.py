"""API shapes for 惠企政策 and 融资产品; every refusal is worded in Chinese for the enterprise or the admin."""

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from baishitong import clock
from baishitong.bounds import Day
from baishitong.enterprise import INDUSTRIES, SIZES, STATUS_LABELS, TAGS, credit_code
from baishitong.tickets.service import LOCAL_TZ

FIRST_YEAR = 1949


_ECHOED = 5


def _echo(value: str, limit: int = 32) -> str:
    value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value if len(value) <= limit else value[:limit] + "…"


def Codes(allowed: dict[str, str], what: str) -> AfterValidator:
    """A list field's check: known codes only, each once, in the order given; `what` names them in the refusal."""

    def check(values: list[str]) -> list[str]:
        wrong = [v for v in values if v not in allowed]
        if wrong:
            # Echoed escaped: a lone surrogate (JSON "\ud800") in the message makes pydantic fail with a UnicodeEncodeError, a 500.
            # And only the first few, cut short: 100,000 unknown codes were all echoed, twice, in a refusal of megabytes.
            shown = [_echo(v) for v in wrong[:_ECHOED]]
            more = f" 等 {len(wrong)} 项" if len(wrong) > _ECHOED else ""
            raise ValueError(f"{what}“{'、'.join(shown)}”{more}无效，可选：{'、'.join(f'{c}（{label}）' for c, label in allowed.items())}")
        return list(dict.fromkeys(values))

    return AfterValidator(check)


def Text(label: str, limit: int, *, required: bool = True) -> AfterValidator:
    """A text field's check: stripped, at most `limit` characters, and not blank when required."""

    def check(value: str) -> str:
        value = value.strip()
        if required and not value:
            raise ValueError(f"请填写{label}")
        if len(value) > limit:
            raise ValueError(f"{label}不能超过 {limit} 个字")
        return value

    return AfterValidator(check)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProfileIn(Strict):
    """The enterprise's own description; nothing here is stored."""

    industry: str = Field(description="行业编码", json_schema_extra={"enum": list(INDUSTRIES)})
    size: str = Field(description="企业规模编码", json_schema_extra={"enum": list(SIZES)})
    town: str = Field(max_length=16, description="所在镇街的区划编码")
    year_established: int = Field(description="成立年份")
    tags: Annotated[list[str], Codes(TAGS, "企业资质")] = Field(default_factory=list, description="企业资质编码", json_schema_extra={"items": {"enum": list(TAGS)}})
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

    @field_validator("name", "credit_code")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str | None) -> str | None:
        return credit_code.validate(value) if value else None


class EligibilityIn(Strict):
    """The facets shared by policies and products; an empty list means no restriction."""

    industries: Annotated[list[str], Codes(INDUSTRIES, "行业")] = Field(default_factory=list, description="适用行业编码；为空表示不限", json_schema_extra={"items": {"enum": list(INDUSTRIES)}})
    sizes: Annotated[list[str], Codes(SIZES, "企业规模")] = Field(default_factory=list, description="适用企业规模编码；为空表示不限", json_schema_extra={"items": {"enum": list(SIZES)}})
    towns: list[str] = Field(default_factory=list, description="适用镇街区划编码；为空表示全区")
    tags: Annotated[list[str], Codes(TAGS, "资质")] = Field(default_factory=list, description="须具备其一的资质编码；为空表示不限", json_schema_extra={"items": {"enum": list(TAGS)}})
    min_years: int = Field(default=0, description="最低成立年限")
    status: str = Field(default="draft", description="draft 草稿、published 已发布、retired 已下架", json_schema_extra={"enum": list(STATUS_LABELS)})
    version: int | None = Field(default=None, description="修改时：读取时的版本号；已被他人修改则返回 409")

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
    title: Annotated[str, Text("政策标题", 200)]
    unit: Annotated[str, Text("发文单位", 32)] = Field(description="发文单位编码")
    summary: Annotated[str, Text("政策摘要", 500)]
    body: Annotated[str, Text("政策正文", 20000, required=False)] = Field(default="", description="正文（Markdown）")
    benefit: Annotated[str, Text("扶持内容", 200)] = Field(description="扶持内容，如“最高补贴50万元”")
    apply_from: Day | None = None
    apply_to: Day | None = None

    @model_validator(mode="after")
    def _window(self) -> "PolicyIn":
        if self.apply_from and self.apply_to and self.apply_to < self.apply_from:
            raise ValueError("申报截止日期不能早于开始日期")
        return self


class ProductIn(EligibilityIn):
    institution: Annotated[str, Text("银行或机构", 128)] = Field(description="银行或机构")
    name: Annotated[str, Text("产品名称", 128)] = Field(description="产品名称")
    summary: Annotated[str, Text("产品简介", 500, required=False)] = ""
    amount_min: int | None = Field(default=None, description="最低额度（万元）")
    amount_max: int | None = Field(default=None, description="最高额度（万元）")
    rate: Annotated[str, Text("利率", 64)] = Field(description="利率说明，如“年化3.45%起”")
    term: Annotated[str, Text("期限", 64)] = Field(description="期限，如“1至3年”")
    contact: Annotated[str, Text("联系方式", 128)] = Field(description="联系人及电话")

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
    version: int


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


class SubscriptionIn(ProfileIn):
    """新政策提醒: the profile plus the mobile the SMS go to; confirmed from the link in the first SMS."""

    phone: str = Field(max_length=20, description="接收短信的 11 位手机号码")


class SubscriptionOut(BaseModel):
    status: str = Field(description="pending 待确认（需打开确认短信中的链接）")
    phone: str = Field(description="脱敏后的手机号码")
    confirmation_sent: bool = Field(description="本次是否发出确认短信；10 分钟内重复提交不再发送")
