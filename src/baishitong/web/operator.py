"""话务员工作台: phone intake with live routing, duplicates and knowledge answers; the dispatch, review and callback queues."""

import secrets
from datetime import datetime
from functools import partial
from math import ceil
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from baishitong.actors import Actor
from baishitong.assistant import service as assistant
from baishitong.attachments import service as attachments
from baishitong.db import utcnow
from baishitong.deps import get_db_session
from baishitong.errors import DomainError, NotFound
from baishitong.knowledge import service as knowledge
from baishitong.org import service as org
from baishitong.phrases import service as reply_phrases
from baishitong.routing import duplicates
from baishitong.routing import service as routing
from baishitong.routing.models import RoutingDecision, RoutingRule
from baishitong.security import mask_numbers_in_text
from baishitong.tickets import callers, schemas, service
from baishitong.tickets.models import Ticket
from baishitong.tickets.schemas import CHANNEL_LABELS, TYPES
from baishitong.tickets.states import FINAL_STATUSES, MISSED_CALLBACKS_TO_CLOSE, STATUS_LABELS
from baishitong.web import uploads
from baishitong.web.auth import Staff, require
from baishitong.web.chat import reveals_numbers, ticket_draft
from baishitong.web.csrf import checked_form
from baishitong.web.public import _field_errors
from baishitong.web.ticket import CALLBACK_OUTCOMES, candidate_names, confidence_view, decision_confidence, dispatch_units, perform, rule_view, suggested_lead, unit_names, warn_unseen
from baishitong.web.views import flash, fragment, page_number, redirect, render, section_pages, ticket_page

router = APIRouter(include_in_schema=False)

CENTRE = ("operator", "supervisor", "admin")
INTAKE = ("operator", "admin")
PER_PAGE = 20
# 待审核's sections (card ids): an action returns to its own with ?at= and the next row's anchor.
REVIEW_SECTIONS = ("returns", "extensions", "pauses", "routing-review")
REVIEW_ROWS = 50
# The console's 标记 boxes: (form field, value when ticked, label). The fields are TicketCreate's, named like
# the public form's; 企业诉求 is the enterprise channel, whose SLA rule gives the enterprise time limits.
FLAGS = (("urgency", "urgent", "紧急"), ("confidential", "1", "保密"), ("anonymous", "1", "匿名"), ("channel", "enterprise", "企业诉求"))
# The console's 更多 fields, folded away so the usual call is registered without them: a title instead of the
# content's first sentence, a 问题分类 instead of the classifier's, and for the unit a 派单说明 (plus co_units).
MORE = ("title", "category_code", "dispatch_note")
NOTE_MAX = schemas.ActionIn.model_fields["note"].metadata[0].max_length


def _suggestion(session: Session, *, actor: Actor, content: str, address: str, type: str | None, phone: str = "", category_code: str = "") -> dict:
    """The panel beside the form; a 问题分类 the operator chose routes as it will on registering, beside the model's own."""
    text = content.strip()
    history = callers.caller_history(session, phone=phone, actor=actor) if phone.strip() else None
    if len(text) < 4 and not address.strip():
        return {"empty": True, "history": history}
    chosen = org.find_category(session, code=category_code) if category_code else None
    s = routing.suggest(session, text=text, address=address or None, type=type if type in TYPES else None, category_code=chosen.code if chosen else None)
    hits = knowledge.search(session, query=text, top_k=3) if type == "咨询" and len(text) >= 4 else []
    answers = knowledge.answer_texts(session, external_ids=[h.id for h in hits])
    lead = s.lead_unit
    idle = org.units_without_accounts(session, unit_ids=[u.id for u in [lead, *s.co_units] if u is not None])
    return {
        "empty": False,
        "history": history,
        # In a new deployment (and in the demo) some units have no accounts yet: nobody would sign in the system.
        "unreachable": [u.name for u in [lead, *s.co_units] if u is not None and u.id in idle],
        "s": s,
        "confidence": confidence_view(s.confidence, s.threshold),
        "rule": rule_view(session, s.rule, lead=lead.name if lead else None),
        "candidates": candidate_names(session, s.top3),
        "duplicates": duplicates.find_duplicates(session, text=text, region_code=s.region.code if s.region else None),
        "hits": hits,
        "answers": answers,
        "type": type,
    }


