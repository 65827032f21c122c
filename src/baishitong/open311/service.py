"""Open311 over the platform: categories are services (a request is filed under a leaf, the levels
above are listed too, since an order the router has placed only under a heading carries that code),
work orders are service requests."""

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from baishitong import bounds, security, validation_text
from baishitong.actors import Actor
from baishitong.db import utcnow
from baishitong.errors import Forbidden, InvalidInput, NotFound
from baishitong.open311 import schemas
from baishitong.org import service as org
from baishitong.org.models import Category, Region
from baishitong.tickets import schemas as ticket_schemas
from baishitong.tickets import service as tickets
from baishitong.tickets.models import IdempotencyKey, Ticket
from baishitong.tickets.states import FINAL_STATUSES, STATUS_LABELS, TRANSITIONS, Status
from baishitong.tickets.validation import normalise_phone

MAX_RESULTS = 1000
# At most this much of a client's service_code is repeated in an error: the code can be any length, the message stays short.
ECHOED_CODE_CHARS = 64
DEFAULT_WINDOW = timedelta(days=90)
DEFAULT_TYPE = "投诉"
# What people usually mean under each level-1 heading, when the client does not say.
TYPE_BY_GROUP = {
    "劳动和社会保障": "咨询",
    "教育文体": "咨询",
    "卫生计生": "咨询",
    "企业服务": "咨询",
    "农业农村": "咨询",
    "政务服务": "咨询",
    "公安政法": "求助",
    "民政社区": "求助",
}
TYPE_BY_LEAF = {"表扬感谢": "表扬", "意见建议": "建议"}


def _group(category: Category) -> Category:
    node = category
    while node.parent is not None:
        node = node.parent
    return node


def default_type(category: Category) -> str:
    return TYPE_BY_LEAF.get(category.name) or TYPE_BY_GROUP.get(_group(category).name, DEFAULT_TYPE)


def _service_out(category: Category) -> schemas.ServiceOut:
    """A heading (level 1 or 2) has no form of its own: requests are filed under its leaves."""
    return schemas.ServiceOut(
        service_code=category.code,
        service_name=category.name,
        description=category.path if category.level == 3 else f"{category.path}（分类，提交请求时请选择其下的具体事项）",
        metadata=category.level == 3,
        keywords=", ".join(n for n in (category.parent.name if category.parent else None, category.name) if n),
        group=_group(category).name,
    )


def list_services(session: Session) -> list[schemas.ServiceOut]:
    return [_service_out(c) for c in sorted(org.list_categories(session), key=lambda c: c.code) if c.active]


def _leaf(session: Session, code: str | None) -> Category | None:
    category = session.scalar(select(Category).where(Category.code == code)) if code else None
    return category if category is not None and category.active and category.level == 3 else None


def _echoed(code: str) -> str:
    return code if len(code) <= ECHOED_CODE_CHARS else code[: ECHOED_CODE_CHARS - 1] + "…"


def _heading(session: Session, code: str) -> Category | None:
    return session.scalar(select(Category).where(Category.code == code, Category.active.is_(True)))


def service_definition(session: Session, *, code: str) -> schemas.ServiceDefinition:
    category = _leaf(session, code)
    if category is None:
        heading = _heading(session, code) if code else None
        if heading is not None:
            raise NotFound("service_is_a_heading", f"{code}（{heading.name}）是分类标题，没有服务定义；请选择其下以 {code} 开头的具体服务")
        raise NotFound("service_not_found", f"服务 {_echoed(code)} 不存在")
    default = default_type(category)
    return schemas.ServiceDefinition(
        service_code=category.code,
        attributes=[
            schemas.Attribute(
                code="type",
                datatype="singlevaluelist",
                required=False,
                datatype_description=f"不填时按“{default}”受理",
                order=1,
                description="诉求类型",
                values=[schemas.AttributeValue(key=t, name=t) for t in ticket_schemas.TYPES],
            )
        ],
    )


# --- submitting -------------------------------------------------------------


def api_key_user(session: Session, api_key: str | None):
    """The active account an Open311 api_key (one of the platform's API tokens) belongs to, if any."""
    return org.user_for_api_token(session, token=api_key) if api_key and api_key.startswith(security.API_TOKEN_PREFIX) else None


