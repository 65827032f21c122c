"""The public site: home, 我要反映 (submit), 进度查询 (track) with the requester's rating."""

import secrets

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from baishitong import validation_text
from baishitong.actors import REQUESTER
from baishitong.attachments import service as attachments
from baishitong.dates import day_text
from baishitong.deps import client_id, get_db_session
from baishitong.enterprise import service as enterprise
from baishitong.enterprise.models import Policy
from baishitong.errors import DomainError, NotFound
from baishitong.org.models import Region
from baishitong.routing.service import LeadHint
from baishitong.sla import service as sla
from baishitong.sla.policy import Stage, match
from baishitong.tickets import schemas, service
from baishitong.tickets.models import Ticket
from baishitong.tickets.states import Status
from baishitong.tickets.validation import normalise_number
from baishitong.web.assistant import conversation_prefill, own_conversation_id
from baishitong.web.csrf import checked_form
from baishitong.web.views import iso, redirect, render

router = APIRouter(include_in_schema=False)

TYPE_HELP = [
    ("咨询", "咨询：政策、办事流程等问题"),
    ("求助", "求助：生活中遇到困难需要帮助"),
    ("投诉", "投诉：权益受损、服务不到位"),
    ("举报", "举报：违法违规行为线索"),
    ("建议", "建议：对工作提出意见建议"),
    ("表扬", "表扬：为好人好事点赞"),
]
STEPS = ["受理", "派单", "办理", "答复", "回访"]
_DUE_OF = {"sign": "sign_due", "reply": "reply_due", "close": "close_due"}
# Once the requester has rated (callback), every step they take part in is done.
_STEP_OF = {"registered": 0, "returned": 1, "dispatched": 1, "signed": 2, "replied": 3, "callback": 5, "closed": 5, "archived": 5}
_STAGE_LABELS = {"sign": "签收", "contact": "联系诉求人", "reply": "答复", "close": "办结"}
# Channels a public form may state: 我要反映 itself, and 惠企政策's 我要咨询 (the 24-hour enterprise
# service platform, whose requests get the enterprise time limits). Never hotline, api, etc.
PUBLIC_CHANNELS = ("web", "enterprise")
_FIELD_OF = {"type": "type", "content": "content", "title": "title", "address": "address", "requester.phone": "phone", "requester.name": "name"}


def _page_routes(request: Request) -> frozenset[str]:
    return request.app.state.page_paths


@router.get("/")
def home(request: Request):
    routes = _page_routes(request)
    tiles = [("/submit", "我要反映", "投诉、求助、建议、咨询，网上提交", True), ("/track", "进度查询", "凭工单号和手机号查询办理进度", False)]
    for path, title, desc in (
        ("/assistant", "问政务君", "智能问答，政策办事即问即答"),
        ("/enterprise", "惠企政策", "查找适合企业的扶持政策和融资产品"),
        ("/points", "办事网点", "查找附近的行政服务中心"),
        ("/booking", "预约查询", "查看、改约或取消办事预约"),
        ("/items", "办事指南", "事项材料、流程、时限一目了然"),
        ("/kb", "知识库", "常见问题与政策解读"),
    ):
        if path in routes:
            tiles.append((path, title, desc, False))
    return render(request, "public/home.html", {"tiles": tiles, "nav": "/"})


def _regions(session: Session) -> list[dict]:
    """Towns with their communities, for the picker (one query; regions are reference data)."""
    rows = session.scalars(select(Region).order_by(Region.code)).all()
    towns = {r.id: {"code": r.code, "name": r.short_name, "communities": []} for r in rows if r.kind == "town"}
    for r in rows:
        if r.kind == "community" and r.parent_id in towns:
            towns[r.parent_id]["communities"].append((r.code, r.short_name))
    return list(towns.values())