def _console(request: Request, session: Session, *, actor: Actor, values: dict, errors: dict, messages: list[tuple[str, str]] | None = None):
    values.setdefault("idempotency_key", secrets.token_urlsafe(18))
    values.setdefault("type", "投诉")
    values.setdefault("after", "dispatch")
    values.setdefault("co_units", [])
    panel = _suggestion(
        session, actor=actor, content=values.get("content", ""), address=values.get("address", ""), type=values.get("type"), phone=values.get("phone", ""), category_code=values.get("category_code", "")
    )
    return render(
        request,
        "staff/console.html",
        {
            "values": values, "errors": errors, "types": [(t, t) for t in TYPES], "flags": FLAGS, "dispatch_units": dispatch_units(session),
            "categories": [(c.code, c.path) for c in org.list_categories(session)], "panel": panel, "nav": "/staff/console",
            "phrases": reply_phrases.usable(session, actor=actor),
            "messages": messages or [],
        },
    )


@router.get("/staff/console")
def console(
    request: Request, phone: str = "", chat: str = Query(default="", max_length=32), staff: Staff = Depends(require(*INTAKE)), session: Session = Depends(get_db_session)
):
    """`?phone=` is for the telephone system's screen pop (来电弹屏): the caller's number and history are there on answering.
    `?chat=` is 在线咨询's 转为工单: the form filled in from what the citizen wrote, instead of copied by hand.
    Never kept by the browser: Back showed the page as it was, 工单 … 已受理 of an earlier call over an empty form as if
    the call in hand had gone through; fetched again it shows no message (a half-taken call comes back from its draft)."""
    values = {"phone": phone.strip()[:20]} if phone.strip() else {}
    messages = []
    if chat:
        conversation = assistant.get_session(session, session_id=chat)
        draft = ticket_draft(conversation)
        if not reveals_numbers(conversation, staff):
            # The same rule as the conversation page: the citizen's numbers are for the operator serving them.
            # A colleague gets the matter without the phone, and whom to ask for it.
            draft = {**draft, "phone": "", "content": mask_numbers_in_text(draft["content"]) or ""}
            serving = assistant.operator_names(session, conversations=[conversation]).get(conversation.operator or "", conversation.operator)
            messages.append(("warning", f"该会话由{serving}接待，市民的联系电话只对其显示，请由其受理或向其核实后填写" if serving else "市民的联系电话只对接待的话务员显示，请核实后填写"))
        values = {name: draft[name] for name in ("type", "content", "address", "phone") if draft[name]} | {"chat": conversation.id}
    response = _console(request, session, actor=staff.actor, values=values, errors={}, messages=messages)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/staff/console/suggest")
def suggest(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(require(*INTAKE)), session: Session = Depends(get_db_session)):
    panel = _suggestion(
        session, actor=staff.actor, content=str(form.get("content", "")), address=str(form.get("address", "")), type=str(form.get("type", "")), phone=str(form.get("phone", "")),
        category_code=str(form.get("category_code", "")),
    )
    return fragment(request, "staff/_suggest.html", {"panel": panel})