def _submitter(session: Session, api_key: str | None) -> Actor:
    user = api_key_user(session, api_key)
    if user is None:
        raise Forbidden("invalid_api_key", "缺少或无效的 api_key，请使用平台签发的 API 令牌")
    if user.role not in TRANSITIONS["register"].roles:
        raise Forbidden("api_key_not_allowed", "该 API 令牌所属账号无权登记诉求")
    return Actor.for_user(user)


def _coordinate(value: str | None, name: str, limit: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput("invalid_location", f"{name} 必须是数字") from None
    if not -limit <= number <= limit:
        raise InvalidInput("invalid_location", f"{name} 超出有效范围")
    return number


def _location(data: schemas.RequestIn) -> ticket_schemas.LocationIn | None:
    if not data.lat and not data.long:
        if not data.address_string and not data.address_id:
            raise InvalidInput("location_required", "请提供位置：lat 和 long、address_string 或 address_id")
        return None
    if not data.lat or not data.long:
        raise InvalidInput("invalid_location", "lat 和 long 须同时提供")
    return ticket_schemas.LocationIn(lat=_coordinate(data.lat, "lat", 90), lon=_coordinate(data.long, "long", 180))


# The column's width: a longer address_id is no region's, and is not echoed back whole.
REGION_CODE_MAX = Region.__table__.c.code.type.length


def _region(session: Session, address_id: str | None) -> Region | None:
    """The spec's address_id is our gazetteer's region code (a town or community), not a free address: one not
    there is the client's mistake, a 400, where create_ticket would answer region_not_found with a 404."""
    if not address_id:
        return None
    region = session.scalar(select(Region).where(Region.code == address_id)) if len(address_id) <= REGION_CODE_MAX else None
    if region is None:
        shown = f" {address_id}" if len(address_id) <= REGION_CODE_MAX else ""
        raise InvalidInput("invalid_address_id", f"address_id{shown} 不是有效的区域编码，须为镇街或村居的编码（见 GET /api/v1/regions）")
    return region


def _region_address(region: Region) -> str:
    """What staff read as the address when the client sent only the code: 容桂街道高黎社区, or the town alone."""
    return region.name if region.parent is None else f"{region.parent.name}{region.short_name}"


def _ticket_create(session: Session, data: schemas.RequestIn) -> ticket_schemas.TicketCreate:
    if not data.service_code:
        raise InvalidInput("service_code_required", "请提供 service_code：services 列表中的具体服务")
    category = _leaf(session, data.service_code)
    if category is None:
        # The spec: a service_code not provided is a 400, one not found a 404.
        heading = _heading(session, data.service_code)
        if heading is not None:
            raise InvalidInput("service_is_a_heading", f"service_code {data.service_code}（{heading.name}）是分类标题，请选择其下以 {data.service_code} 开头的具体服务")
        raise NotFound("service_not_found", f"service_code {_echoed(data.service_code)} 不存在，请先查询 services 列表")
    type_ = data.attribute.get("type") or default_type(category)
    if type_ not in ticket_schemas.TYPES:
        raise InvalidInput("invalid_attribute", f"attribute[type] 必须是 {'、'.join(ticket_schemas.TYPES)} 之一")
    description = data.description or ""
    if ticket_schemas.visible_length(description) < ticket_schemas.CONTENT_MIN or len(description) > 5000:
        raise InvalidInput("invalid_description", "description 为诉求内容，须为 5 至 5000 字")
    if data.address_string and len(data.address_string) > 300:
        raise InvalidInput("invalid_address", "address_string 不能超过 300 字")
    if not data.phone:
        raise InvalidInput("phone_required", "请提供 phone：平台需要诉求人联系电话，以便回访和查询办理进度")
    try:
        phone = normalise_phone(data.phone)
    except ValueError as exc:
        raise InvalidInput("invalid_phone", f"phone 无效：{exc}") from None
    # Chinese names are written surname first.
    name = "".join(p for p in (data.last_name, data.first_name) if p) or None
    if name and len(name) > 64:
        raise InvalidInput("invalid_name", "first_name 与 last_name 合计不能超过 64 字")
    location = _location(data)
    region = _region(session, data.address_id)
    try:
        return ticket_schemas.TicketCreate(
            type=type_,
            content=description,
            address=data.address_string or (_region_address(region) if region else None),
            region_code=region.code if region else None,
            location=location,
            channel="api",
            category_code=category.code,
            requester=ticket_schemas.RequesterIn(name=name, phone=phone),
        )
    except ValidationError as exc:
        fields = "、".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        raise InvalidInput("invalid_request", f"请求参数有误：{fields}") from None


MEDIA_URL_MAX = 2048


def _media_url(value: str | None) -> str | None:
    """The spec's media_url, a link to the citizen's photo: kept for staff to open, never fetched. Only http and
    https: a javascript: or file: link on the order page would run or open something on the staff member's machine."""
    if not value:
        return None
    if len(value) > MEDIA_URL_MAX:
        raise InvalidInput("invalid_media_url", f"media_url 不能超过 {MEDIA_URL_MAX} 个字符")
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() or not c.isprintable() for c in value):
        raise InvalidInput("invalid_media_url", "media_url 须为以 http:// 或 https:// 开头的完整网址")
    return value


