import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from baishitong.attachments.schemas import ReplyFileOut
from baishitong.tickets.validation import normalise_phone, validate_id_number

TicketType = Literal["咨询", "求助", "投诉", "举报", "建议", "表扬"]
Channel = Literal["hotline", "web", "wechat", "app", "doorstep", "enterprise", "api"]
Satisfaction = Literal["满意", "基本满意", "不满意"]

TYPES: tuple[str, ...] = TicketType.__args__
CHANNELS: tuple[str, ...] = Channel.__args__
CHANNEL_LABELS = {
    "hotline": "12345热线",
    "web": "网站",
    "wechat": "微信",
    "app": "移动端",
    "doorstep": "门口办",
    "enterprise": "企业服务平台",
    "api": "接口",
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RequesterIn(Strict):
    name: str | None = Field(default=None, max_length=64)
    phone: str = Field(max_length=32)
    id_number: str | None = Field(default=None, max_length=32)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalise_phone(value)

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str | None) -> str | None:
        return validate_id_number(value) if value else None


class LocationIn(Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


CONTENT_MIN = 5


def visible_length(text: str) -> int:
    """Characters a reader sees: not spaces, control characters or invisible formatting (zero-width spaces,
    right-to-left marks, BOMs), which pass a length check and read as nothing."""
    return sum(1 for c in text if not c.isspace() and unicodedata.category(c) not in ("Cc", "Cf"))


class TicketCreate(Strict):
    type: TicketType
    content: str = Field(min_length=CONTENT_MIN, max_length=5000)
    title: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    region_code: str | None = Field(default=None, max_length=16)
    location: LocationIn | None = None
    channel: Channel = "web"
    urgency: Literal["normal", "urgent"] = "normal"
    category_code: str | None = Field(default=None, max_length=16)
    point_code: str | None = Field(default=None, max_length=32)
    requester: RequesterIn
    anonymous: bool = False
    confidential: bool = False
    assistant_session_id: str | None = Field(
        default=None,
        max_length=32,
        description=(
            "来源会话：工单由哪次在线咨询（政务君）对话转来，即 `POST /api/v1/assistant/ask` 返回的 `session_id`；"
            "热线中心的工作人员在工单上可打开完整对话。不带令牌时凭会话号关联市民自己的对话；带话务员、督办员或管理员的令牌时，"
            "只能关联本人接待的会话；承办单位的令牌不能关联。会话不存在 → 404 `assistant_session_not_found`，不允许关联 → 403 `conversation_not_linkable`，均不受理"
        ),
    )

    @field_validator("content")
    @classmethod
    def _content_visible(cls, value: str) -> str:
        """Six zero-width spaces are six characters and no matter at all: refused as a content too short is,
        in the same words (a form says 不少于 5 个字), not registered as an order nobody can read."""
        if visible_length(value) < CONTENT_MIN:
            raise PydanticCustomError("string_too_short", "String should have at least {min_length} characters", {"min_length": CONTENT_MIN})
        return value


class ActionIn(Strict):
    version: int | None = Field(default=None, description="读取工单时得到的 version；仅追加类操作（note、urge、supervise、contact、callback-missed、callback-declined）可省略")
    note: str | None = Field(default=None, max_length=2000)


# Codes and numbers are short (org.service.UNIT_CODE, SD + date + sequence); a megabyte one was looked up and
# echoed whole in the 404 that said it did not exist.
UnitCode = Annotated[str, Field(max_length=32)]


class DispatchIn(ActionIn):
    lead_unit: UnitCode
    co_units: list[UnitCode] = Field(default_factory=list, max_length=10)
    category_code: str | None = Field(default=None, max_length=16, description="问题分类编码：派单时更正工单的分类（省略则不变）；改为智能分拨建议分支以外的分类计入分类纠正率")


class ReasonIn(ActionIn):
    reason: str = Field(min_length=2, max_length=2000)


class ExtendIn(ReasonIn):
    days: int = Field(ge=1, le=60)


class ContentIn(ActionIn):
    content: str = Field(min_length=2, max_length=10000)


class CallbackIn(ActionIn):
    solved: bool
    satisfaction: Satisfaction


# Why a callback call did not reach the requester. One who answered and declined to rate was reached: that is
# the action callback-declined, which is not retried and may close the order at once.
CallbackOutcome = Literal["无人接听", "号码错误", "关机或停机"]


class CallbackMissedIn(ActionIn):
    outcome: CallbackOutcome

    @field_validator("outcome", mode="before")
    @classmethod
    def _declined_is_no_missed_call(cls, value: object) -> object:
        # Once one of the outcomes here: an integration still sending it learns what to send instead.
        if value == "拒绝回访":
            raise ValueError("诉求人接通但拒绝评价不算未接通，请用 callback-declined（回访拒绝评价）记录")
        return value


ContactOutcome = Literal["已联系", "诉求人拒绝沟通", "未接通", "号码错误"]
# Outcomes in which the requester was reached: only these meet the contact deadline (Ticket.contacted_at, which the
# contact urging and 按时联系率 read). A requester who declines to talk was reached all the same; a call nobody
# answered, or a wrong number, was not.
CONTACT_REACHED = frozenset({"已联系", "诉求人拒绝沟通"})


class ContactIn(ActionIn):
    outcome: ContactOutcome = Field(description="联系结果；仅“已联系”“诉求人拒绝沟通”计为已联系诉求人（满足联系时限，计入按时联系率）")


class MergeIn(ActionIn):
    into: str = Field(max_length=20)


class UnitIn(ActionIn):
    unit: UnitCode


class AssignIn(ActionIn):
    assignee: str | None = Field(default=None, max_length=64, description="承办人的用户名（主办单位的在用人员）；省略即指派给自己（我来办）。单位管理员可指派任何人，承办人只能认领未指派的工单")


class NoteIn(ActionIn):
    note: str = Field(min_length=1, max_length=2000)


ACTION_BODIES: dict[str, type[ActionIn]] = {
    "dispatch": DispatchIn,
    "return": ReasonIn,
    "void": ReasonIn,
    "extend": ExtendIn,
    "reply": ContentIn,
    "answer": ContentIn,
    "contribute": ContentIn,
    # The lead unit and the dispatcher read why a co-handler left the order.
    "decline-co": ReasonIn,
    "callback": CallbackIn,
    "callback-missed": CallbackMissedIn,
    "contact": ContactIn,
    "merge": MergeIn,
    "subdispatch": UnitIn,
    "assign": AssignIn,
    "note": NoteIn,
    "pause": ReasonIn,
    # The unit is told why: a refusal without a reason leaves it guessing.
    "reject-return": ReasonIn,
    "reject-extension": ReasonIn,
    "reject-pause": ReasonIn,
    # The order goes back to the unit that answered it: without a reason it would only repeat that answer.
    "redo": ReasonIn,
}


class TrackIn(Strict):
    number: str = Field(max_length=20)
    phone: str = Field(max_length=32)


class PublicCallbackIn(Strict):
    number: str
    phone: str
    solved: bool
    satisfaction: Satisfaction


class RequesterOut(BaseModel):
    name: str | None
    phone: str | None
    id_number: str | None
    masked: bool
    hidden: bool = False
    content: str | None = None  # only on a reveal: the message with the numbers the caller said in it


class RequesterRevealIn(BaseModel):
    purpose: str | None = Field(default=None, max_length=200, description="查看原因，记入审计")


class UnitRef(BaseModel):
    code: str
    name: str


class EventOut(BaseModel):
    action: str
    label: str
    from_status: str | None
    to_status: str
    actor: str
    actor_role: str
    unit: str | None
    note: str | None
    data: dict
    at: datetime


class AssigneeOut(BaseModel):
    username: str
    name: str


class CoUnitOut(BaseModel):
    code: str
    name: str
    contribution: str | None


class TicketOut(BaseModel):
    number: str
    status: str
    status_label: str
    version: int
    type: str
    channel: str
    title: str
    content: str
    urgency: str
    address: str | None
    region: dict | None
    category: dict | None
    lead_unit: str | None
    lead_unit_name: str | None
    sub_unit: str | None
    assignee: AssigneeOut | None = Field(default=None, description="承办人: the lead unit's staff member working the order")
    co_units: list[CoUnitOut]
    requester: RequesterOut
    anonymous: bool
    confidential: bool
    master: str | None
    urge_count: int
    repeat_calls: int = Field(0, description="重复来电: calls merged into this order")
    supervised: bool
    pending_extension: dict | None
    pending_pause: dict | None = Field(default=None, description="待审批的暂停计时申请 {reason}（时限策略要求暂停须经同意时）")
    return_reason: str | None
    reply: str | None
    callback: dict | None
    deadlines: dict
    created_at: datetime
    updated_at: datetime
    events: list[EventOut] | None = None
    routing: dict | None = None
    assistant_session_id: str | None = Field(
        default=None, description="来源会话：工单由哪次在线咨询对话转来（`GET /api/v1/assistant/sessions/{session_id}` 读完整对话）；只对热线中心的话务员、督办员和管理员显示"
    )


class TicketPage(BaseModel):
    items: list[TicketOut]
    total: int
    page: int
    per_page: int


class TrackEvent(BaseModel):
    at: datetime
    text: str


class TrackOut(BaseModel):
    number: str
    status: str
    status_label: str
    type: str
    title: str
    created_at: datetime
    unit: str | None
    reply: str | None
    callback_due: bool
    callback: dict | None
    timeline: list[TrackEvent]
    reply_files: list[ReplyFileOut] = Field(default=[], description="The 答复's photos and PDFs; each `url` opens for 30 minutes, for this order only")


class CaseOut(BaseModel):
    """类案参考: an answered order like this one, and its official reply."""

    number: str
    title: str
    unit: str | None
    replied_at: datetime | None
    satisfaction: str | None
    reply: str
    similarity: float = Field(description="0–1, character-bigram cosine over the matter and the past reply")