@router.post("/staff/console")
def intake(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(require(*INTAKE)), session: Session = Depends(get_db_session)):
    values: dict = {k: str(form.get(k, "")).strip() for k in ("type", "content", "address", "phone", "name", "after", "lead_unit", "answer", "merge_into", "idempotency_key", "chat", *MORE)}
    values |= {name: value if form.get(name) == value else "" for name, value, _ in FLAGS}
    values["co_units"] = [c for c in dict.fromkeys(str(c) for c in form.getlist("co_units")) if c and c != values["lead_unit"]]
    errors: dict[str, str] = {}
    data = None
    try:
        data = schemas.TicketCreate.model_validate(
            {
                "type": values["type"] or None,
                "content": values["content"],
                "title": values["title"] or None,
                "category_code": values["category_code"] or None,
                "address": values["address"] or None,
                "channel": values["channel"] or "hotline",
                "urgency": values["urgency"] or "normal",
                "requester": {"name": values["name"] or None, "phone": values["phone"]},
                "anonymous": bool(values["anonymous"]),
                "confidential": bool(values["confidential"]),
            }
        )
    except ValidationError as exc:
        errors.update(_field_errors(exc, too_short="请记录来电人反映的问题，不少于 5 个字", no_phone="请填写来电号码"))
    if values["after"] == "answer" and len(values["answer"]) < 2:
        errors["answer"] = "请填写答复内容"
    elif values["after"] == "answer" and values["type"] != "咨询":
        errors["answer"] = "只有咨询可以直接答复办结：请把诉求类型改为“咨询”，或选择其他受理方式"
    if values["after"] == "merge" and not values["merge_into"]:
        errors["merge_into"] = "请填写要并入的工单号"
    elif values["after"] == "merge":
        # Said while the caller is on the line, with the call still in the form: registered first, the call
        # would wait in 待派单 for someone to find it and merge it again. A master closed after this check
        # still leaves the call registered (the follow-up's refusal below).
        errors |= _merge_target_error(session, number=values["merge_into"], actor=staff.actor)
    chosen = org.find_category(session, code=values["category_code"]) if values["category_code"] else None
    if values["category_code"] and not (chosen and chosen.active):
        errors["category_code"] = "请从列表中选择问题分类"
    if len(values["dispatch_note"]) > NOTE_MAX:
        errors["dispatch_note"] = f"派单说明不超过 {NOTE_MAX} 个字"
    elif values["after"] != "dispatch" and (values["dispatch_note"] or values["co_units"]):
        errors["dispatch_note"] = "派单说明和协办单位随派单发出，请选择“立即派单”，或清空这两项"
    files = _answer_files(request, form, after=values["after"], errors=errors)
    if errors:
        if files and "files" not in errors:
            errors["files"] = "请重新选择答复附件：退回的表单不保留已选的文件"
        return _console(request, session, actor=staff.actor, values=values, errors=errors)
    try:
        # Only "立即派单" without a chosen unit, note or co-handler leaves the dispatch to the router; an answer,
        # a hold or what the operator wrote for the unit must not be pre-empted by automatic dispatch.
        unattended = values["after"] == "dispatch" and not (values["lead_unit"] or values["dispatch_note"] or values["co_units"])
        ticket, created = service.create_ticket(
            session, data=data, actor=staff.actor, idempotency_key="console:" + values["idempotency_key"], auto_dispatch=unattended,
            conversation_id=_conversation_id(session, values["chat"]),
        )
    except DomainError as exc:
        session.rollback()
        return _console(request, session, actor=staff.actor, values=values, errors={"form": exc.message})
    outcome = "已受理"
    # A refused follow-up (an order to merge into that was finished since the form's check) leaves the call
    # registered in 待派单, and the message says so next to the reason.
    if created and values["after"] == "answer":
        done = perform(request, session, staff, number=ticket.number, action="answer", form=_FormLike(version=ticket.version, content=values["answer"], files=files))
        outcome = ("已受理并直接答复办结" + (f"（答复附件 {len(files)} 个）" if files else "")) if done else "已受理，暂存待派单"
    elif created and values["after"] == "merge":
        done = perform(request, session, staff, number=ticket.number, action="merge", form=_FormLike(version=ticket.version, into=values["merge_into"]))
        outcome = f"已受理并并入工单 {values['merge_into']}" if done else "已受理，暂存待派单"
    elif created and values["after"] == "dispatch" and ticket.status == "registered":
        lead = values["lead_unit"] or _decision_lead(session, ticket)
        sent = _FormLike(version=ticket.version, lead_unit=lead, note=values["dispatch_note"] or None, co_units=values["co_units"])
        if lead and perform(request, session, staff, number=ticket.number, action="dispatch", form=sent):
            outcome = f"已受理并派至 {ticket.lead_unit.name}"
        elif lead:
            outcome = "已受理，暂存待派单"
        elif disabled := _disabled_rule_lead(session, ticket):
            outcome = f"已受理，暂存待派单：派单目录匹配的主办单位 {disabled} 已停用，请在待派单中选择主办单位"
        else:
            outcome = "已受理，暂存待派单：智能分拨没有给出建议单位，请在待派单中选择主办单位"
    elif ticket.status == "dispatched" and ticket.lead_unit:
        outcome = f"已受理，智能分拨已自动派至 {ticket.lead_unit.name}"
        warn_unseen(request, session, number=ticket.number, action="dispatch")
    # The follow-up's own success line gives way to the console's; its errors stay, and its warnings (a unit
    # nobody will see the order in, so the operator phones it) come after the console's line.
    follow_up = getattr(request.state, "flash_out", [])
    request.state.flash_out = [m for m in follow_up if m[0] == "error"]
    marks = "、".join(label for name, _, label in FLAGS if values[name])  # 紧急、保密工单 SD… 已受理…
    flash(request, "success", f"{marks}工单 {ticket.number} {outcome}")
    for level, text in follow_up:
        if level == "warning":
            flash(request, level, text)
    return redirect("/staff/console")