def submit(session: Session, *, data: schemas.RequestIn, idempotency_key: str | None) -> tuple[schemas.RequestCreated, bool]:
    """Registers the request as an "api" channel work order; a retried Idempotency-Key, or the same request from the
    same phone again within minutes (tickets.service.RESUBMIT_WINDOW), returns the first one."""
    actor = _submitter(session, data.api_key)
    media_url = _media_url(data.media_url)
    # A GeoReport app's user types the request themselves: sent again unchanged it is the order already registered.
    ticket, created = tickets.create_ticket(session, data=_ticket_create(session, data), actor=actor, idempotency_key=idempotency_key, self_service=True)
    if created:
        ticket.media_url = media_url
    notice = f"您的诉求已受理，工单编号 {ticket.number}，可凭工单编号和联系电话查询办理进度"
    return schemas.RequestCreated(service_request_id=ticket.number, service_notice=notice), created


# --- reading ----------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(tickets.LOCAL_TZ).isoformat(timespec="seconds") if value else None


def request_out(ticket: Ticket) -> schemas.RequestOut:
    """Status, place, responsible unit and the photo link sent: the description and the requester stay private."""
    timeline = tickets.requester_timeline(ticket)
    return schemas.RequestOut(
        service_request_id=ticket.number,
        status="closed" if ticket.status in FINAL_STATUSES else "open",
        status_notes=timeline[-1].text if timeline else None,
        service_name=ticket.category.name if ticket.category else None,
        service_code=ticket.category.code if ticket.category else None,
        agency_responsible=ticket.lead_unit.name if ticket.lead_unit else None,
        service_notice=STATUS_LABELS[Status(ticket.status)],
        requested_datetime=_iso(ticket.created_at),
        updated_datetime=_iso(ticket.updated_at),
        expected_datetime=_iso(ticket.reply_due),
        # As public as the place: the spec lists it, and a report's (举报) photo could say who took it.
        media_url=ticket.media_url if ticket.type != "举报" else None,
        **_public_place(ticket),
    )


# About 100 m: enough to see where a problem is, not which door the requester lives behind.
PUBLIC_COORDINATE_DECIMALS = 3


def _public_place(ticket: Ticket) -> dict:
    """The town and community (and its code, the spec's address_id), and rounded coordinates; never the free
    address, nothing for reports (举报)."""
    if ticket.type == "举报":
        return {"address": None, "address_id": None, "lat": None, "long": None}
    region = ticket.region
    place = None
    if region is not None:
        place = region.short_name if region.parent is None else f"{region.parent.short_name}{region.short_name}"
    lat, lon = ticket.lat, ticket.lon
    if lat is None and region is not None:
        lat, lon = region.lat, region.lon
    return {
        "address": place,
        "address_id": region.code if region is not None else None,
        "lat": round(lat, PUBLIC_COORDINATE_DECIMALS) if lat is not None else None,
        "long": round(lon, PUBLIC_COORDINATE_DECIMALS) if lon is not None else None,
    }