def _submit_page(request: Request, session: Session, *, values: dict, errors: dict, status_code: int = 200):
    values.setdefault("idempotency_key", secrets.token_urlsafe(18))
    towns = _regions(session)
    town = values.get("town")
    communities = next((t["communities"] for t in towns if t["code"] == town), None)
    return render(
        request,
        "public/submit.html",
        {"values": values, "errors": errors, "types": TYPE_HELP, "towns": towns, "town_communities": communities, "nav": "/submit", "max_mb": request.app.state.settings.upload_max_bytes // (1024 * 1024)},
        status_code=status_code,
    )


@router.get("/submit")
def submit_form(request: Request, session: Session = Depends(get_db_session)):
    """The empty form, or one prefilled for the citizen to check and send: from the query (惠企政策's 我要咨询),
    or with `from=assistant` from their own 政务君 conversation, whose phone never goes into a URL."""
    query = request.query_params
    values = {k: query.get(k, "")[:5000] for k in ("title", "content", "address")} | {"phone": "", "type": query.get("type")}
    region = query.get("region", "")
    if query.get("from") == "assistant" and (prefill := conversation_prefill(request, session)):
        values.update(type=prefill["type"], content=prefill["content"], address=prefill["address"] or "", phone=prefill["requester"]["phone"] or "", source="assistant")
        region = prefill["region_code"] or ""
    values["type"] = values["type"] if values["type"] in {t for t, _ in TYPE_HELP} else "投诉"
    values["channel"] = _channel(query.get("channel"))
    values["policy"] = query.get("policy", "")[:12] if values["channel"] == "enterprise" else ""
    values["town"], values["community"] = _town_and_community(_regions(session), region)
    return _submit_page(request, session, values=values, errors={})


def _policy_issuer(session: Session, policy_id: str) -> LeadHint | None:
    """A question about a published 惠企政策 goes to the unit that issued it, which answers for it."""
    if not policy_id.isdigit():
        return None
    try:
        policy = enterprise.get(session, Policy, row_id=int(policy_id))
    except NotFound:
        return None
    return LeadHint(unit_code=policy.unit.code, reason=f"咨询惠企政策《{policy.title}》，派发文单位{policy.unit.name}答复")


def _channel(value) -> str:
    return value if value in PUBLIC_CHANNELS else "web"


def _town_and_community(towns: list[dict], region: str) -> tuple[str, str]:
    for town in towns:
        if region == town["code"]:
            return region, ""
        if region in {code for code, _ in town["communities"]}:
            return town["code"], region
    return "", ""


@router.get("/submit/communities")
def communities(request: Request, town: str = "", session: Session = Depends(get_db_session)):
    """The community select for one town (htmx swaps it in when the town changes)."""
    towns = _regions(session)
    chosen = next((t for t in towns if t["code"] == town), None)
    return render(request, "public/_communities.html", {"towns": towns, "town_communities": chosen["communities"] if chosen else None, "values": {}})


def _region_code(towns: list[dict], town: str, community: str) -> tuple[str | None, str | None]:
    """(region code, error); a community must belong to the chosen town."""
    chosen = next((t for t in towns if t["code"] == town), None)
    if chosen is None:
        return None, "请选择事发地所在镇街"
    if community:
        if community not in {code for code, _ in chosen["communities"]}:
            return None, "所选村居不属于该镇街，请重新选择"
        return community, None
    return town, None


@router.post("/submit")
def submit(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    request.app.state.rate_limiter.hit("intake", request.client.host if request.client else "unknown", limit=request.app.state.settings.intake_rate_limit_per_minute)
    values = {k: form.get(k, "") for k in ("type", "title", "content", "town", "community", "address", "name", "phone", "idempotency_key", "policy", "source")}
    values["channel"] = _channel(form.get("channel"))
    values.update(consent=bool(form.get("consent")), anonymous=bool(form.get("anonymous")), confidential=bool(form.get("confidential")))
    errors: dict[str, str] = {}
    region_code, region_error = _region_code(_regions(session), values["town"], values["community"])
    if region_error:
        errors["community" if values["town"] else "town"] = region_error
    if not values["consent"]:
        errors["consent"] = "请阅读并同意个人信息保护说明"
    photos = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
    checked, photo_error = attachments.check_images(photos, max_bytes=request.app.state.settings.upload_max_bytes)
    if photo_error:
        errors["photos"] = photo_error
    data = None
    try:
        data = schemas.TicketCreate.model_validate(
            {
                "type": values["type"] or None,
                "title": values["title"] or None,
                "content": values["content"],
                "address": values["address"] or None,
                "region_code": region_code,
                "channel": values["channel"],
                "requester": {"name": values["name"] or None, "phone": values["phone"]},
                "anonymous": values["anonymous"],
                "confidential": values["confidential"],
            }
        )
    except ValidationError as exc:
        errors.update(_field_errors(exc))
    if errors:
        if checked and not photo_error:
            # A browser never refills a file input, so say so rather than drop the photos silently.
            errors["photos"] = "提交未成功，照片未保存，请重新选择照片"
        return _submit_page(request, session, values=values, errors=errors)
    try:
        ticket, created = service.create_ticket(
            session, data=data, actor=REQUESTER, idempotency_key="web:" + values["idempotency_key"] if values["idempotency_key"] else None,
            lead_hint=_policy_issuer(session, str(values["policy"])) if values["channel"] == "enterprise" else None, self_service=True,
            # 转为工单 from 政务君: the visitor's own conversation, by their cookie, never an id the form names.
            conversation_id=own_conversation_id(request, session) if values["source"] == "assistant" else None,
        )
    except DomainError as exc:
        session.rollback()
        return _submit_page(request, session, values=values, errors={"form": exc.message})
    # Sent again with the photos the first sending lacked (Back to add them): they join the order registered.
    if checked and (created or not attachments.intake_photos(session, ticket=ticket)):
        try:
            attachments.store(session, ticket=ticket, files=checked, var_dir=request.app.state.settings.var_dir, uploaded_by="requester")
        except attachments.StorageFailed as exc:
            # The order goes with its photos (not registered without them, nor its messages sent): the form
            # comes back as typed, saying so, to be sent again.
            session.rollback()
            session.info.pop("after_commit", None)
            errors = {"form": exc.message, "photos": "提交未成功，照片未保存，请稍后重新选择照片再提交"}
            return _submit_page(request, session, values=values, errors=errors, status_code=503)
    # Sent again (Back and 提交反映 once more, or a double tap): the order already registered, said so.
    return redirect(f"/submit/done/{ticket.number}" + ("" if created else "?again=1"))


def _field_errors(exc: ValidationError, *, too_short: str = "请详细描述您反映的问题，不少于 5 个字", no_phone: str = "请填写联系电话") -> dict[str, str]:
    """Messages per form field; `too_short` and `no_phone` are worded for whoever fills the form in (citizen or operator)."""
    errors = {}
    for error in exc.errors():
        field = _FIELD_OF.get(".".join(str(p) for p in error["loc"]), "form")
        message = validation_text.describe(error)
        if error["type"] == "string_too_short" and field == "content":
            message = too_short
        elif error["type"] == "string_too_long":
            message = "内容过长，请精简后再提交"
        elif field == "type":
            message = "请选择诉求类型"
        elif field == "phone" and (error["type"] == "missing" or not str(error.get("input") or "").strip()):
            message = no_phone  # an empty box is not a wrongly written number
        errors.setdefault(field, message)
    return errors


def statutory_limits(session: Session, ticket: Ticket) -> list[tuple]:
    """The time limits of the rule this ticket falls under, worded for citizens."""
    policy = sla.current_policy(session)
    rule = match(sla.policy_rules(policy), type=ticket.type, channel=ticket.channel, urgency=ticket.urgency, category_code=ticket.category.code if ticket.category else None)
    unit_text = {"working_days": "个工作日", "working_hours": "个工作小时", "hours": "小时"}
    result = []
    for stage in (Stage.SIGN, Stage.REPLY, Stage.CLOSE):
        limit = rule.stages.get(stage)
        if limit is not None:
            amount = int(limit.amount) if float(limit.amount).is_integer() else limit.amount
            due = getattr(ticket, _DUE_OF[str(stage)])
            result.append((_STAGE_LABELS[str(stage)], f"{amount}{unit_text.get(str(limit.unit), str(limit.unit))}", due))
    return result


@router.get("/submit/done/{number}")
def submit_done(number: str, request: Request, session: Session = Depends(get_db_session)):
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    # Only the number is shown, which the submitter already has; nothing personal.
    if ticket is None or ticket.channel not in PUBLIC_CHANNELS:
        raise NotFound("ticket_not_found", "未找到该工单")
    again = request.query_params.get("again") == "1"
    return render(request, "public/done.html", {"ticket": ticket, "again": again, "limits": statutory_limits(session, ticket), "steps": STEPS, "nav": "/submit"})


def _step(ticket: Ticket) -> int:
    if ticket.status == Status.MERGED:  # handled with its master, whose reply it shares
        return 5 if ticket.callback_at or ticket.closed_at else 3 if ticket.replied_at else 2
    return _STEP_OF.get(ticket.status, 0)


def _track_context(request: Request, session: Session, ticket: Ticket, phone: str) -> dict:
    step = _step(ticket)
    files = attachments.shown_on_track(session, secret_key=request.app.state.settings.secret_key, ticket=ticket, client=client_id(request))
    return {
        "ticket": ticket,
        "phone": phone,
        "steps": STEPS,
        "step": step,
        "unit": service.handling_unit(ticket),
        "timeline": [{"at": day_text(e.at, year="auto", time=True), "datetime": iso(e.at), "label": e.text} for e in reversed(service.requester_timeline(ticket))],
        "callback_due": service.callback_due(ticket),
        "reply_files": [(a, link) for a, link, _ in files],
        "reply_inline": {a.id: src for a, _, src in files if src},
    }


@router.get("/track")
def track_form(request: Request, number: str = "", session: Session = Depends(get_db_session)):
    return render(request, "public/track.html", {"values": {"number": number}, "nav": "/track"})


@router.post("/track")
def track(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    request.app.state.rate_limiter.hit("track", request.client.host if request.client else "unknown", limit=request.app.state.settings.track_rate_limit_per_minute)
    number, phone = normalise_number(str(form.get("number", ""))), str(form.get("phone", "")).strip()
    try:
        ticket = service.track(session, number=number, phone=phone)
    except NotFound as exc:
        return render(request, "public/track.html", {"values": {"number": number, "phone": phone}, "not_found": exc.message, "nav": "/track"})
    return render(request, "public/track.html", {"values": {"number": number, "phone": phone}, **_track_context(request, session, ticket, phone), "nav": "/track"})


@router.post("/track/callback")
def track_callback(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    request.app.state.rate_limiter.hit("track", request.client.host if request.client else "unknown", limit=request.app.state.settings.track_rate_limit_per_minute)
    number, phone = str(form.get("number", "")), str(form.get("phone", ""))
    solved, satisfaction = form.get("solved"), form.get("satisfaction")
    try:
        ticket = service.track(session, number=number, phone=phone)
    except NotFound as exc:
        return render(request, "public/track.html", {"values": {"number": number, "phone": phone}, "not_found": exc.message, "nav": "/track"})
    errors = {}
    if solved not in ("yes", "no"):
        errors["solved"] = "请选择问题是否已解决"
    if satisfaction not in ("满意", "基本满意", "不满意"):
        errors["satisfaction"] = "请选择满意程度"
    messages = []
    status_code = 422 if errors else 200
    if not errors:
        try:
            ticket = service.public_callback(session, number=number, phone=phone, solved=solved == "yes", satisfaction=satisfaction)
            messages.append(("success", "感谢您的评价！我们将持续改进服务。"))
        except DomainError as exc:
            session.rollback()
            ticket = service.track(session, number=number, phone=phone)
            messages.append(("info" if exc.code == "already_rated" else "error", exc.message))
            # Not recorded (already rated, as by a refresh or a double tap; or not open to rating): the page says so
            # with the rating that stands, and the status says it too (409, as the API), not 200 as if it were taken.
            status_code = exc.status_code
    values = {"number": number, "phone": phone, "solved": solved, "satisfaction": satisfaction}
    context = {"values": values, **_track_context(request, session, ticket, phone), "callback_errors": errors, "messages": messages, "nav": "/track"}
    return render(request, "public/track.html", context, status_code=status_code)