def _conversation_id(session: Session, chat: str) -> str | None:
    """The 在线咨询 conversation the console was opened from (在话务受理台受理), for the order to link to; one gone
    or mistyped links nothing rather than lose the call."""
    try:
        return assistant.get_session(session, session_id=chat[:32]).id if chat else None
    except NotFound:
        return None


def _answer_files(request: Request, form: FormData, *, after: str, errors: dict[str, str]) -> list[UploadFile]:
    """The 答复附件 chosen for 直接答复办结, checked as the order page's 直接答复 checks them (web.ticket.perform stores
    and audits them with the answer) before the call is registered: one refused is said on the form, and nothing is
    registered or closed. Files with any other 受理后 are refused too, not dropped unseen."""
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not files:
        return []
    if after != "answer":
        errors["files"] = "答复附件只随直接答复办结发给来电人：请选择“直接答复办结”，或不选附件"
        return files
    try:
        attachments.check_reply_files(files, max_bytes=request.app.state.settings.upload_max_bytes)
    except DomainError as exc:
        errors["files"] = exc.message
    for upload in files:
        upload.file.seek(0)  # read again when the answer stores them
    return files


def _merge_target_error(session: Session, *, number: str, actor: Actor) -> dict[str, str]:
    """The 并入工单号 field's error when that order cannot take the call: not found (mistyped), or finished."""
    try:
        master = service.get_ticket(session, number=number, actor=actor)
    except DomainError as exc:
        return {"merge_into": exc.message}
    if master.status == "merged" and master.master is not None:
        return {"merge_into": f"工单 {master.number} 已并入 {master.master.number}，请改为并入 {master.master.number}"}
    if master.status in FINAL_STATUSES:
        return {"merge_into": f"工单 {master.number} {STATUS_LABELS[master.status]}，不能并入，请核对工单号或改为立即派单"}
    return {}


class _FormLike(dict):
    """Lets the console reuse the action endpoint's form parsing for the follow-up action."""

    def getlist(self, key: str) -> list:
        value = self.get(key)
        return [] if value is None else value if isinstance(value, list) else [value]


def _decision_lead(session: Session, ticket: Ticket) -> str | None:
    decision = routing.latest_decision(session, ticket_id=ticket.id)
    return decision.lead_unit if decision else None


def _disabled_rule_lead(session: Session, ticket: Ticket) -> str | None:
    """The name of the unit the matched catalogue rule names when that unit has been disabled since: why nobody was suggested."""
    decision = routing.latest_decision(session, ticket_id=ticket.id)
    rule = session.get(RoutingRule, decision.rule_id) if decision and decision.rule_id else None
    unit = org.find_unit(session, code=rule.lead) if rule else None
    return unit.name if unit is not None and not unit.active else None


def _decisions_for(session: Session, tickets: list[Ticket]) -> dict[int, RoutingDecision]:
    """The latest routing decision of each ticket on the page, in one query."""
    if not tickets:
        return {}
    latest = select(func.max(RoutingDecision.id)).where(RoutingDecision.ticket_id.in_([t.id for t in tickets])).group_by(RoutingDecision.ticket_id)
    return {d.ticket_id: d for d in session.scalars(select(RoutingDecision).where(RoutingDecision.id.in_(latest)))}