def _public():
    # Confidential (保密) orders are left out entirely: even the place can identify who reported.
    return select(Ticket).where(Ticket.confidential.is_(False)).options(selectinload(Ticket.events))


def get_request(session: Session, *, number: str) -> schemas.RequestOut:
    ticket = session.scalar(_public().where(Ticket.number == number.strip().upper()))
    if ticket is None:
        raise NotFound("request_not_found", f"服务请求 {number} 不存在")
    return request_out(ticket)


# A "+08:00" offset put in a query string without %2B arrives as " 08:00" (a + is a space in a URL's query).
_UNESCAPED_PLUS = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


def parse_datetime(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(_UNESCAPED_PLUS.sub(r"\1+\2", value.strip()))
    except ValueError:
        missing = validation_text.missing_day(value)
        raise InvalidInput("invalid_date", f"{name} 日期不存在：{missing}" if missing else f"{name} 须为 ISO 8601 时间，例如 2026-01-01T00:00:00+08:00") from None
    if not bounds.plausible(parsed):
        raise InvalidInput("invalid_date", f"{name} {bounds.YEARS}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tickets.LOCAL_TZ)


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def find_requests(
    session: Session,
    *,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    page: int = 1,
    page_size: int = MAX_RESULTS,
) -> list[schemas.RequestOut]:
    """The spec's query: ids override every other filter; otherwise the last 90 days, newest first, at most
    1000. `page`/`page_size` (the extension Chicago's and SeeClickFix's servers share) let a client that
    mirrors the requests walk a busy window in slices."""
    query = _public()
    ids = _split(service_request_id)
    if ids:
        query = query.where(Ticket.number.in_([i.upper() for i in ids[:MAX_RESULTS]]))
    else:
        end = parse_datetime(end_date, "end_date")
        start = parse_datetime(start_date, "start_date")
        if start is not None and end is not None and start > end:
            # GeoReport v2 makes a window that ends before it starts an error, not an empty list a client mistakes for "nothing new".
            raise InvalidInput("invalid_date_range", "start_date 不能晚于 end_date")
        if start is None:
            start = (end or utcnow()) - DEFAULT_WINDOW
        query = query.where(Ticket.created_at >= start)
        if end is not None:
            query = query.where(Ticket.created_at <= end)
        codes = _split(service_code)
        if codes:
            # Codes nest (01 ⊃ 0101 ⊃ 010101): a heading's code also finds the requests filed under its leaves.
            query = query.join(Category, Ticket.category_id == Category.id).where(or_(*(Category.code.startswith(code, autoescape=True) for code in codes)))
        wanted = set(_split(status))
        if wanted - {"open", "closed"}:
            raise InvalidInput("invalid_status", "status 只能是 open 或 closed")
        if wanted == {"open"}:
            query = query.where(Ticket.status.not_in(list(FINAL_STATUSES)))
        elif wanted == {"closed"}:
            query = query.where(Ticket.status.in_(list(FINAL_STATUSES)))
    rows = session.scalars(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).offset((page - 1) * page_size).limit(page_size))
    return [request_out(t) for t in rows]


def request_for_token(session: Session, *, token: str) -> list[schemas.RequestTokenOut]:
    """Our requests are created synchronously; the token is the client's Idempotency-Key, for clients that lost the reply.
    A key counts per account, so two integrations' requests may share one token: each is listed."""
    created = or_(IdempotencyKey.scope == tickets.CREATE_SCOPE, IdempotencyKey.scope.startswith(f"{tickets.CREATE_SCOPE}:", autoescape=True))
    numbers = select(IdempotencyKey.resource_id).where(IdempotencyKey.key == token, created)
    rows = session.scalars(select(Ticket).where(Ticket.number.in_(numbers), Ticket.confidential.is_(False)).order_by(Ticket.id)).all()
    if not rows:
        raise NotFound("token_not_found", "该 token 没有对应的服务请求")
    return [schemas.RequestTokenOut(service_request_id=t.number, token=token) for t in rows]