def _waited(since: datetime, now: datetime) -> str:
    """How long an order has been waiting, in a queue's words: 40 分钟, 5 小时, 2 天 3 小时."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, hours = divmod(minutes // 60, 24)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    return f"{hours} 小时" if hours else f"{minutes} 分钟"


def _queue_page(request: Request, total: int) -> tuple[int, int]:
    """The page in view and the page count; past the last page (its last order was just acted on) is the last."""
    pages = max(1, ceil(total / PER_PAGE))
    return min(page_number(request), pages), pages


def _row_url(path: str, page: int, number: str | None) -> str:
    """Where an action on a queue row comes back: the page at an order's row, which shows the outcome and takes
    the focus (the keyboard goes on from there, not from the top of the page), or the list when none is left."""
    query = urlencode(({"page": page} if page > 1 else {}) | ({"row": number} if number else {}))
    return f"{path}{'?' if query else ''}{query}#row-{number or 'list'}"


@router.get("/staff/console/dispatch")
def dispatch_queue(request: Request, row: str = "", staff: Staff = Depends(require(*CENTRE)), session: Session = Depends(get_db_session)):
    """Urgent orders first, then the longest waiting: an id order hid a two-day-old urgent complaint among the rest.
    派单 comes back to the order after the one sent (_row_url), a refused one to its own row."""
    waiting = Ticket.status == "registered"
    total = session.scalar(select(func.count()).select_from(Ticket).where(waiting)) or 0
    page, pages = _queue_page(request, total)
    order = (Ticket.urgency.desc(), Ticket.created_at, Ticket.id)  # "urgent" before "normal"; ix_tickets_dispatch_queue
    items = list(session.scalars(select(Ticket).where(waiting).order_by(*order).offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    now = utcnow()
    units = dispatch_units(session)
    decisions = _decisions_for(session, items)
    returns = service.approved_returns(session, ticket_ids=[t.id for t in items])
    suggestions = {t.id: suggested_lead(decisions.get(t.id), returns.get(t.id, [])) for t in items}
    threshold = request.app.state.settings.auto_dispatch_threshold
    confidence = {ticket_id: decision_confidence(d.confidence, d.evidence, threshold) for ticket_id, d in decisions.items()}
    return render(
        request,
        "staff/queue_dispatch.html",
        {
            "items": items, "total": total, "page": page, "pages": pages, "decisions": decisions,
            "landed": row if row in {t.number for t in items} else None, "row_url": partial(_row_url, "/staff/console/dispatch", page),
            "suggestions": suggestions, "confidence": confidence, "returns": returns, "waited": {t.id: _waited(t.created_at, now) for t in items},
            "dispatch_units": units, "unit_names": unit_names(units), "channel_labels": CHANNEL_LABELS,
            "page_url": lambda p: f"/staff/console/dispatch?page={p}", "nav": "/staff/console/dispatch",
        },
    )


def _review_tickets(role: str) -> dict:
    """待审核's order sections for a role: (where, order) by section."""
    return {
        "returns": (Ticket.status == "returned", Ticket.updated_at),
        # Extensions are decided by supervisors: an operator's page has no such section.
        **({"extensions": (and_(Ticket.status == "signed", Ticket.extension_days.is_not(None)), Ticket.updated_at)} if role in ("supervisor", "admin") else {}),
        # So are the pauses that need consent (SlaPolicy.pause_needs_approval), as on 督办台.
        **({"pauses": (and_(Ticket.status == "signed", Ticket.pause_request.is_not(None)), Ticket.updated_at)} if role in ("supervisor", "admin") else {}),
    }


def review_counts(session: Session, role: str) -> dict[str, int]:
    """How many rows each of 待审核's sections lists for a role; the staff nav's badge is their sum."""
    counts = {name: session.scalar(select(func.count()).select_from(Ticket).where(where)) or 0 for name, (where, _order) in _review_tickets(role).items()}
    counts["routing-review"] = routing.review_count(session)
    return counts


@router.get("/staff/console/review")
def review_queue(request: Request, at: str = "", failed: str = "", row: str = "", staff: Staff = Depends(require(*CENTRE)), session: Session = Depends(get_db_session)):
    """Each section pages on its own, like 督办台's; an action comes back to its section and page (queue_review.html)."""
    tickets = _review_tickets(staff.role)
    counts = review_counts(session, staff.role)
    page, pages = section_pages(request, at=at, counts=counts, per_page=REVIEW_ROWS)
    listed = {name: ticket_page(session, where, order, page=page[name], per_page=REVIEW_ROWS) for name, (where, order) in tickets.items()}
    reviews = routing.review_queue(session, limit=REVIEW_ROWS, offset=(page["routing-review"] - 1) * REVIEW_ROWS)
    units = dispatch_units(session)
    granted = service.granted_extensions(session, ticket_ids=[t.id for t in listed.get("extensions", [])])
    threshold = request.app.state.settings.auto_dispatch_threshold
    confidence = {d.id: decision_confidence(d.confidence, d.evidence, threshold) for d, _t in reviews}
    return render(
        request,
        "staff/queue_review.html",
        {
            "returned": listed["returns"], "extensions": listed.get("extensions", []), "granted": granted, "pauses": listed.get("pauses", []), "reviews": reviews, "confidence": confidence, "dispatch_units": units, "unit_names": unit_names(units),
            "categories": _quick_categories(org.list_categories(session), reviews) if reviews else {}, "counts": counts, "page": page, "pages": pages, "section_rows": REVIEW_ROWS, "page_urls": {name: partial(_review_url, name) for name in counts},
            "flash_at": at if at in REVIEW_SECTIONS else None, "failed": failed, "landed": failed or row, "nav": "/staff/console/review",
        },
    )


def _quick_categories(categories: list, reviews: list) -> dict[str, list[tuple[str, str]]]:
    """Each review row's 问题分类 choices: every level-1 category, and around the order's own category and the
    router's candidates their parents, siblings and sub-categories. The whole catalogue (about 300) in each of 50
    rows made the page a megabyte; a category further afield is chosen in the order page's 派单 form."""
    paths = {c.code: c.path for c in categories}
    names = {c.code: c.name for c in categories}
    by_name = {c.name: c.code for c in categories if c.parent_id is None}
    level1 = {code for code in paths if len(code) == 2}
    choices = {}
    for d, t in reviews:
        near = {t.category.code if t.category else None, d.category_code, ((d.evidence or {}).get("category_suggested") or {}).get("code")}
        near |= {by_name.get(c["label"], c["label"]) for c in d.top3 or []}
        prefixes = {code[:n] for code in near if code in paths for n in range(2, len(code) + 1, 2)}
        shown = level1 | {code for code in paths if code[:-2] in prefixes}
        # 路灯（城乡建设 › 市政设施）: the narrow select cuts its text at the end, where a path would name the category.
        choices[t.number] = [(code, f"{names[code]}（{paths[code[:-2]]}）" if code[:-2] in paths else names[code]) for code in sorted(shown)]
    return choices


def _review_url(section: str, page: int, row: str = "", failed: str = "") -> str:
    """A section of 待审核 at a page; `row` is the anchor within it (an order's number, or "list"), and `failed`
    the order whose action was refused, which the page anchors at its outcome if it has left the list. The
    order landed on is in the query too: the page shows the outcome in that row, where the focus is."""
    landed = f"&failed={failed}" if failed else (f"&row={row}" if row and row != "list" else "")
    query = (f"&page={page}" if page > 1 else "") + landed
    return f"/staff/console/review?at={section}{query}#{section}" + (f"-{row}" if row else "")


@router.get("/staff/console/callback")
def callback_queue(request: Request, row: str = "", staff: Staff = Depends(require(*CENTRE)), session: Session = Depends(get_db_session)):
    """记录回访 and 未回访办结 come back to the order after the one done; 记录未接通 to its own row, which stays."""
    due = service.callback_queue_clause()
    total = session.scalar(select(func.count()).select_from(Ticket).where(due)) or 0
    page, pages = _queue_page(request, total)
    # The page's ids first, then its rows: sorting whole rows of a two-branch condition (replied or merged)
    # costs about 20 ms with 100,000 orders, the ids alone come off the status index.
    ids = list(session.scalars(select(Ticket.id).where(due).order_by(Ticket.id).offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    items = list(session.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)))
    missed = service.missed_callback_counts(session, ticket_ids=[t.id for t in items])
    declined = service.declined_callbacks(session, ticket_ids=[t.id for t in items])
    context = {"missed": {t.id: missed.get(t.id, 0) for t in items}, "declined": declined, "outcomes": CALLBACK_OUTCOMES, "close_after": MISSED_CALLBACKS_TO_CLOSE, "reply_files": uploads.staff_reply_files(session, tickets=items)}
    return render(request, "staff/queue_callback.html", {**context, "items": items, "views": {t.id: service.requester_view(t, staff.actor) for t in items}, "total": total, "page": page, "pages": pages, "page_url": lambda p: f"/staff/console/callback?page={p}", "nav": "/staff/console/callback",
        "landed": row if row in {t.number for t in items} else None, "row_url": partial(_row_url, "/staff/console/callback", page)})
