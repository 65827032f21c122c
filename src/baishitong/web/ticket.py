"""The ticket page, the ticket list, and the one form endpoint behind every ticket action."""

from datetime import datetime, time, timedelta
from math import ceil
from typing import get_args
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from baishitong import bounds
from baishitong.attachments import service as attachments
from baishitong.deps import get_db_session
from baishitong.errors import BadChoice, DomainError
from baishitong.org.models import Category, Region, Unit, User
from baishitong.org import service as org
from baishitong.phrases import service as reply_phrases
from baishitong.routing import service as routing
from baishitong.routing.catalogue import TOWN
from baishitong.routing.models import RoutingDecision
from baishitong.security import mask_numbers_in_text
from baishitong.sla import service as sla
from baishitong.tickets import cases, schemas, service
from baishitong.tickets.models import Ticket
from baishitong.tickets.schemas import CHANNEL_LABELS, TYPES
from baishitong.tickets.service import LOCAL_TZ
from baishitong.tickets.states import ACTION_LABELS, EVENT_LABELS, STATUS_LABELS, TRANSITIONS, Party, Status
from baishitong.validation_text import describe as describe_error
from baishitong.web import uploads
from baishitong.web.auth import Staff, current_staff
from baishitong.web.chat import OPERATORS as CHAT_ROLES
from baishitong.web.csrf import checked_form
from baishitong.web.views import ACTOR_LABELS, flash, fragment, local, page_number, redirect, render, safe_next, take_flashed

router = APIRouter(include_in_schema=False)

PER_PAGE = 20
DISPATCH_KINDS = ("department", "town", "utility")
CALLBACK_OUTCOMES = [(o, o) for o in get_args(schemas.CallbackOutcome)]
CONTACT_OUTCOMES = [(o, o) for o in get_args(schemas.ContactOutcome)]
# Forms whose text a standard reply phrase (常用答复语) can be inserted into.
PHRASE_ACTIONS = ("reply", "answer", "contribute")
# Shown as buttons without extra fields; everything else opens a small form. 重办 asks for its reason,
# 催办 / 督办 take an optional note, since the unit reads them, and 首次联系 its outcome (reached or not).
PLAIN_ACTIONS = {"sign", "approve-return", "approve-extension", "approve-pause", "resume", "close", "archive"}
ACTION_ORDER = [
    "sign", "assign", "contact", "reply", "answer", "dispatch", "callback", "callback-declined", "callback-missed", "approve-return", "reject-return", "approve-extension", "reject-extension",
    "extend", "subdispatch", "contribute", "decline-co", "note", "pause", "approve-pause", "reject-pause", "resume", "return", "urge", "supervise", "redo", "close", "merge", "void", "archive",
]


def dispatch_units(session: Session) -> list[tuple[str, list[tuple[str, str]]]]:
    """Units a ticket may be dispatched to, grouped for <optgroup>."""
    rows = session.scalars(select(Unit).where(Unit.active.is_(True), Unit.kind.in_(DISPATCH_KINDS)).order_by(Unit.kind, Unit.id)).all()
    groups = {"town": ("镇街", []), "department": ("区直部门", []), "utility": ("公共服务企业", [])}
    for unit in rows:
        groups[unit.kind][1].append((unit.code, unit.name))
    return [groups[k] for k in ("town", "department", "utility") if groups[k][1]]


def retired_units(session: Session) -> list[tuple[str, str]]:
    """Dispatch units no longer in use (停用): never offered for a dispatch, but their old orders are still theirs,
    so 工单查询 lists them under 已停用 to find those."""
    rows = session.scalars(select(Unit).where(Unit.active.is_(False), Unit.kind.in_(DISPATCH_KINDS)).order_by(Unit.kind, Unit.id))
    return [(unit.code, unit.name) for unit in rows]


def unit_names(groups: list[tuple[str, list[tuple[str, str]]]]) -> dict[str, str]:
    """Unit names by code, from dispatch_units(), for showing a routing suggestion by name."""
    return {code: name for _, units in groups for code, name in units}


def candidate_names(session: Session, top3: list[dict]) -> list[Markup]:
    """The router's candidates by category name (models may be trained on codes), a finer one with the categories
    above it. A category listed beside one under it reads 城乡建设（其他）: the model's class for the rest of it.
    Each name stays on one line, so a path breaks only at its ›."""
    by_label = routing.reference(session).by_label
    found = [by_label.get(c["label"]) for c in top3]
    codes = [category.code for category in found if category is not None]

    def shown(label: str, category) -> Markup:
        if category is None:
            return Markup('<span class="nowrap">{}</span>').format(label)
        names = category.path.split(" › ") if category.level > 1 else [category.name]
        if any(code != category.code and code.startswith(category.code) for code in codes):
            names[-1] += "（其他）"
        return Markup(" › ").join(Markup('<span class="nowrap">{}</span>').format(name) for name in names)

    return [shown(c["label"], category) for c, category in zip(top3, found)]


def confidence_view(confidence: float | None, threshold: float) -> dict | None:
    """The classifier's confidence as an operator reads it: a percentage and 高 (at or above the auto-dispatch
    threshold: what would go out unattended), 中 (at least half of it) or 低; the raw score in `title`."""
    if confidence is None:
        return None
    word = "高" if confidence >= threshold else "中" if confidence >= threshold / 2 else "低"
    return {"text": f"{confidence:.0%}（{word}）", "word": word, "title": f"模型输出 {confidence:.4f}；自动派单阈值 {threshold:.0%}"}


def decision_confidence(confidence: float | None, evidence: dict | None, default_threshold: float) -> dict | None:
    """confidence_view of a recorded decision, against the threshold it was judged by (the one set now for decisions
    recorded before the evidence kept it)."""
    return confidence_view(confidence, (evidence or {}).get("threshold") or default_threshold)


def rule_view(session: Session, rule: dict | None, *, lead: str | None = None) -> dict | None:
    """The catalogue rule that chose the unit, named by what it matches (问题分类“城乡建设”、容桂 · 高黎社区、关键词“路灯”
    → 容桂街道) instead of its number, which with the catalogue version and its keywords goes in `title`. `lead`:
    the unit a rule for 事发镇街 named."""
    if not rule:
        return None
    ref = routing.reference(session)
    parts = []
    if prefix := rule.get("category_prefix"):
        category = ref.by_label.get(prefix)
        parts.append(f"问题分类“{category.path if category else prefix}”")
    if code := rule.get("region_code"):
        region = ref.regions.get(code)
        parts.append(((f"{region.parent.short_name} · " if region.parent else "") + region.short_name) if region else code)
    if rule.get("type"):
        parts.append(f"{rule['type']}类")
    if rule.get("keyword_hits"):
        parts.append("关键词“" + "、".join(rule["keyword_hits"]) + "”")
    named = rule.get("lead")
    unit = ref.units.get(named) if named else None
    # A rule whose unit was disabled since matches but suggests nobody (建议主办 —): the rule says why.
    lead_name = (f"事发镇街（{lead}）" if lead else "事发镇街") if named == TOWN else (unit.name + ("" if unit.active else "（已停用）")) if unit else named or "—"
    title = [f"派单目录 v{rule['catalogue_version']}" if rule.get("catalogue_version") else "派单目录", f"规则 #{rule['id']}"]
    if rule.get("keywords"):
        title.append("关键词：" + "、".join(rule["keywords"]))
    return {"text": "、".join(parts or ["任何诉求"]) + " → " + lead_name, "title": "，".join(title)}


# Beside a unit nobody could see an order in (see org.units_without_accounts).
NO_ACCOUNT_MARK = "（暂无在用账号）"


def sub_units(session: Session, ticket: Ticket) -> list[tuple[str, str]]:
    """The lead unit's villages and communities for 下派, those without an active account marked as such."""
    if ticket.lead_unit_id is None:
        return []
    rows = session.scalars(select(Unit).where(Unit.parent_id == ticket.lead_unit_id, Unit.active.is_(True)).order_by(Unit.code)).all()
    idle = org.units_without_accounts(session, unit_ids=[u.id for u in rows])
    return [(u.code, u.name + (NO_ACCOUNT_MARK if u.id in idle else "")) for u in rows]


def own_community(session: Session, ticket: Ticket) -> str | None:
    """The lead unit's 村（社区） the order is about (its located region), preselected for 下派."""
    if ticket.region is None or ticket.lead_unit_id is None:
        return None
    return session.scalar(select(Unit.code).where(Unit.parent_id == ticket.lead_unit_id, Unit.region_code == ticket.region.code, Unit.active.is_(True)))


def warn_unseen(request: Request, session: Session, *, number: str, action: str) -> None:
    """After a dispatch or 下派: the units it went to that have no active account, so the sender phones them."""
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    units = [ticket.sub_unit] if action == "subdispatch" else [ticket.lead_unit, *(c.unit for c in ticket.co_units)]
    idle = org.units_without_accounts(session, unit_ids=[u.id for u in units if u is not None])
    names = [u.name for u in units if u is not None and u.id in idle]
    if names:
        flash(request, "warning", f"{'、'.join(names)}在系统中暂无在用账号，无人会在系统中看到这张工单，请电话通知")


def _party_ok(ticket: Ticket, party: Party, staff: Staff) -> bool:
    if party is Party.ANY or not staff.actor.is_unit_staff:
        return True
    unit_id = staff.actor.unit_id
    lead, sub = ticket.lead_unit_id == unit_id, ticket.sub_unit_id == unit_id
    co = any(c.unit_id == unit_id for c in ticket.co_units)
    return {Party.LEAD: lead, Party.LEAD_OR_SUB: lead or sub, Party.CO: co}[party]


def _precondition(ticket: Ticket, action: str, staff: Staff) -> bool:
    """The checks the service makes beyond role and state, so the page offers only what can succeed."""
    if action == "decline-co":
        return not any(c.contribution for c in ticket.co_units if c.unit_id == staff.actor.unit_id)
    if action == "assign":
        # A handler takes only an order nobody has (我来办); handing one over is the unit admin's.
        return staff.role == "unit_admin" or ticket.assignee_id is None
    return {
        "approve-extension": bool(ticket.extension_days),
        "reject-extension": bool(ticket.extension_days),
        "extend": not ticket.extension_days,
        "pause": not ticket.paused and not ticket.pause_request,
        "approve-pause": bool(ticket.pause_request),
        "reject-pause": bool(ticket.pause_request),
        "resume": ticket.paused,
        "answer": ticket.type == "咨询",
        "redo": ticket.callback_at is not None and (not ticket.callback_solved or ticket.callback_satisfaction == "不满意"),
        "supervise": not ticket.supervised,
        "contact": ticket.contacted_at is None,
        "close": service.may_close(ticket),
        "callback": service.callback_due(ticket),
        # A requester who answered and declined to rate is not rung again as if nobody had answered.
        "callback-missed": service.callback_due(ticket) and not service.callback_declined(ticket),
        "callback-declined": service.callback_due(ticket) and not service.callback_declined(ticket),
    }.get(action, True)


def allowed_actions(ticket: Ticket, staff: Staff) -> list[str]:
    """Actions from tickets.states.TRANSITIONS this user may take on the ticket right now."""
    result = []
    for action in ACTION_ORDER:
        t = TRANSITIONS[action]
        if staff.role in t.roles and ticket.status in t.sources and _party_ok(ticket, t.party, staff) and _precondition(ticket, action, staff):
            result.append(action)
    return result


def body_from_form(action: str, form: FormData) -> schemas.ActionIn:
    """The API body model for an action, filled from form fields (raises ValidationError)."""
    data: dict = {"version": form.get("version", ""), "note": (form.get("note") or None)}
    if action == "dispatch":
        data["lead_unit"] = form.get("lead_unit", "")
        data["co_units"] = [c for c in form.getlist("co_units") if c and c != data["lead_unit"]]
        data["category_code"] = form.get("category_code") or None
    elif action in ("return", "void", "pause", "reject-return", "reject-extension", "reject-pause", "redo", "decline-co"):
        data["reason"] = form.get("reason", "")
    elif action == "extend":
        data["reason"], data["days"] = form.get("reason", ""), form.get("days", "")
    elif action in ("reply", "answer", "contribute"):
        data["content"] = form.get("content", "")
    elif action == "callback":
        data["solved"] = {"yes": True, "no": False}.get(str(form.get("solved")))
        data["satisfaction"] = form.get("satisfaction")
    elif action in ("callback-missed", "contact"):
        data["outcome"] = form.get("outcome")
    elif action == "merge":
        data["into"] = form.get("into", "")
    elif action == "subdispatch":
        data["unit"] = form.get("unit", "")
    elif action == "assign":
        data["assignee"] = form.get("assignee") or None
    elif action == "note":
        data["note"] = form.get("note", "")
    return schemas.ACTION_BODIES.get(action, schemas.ActionIn).model_validate(data)


_FIELD_NAMES = {"category_code": "问题分类", "outcome": "未接通原因", "reason": "原因", "content": "内容", "days": "延期天数", "lead_unit": "主办单位", "solved": "是否解决", "satisfaction": "满意度", "into": "主工单号", "unit": "下派单位", "assignee": "承办人", "note": "说明", "version": "版本"}


# Where one field name means something else in an action's form.
_ACTION_FIELD_NAMES = {"contact": {"outcome": "联系结果"}}


def validation_text(exc: ValidationError, action: str = "") -> str:
    parts = []
    names = {**_FIELD_NAMES, **_ACTION_FIELD_NAMES.get(action, {})}
    for error in exc.errors():
        field = names.get(str(error["loc"][0]) if error["loc"] else "", "内容")
        if error["type"] in ("missing", "string_too_short", "bool_type", "literal_error", "int_parsing", "bool_parsing"):
            if error["type"] == "string_too_short" and error.get("ctx", {}).get("min_length", 1) > 1:
                parts.append(f"{field}至少 {error['ctx']['min_length']} 个字")
            else:
                parts.append(f"请填写{field}" if error["type"] != "literal_error" else f"请选择{field}")
        else:
            parts.append(f"{field}：{describe_error(error)}")
    return "；".join(dict.fromkeys(parts))


# The change in between may be one's own, from another tab or window: the wording blames nobody.
STALE_TEXT = "工单刚刚已被更新（可能是您在其他窗口的操作或他人的操作），下方已是最新状态（见办理过程），请核对后再操作"
# On a queue or list page the order may have left the list: name it and say where to look.
STALE_ELSEWHERE_TEXT = "工单 {number} 刚刚已被处理或更新（可能是您在其他窗口的操作或他人的操作），请打开该工单核对最新状态后再操作"
# Where "已" + the action's label does not read as Chinese.
DONE_TEXT = {"assign": "已指派承办人", "contact": "已记录首次联系", "note": "已记录办理进展", "contribute": "已提交协办意见", "callback-missed": "已记录回访未接通",
             "callback-declined": "已记录诉求人接通但拒绝评价，不再回访，可直接办结"}


def perform(request: Request, session: Session, staff: Staff, *, number: str, action: str, form: FormData, on_ticket_page: bool = True) -> bool:
    """Runs one action; the outcome is flashed. Returns True on success.

    The action runs in a savepoint: a refused action undoes only itself, not what the request did
    before it (the console registers the call first, then answers, merges or dispatches it).
    """
    label = ACTION_LABELS.get(action, action)
    settings = request.app.state.settings
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename] if action in attachments.FILE_ACTIONS else []
    try:
        body = body_from_form(action, form)
        checked = attachments.check_reply_files(files, max_bytes=settings.upload_max_bytes) if files else []
        with session.begin_nested():
            ticket = service.act(session, number=number, action=action, actor=staff.actor, body=body)
            attachments.attach_to_event(session, ticket=ticket, action=action, files=checked, var_dir=settings.var_dir, actor=staff.actor)
    except ValidationError as exc:
        flash(request, "error", f"“{label}”未完成：{validation_text(exc, action)}")
        return False
    except DomainError as exc:
        # The page the user lands on is already the fresh one, so "refresh" would be the wrong advice.
        stale = STALE_TEXT if on_ticket_page else STALE_ELSEWHERE_TEXT.format(number=number)
        message = stale if exc.code == "version_conflict" else exc.message
        flash(request, "error", f"“{label}”未完成：{message}")
        return False
    done = DONE_TEXT.get(action, "已" + label)
    if action == "contact" and body.outcome not in schemas.CONTACT_REACHED:
        done = f"已记录联系未成功（{body.outcome}），联系时限继续计时"
    if action == "pause" and ticket.pause_request:
        done = "已申请暂停计时，督办员同意后才停止计时"
    if action == "assign":
        done = "已由您承办" if ticket.assignee_id == staff.actor.user_id else f"已指派给{ticket.assignee.display_name}承办"
    if checked:
        done += f"（附件 {len(checked)} 个）"
    flash(request, "success", f"工单 {number} {done}")
    if action in ("dispatch", "subdispatch"):
        warn_unseen(request, session, number=number, action=action)
    return True


# What an action form on the order page or the unit desk has typed in it, given back as typed when the action is refused.
KEPT_TEXT = ("content", "reason", "note", "days", "into")
KEPT_CHOICES = ("solved", "satisfaction", "outcome", "lead_unit", "category_code")


def kept_input(form: FormData) -> dict[str, str]:
    """The typed fields of a refused form; empty for a plain button's (it has none, and loses nothing by a redirect)."""
    if not any(name in form for name in KEPT_TEXT):
        return {}
    return {name: str(form.get(name)) for name in KEPT_TEXT + KEPT_CHOICES if isinstance(form.get(name), str)}


def kept_view(action: str, kept: dict[str, str]) -> dict:
    """kept_input() as an action panel shows it (templates/staff/_actions.html): the form filled in again, or, where
    the action is no longer offered, `text` to copy."""
    text = "\n".join(kept[name] for name in KEPT_TEXT if name != "days" and kept.get(name, "").strip())
    return {"action": action, "fields": kept, "text": text, "label": ACTION_LABELS.get(action, action)}


def refused_page(request: Request, session: Session, staff: Staff, *, number: str, action: str, kept: dict[str, str]):
    """A refused action typed on the order page comes back as the page, 422, with the reason at the top and the form
    open as it was typed: a redirect would lose the text (up to 10,000 characters, which no cookie holds), and without
    JavaScript nothing else keeps it. Where the action is no longer offered (someone acted first), what was typed is
    shown to copy. Chosen files are not kept: the reason names any that was refused."""
    messages = take_flashed(request)
    ticket = service.get_ticket(session, number=number, actor=staff.actor)
    context = ticket_context(request, session, staff, ticket)
    context["actx"]["kept"] = kept_view(action, kept)
    return render(request, "staff/ticket.html", context | {"nav": "/staff/tickets", "messages": messages}, status_code=422)


@router.post("/staff/tickets/{number}/act/{action}")
def act(number: str, action: str, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(current_staff), session: Session = Depends(get_db_session)):
    landing = safe_next(str(form.get("next", "")), f"/staff/tickets/{number}")
    on_ticket_page = landing.split("?")[0] == f"/staff/tickets/{number}"
    done = perform(request, session, staff, number=number, action=action, form=form, on_ticket_page=on_ticket_page)
    if done and action == "decline-co" and on_ticket_page:
        return redirect("/staff/unit")  # the unit no longer sees the order it left
    kept = kept_input(form)
    if not done and on_ticket_page and kept:
        return refused_page(request, session, staff, number=number, action=action, kept=kept)
    if not done and kept and urlsplit(landing).path == "/staff/unit" and staff.role in ("handler", "unit_admin"):
        from baishitong.web import unit  # it imports this module

        return unit.refused_desk(request, session, staff, landing=landing, number=number, action=action, kept=kept)
    if not done:
        # A queue that moves on after a success (待审核) names where a refusal lands: the row that failed.
        return redirect(safe_next(str(form.get("next_failed", "")), landing))
    return redirect(landing)


def _unit_labels(session: Session, ticket: Ticket, routing_out: dict | None) -> dict[str, str]:
    """Unit names by code, for the codes that dispatch and sub-dispatch events and the routing decision record."""
    codes = {routing_out.get("lead_unit"), routing_out.get("corrected_to")} if routing_out else set()
    for e in ticket.events:
        if e.action == "dispatch" and e.data:
            codes.update([e.data.get("lead_unit"), *(e.data.get("co_units") or [])])
        elif e.action == "subdispatch" and e.data:
            codes.add(e.data.get("unit"))
    codes.discard(None)
    return {code: name for code, name in session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes)))} if codes else {}


def _actor_names(session: Session, ticket: Ticket) -> dict[str, str]:
    """Display names of the staff in the timeline, in one query."""
    usernames = {e.actor for e in ticket.events} - set(ACTOR_LABELS)
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(usernames))).all() if usernames else []
    return {**ACTOR_LABELS, **{username: name for username, name in rows}}


def _timeline(ticket: Ticket, unit_names: dict[int, str], unit_labels: dict[str, str], actor_names: dict[str, str], files: dict[int, list]) -> list[dict]:
    """The order's events, newest first; `files`: each 答复's attachments by event id, shown with it."""
    items = []
    for e in reversed(ticket.events):
        data = e.data or {}
        label = "催办（重复来电）" if data.get("repeat_call") else "申请暂停计时" if data.get("pending") else EVENT_LABELS.get(e.action, e.action)
        details = [mask_numbers_in_text(e.note)] if e.note else []
        if data.get("reason"):
            details.append(f"原因：{data['reason']}")
        if data.get("content") and e.action in ("reply", "answer", "contribute", "master-reply"):
            details.append(mask_numbers_in_text(data["content"]))
        if data.get("content") and data.get("duplicate"):  # the repeat caller's own words (merged-in, or the urge it counted as)
            details.append(mask_numbers_in_text(data["content"]))
        if data.get("lead_unit") and e.action == "dispatch":
            co_units = "、".join(unit_labels.get(c, c) for c in data.get("co_units") or [])
            details.append(f"主办：{unit_labels.get(data['lead_unit'], data['lead_unit'])}" + (f"；协办：{co_units}" if co_units else ""))
            if data.get("category_name"):
                details.append(f"问题分类改为：{data['category_name']}")
            if data.get("clock_restarted"):
                details.append("改派：各环节时限自本次派单起重新计算")
        if data.get("unit") and e.action == "subdispatch":
            details.append(f"下派至：{unit_labels.get(data['unit'], data['unit'])}")
        if e.action == "assign":
            details.append(f"承办人：{data.get('assignee_name')}" + (f"（原承办人：{data['previous_name']}）" if data.get("previous_name") else ""))
        if e.action == "unassign":
            details.append(f"原承办人：{data.get('previous_name')}")
        if data.get("into"):
            details.append(f"并入主工单 {data['into']}")
        if data.get("duplicate"):
            details.append(f"重复件 {data['duplicate']}")
        if data.get("master"):
            details.append(f"主工单 {data['master']}")
        if data.get("days"):
            verb = {"extend": "申请延期", "approve-extension": "批准延期", "reject-extension": "未批准延期"}.get(e.action, "延期")
            details.append(f"{verb} {data['days']} 个工作日")
        if data.get("outcome") and e.action == "callback-missed":
            details.append(f"{data['outcome']}（第 {data.get('attempt', 1)} 次）")
        if data.get("outcome") and e.action == "contact":
            details.append(f"联系结果：{data['outcome']}" + ("" if service.contact_reached(e) else f"（第 {data.get('attempt', 1)} 次尝试）"))
        if "satisfaction" in data and e.action == "callback":
            details.append(f"{'已解决' if data.get('solved') else '未解决'}，{data['satisfaction']}")
        actor = actor_names.get(e.actor, e.actor) + (f" · {unit_names.get(e.unit_id, '')}" if e.unit_id else "")
        missed = e.action == "contact" and not service.contact_reached(e)
        tone = "warn" if missed else {"return": "warn", "urge": "warn", "supervise": "danger", "redo": "danger", "reply": "success", "close": "success"}.get(e.action)
        shown = [(a, uploads.staff_link(a)) for a in files.get(e.id, [])]
        items.append({"at": local(e.created_at), "label": label, "actor": actor, "note": "\n".join(details), "tone": tone, "files": shown, "files_noun": "协办意见附件" if e.action == "contribute" else "答复附件"})
    return items


def unit_staff(session: Session, *, unit_id: int) -> list[tuple[str, str]]:
    """(username, name) of the unit's active staff, whom its admin may name 承办人."""
    rows = session.execute(
        select(User.username, User.display_name).where(User.unit_id == unit_id, User.active.is_(True), User.role.in_(["handler", "unit_admin"])).order_by(User.display_name, User.username)
    )
    return [(username, f"{name}（{username}）") for username, name in rows]


def action_context(
    session: Session,
    staff: Staff,
    ticket: Ticket,
    *,
    next: str,
    units: list | None = None,
    phrases: list | None = None,
    pause_needs_approval: bool | None = None,
    assignees: list | None = None,
    extensions: int | None = None,
) -> dict:
    """What the action forms of one ticket need (see templates/staff/_actions.html); pages with many
    tickets pass the dispatch units, the reply phrases, the pause policy, the unit's staff and the order's
    granted extensions in, loaded once."""
    actions = allowed_actions(ticket, staff)
    # 延期 once the order has had its share: not offered, and the card says why instead.
    extension_limit = None
    if "extend" in actions:
        granted = extensions if extensions is not None else service.granted_extensions(session, ticket_ids=[ticket.id]).get(ticket.id, 0)
        if service.extension_limit_reached(granted):
            actions.remove("extend")
            extension_limit = service.extension_limit_text(granted)
    # A handler's only assignment is taking the order themselves: one button, 我来办; the admin picks from the unit's staff.
    takes_own = "assign" in actions and staff.role != "unit_admin"
    writes_text = any(a in PHRASE_ACTIONS for a in actions)
    returns = service.approved_returns(session, ticket_ids=[ticket.id]).get(ticket.id, []) if "dispatch" in actions else []
    subs = sub_units(session, ticket) if "subdispatch" in actions else []
    if "pause" in actions and pause_needs_approval is None:
        pause_needs_approval = sla.current_policy(session).pause_needs_approval
    pause_asks = "pause" in actions and bool(pause_needs_approval)
    labels = {**ACTION_LABELS, **({"pause": "申请暂停计时"} if pause_asks else {}), **({"assign": "我来办"} if takes_own else {})}
    return {
        "actions": actions,
        "plain_actions": PLAIN_ACTIONS | {"assign"} if takes_own else PLAIN_ACTIONS,
        "action_labels": labels,
        "pause_asks": pause_asks,
        "assignees": (assignees if assignees is not None else unit_staff(session, unit_id=ticket.lead_unit_id)) if "assign" in actions and not takes_own else [],
        "dispatch_units": (units if units is not None else dispatch_units(session)) if "dispatch" in actions else [],
        "categories": [(c.code, c.path) for c in org.list_categories(session)] if "dispatch" in actions else [],
        "sub_units": subs,
        "suggested_sub": own_community(session, ticket) if subs else None,
        "sub_units_unseen": any(name.endswith(NO_ACCOUNT_MARK) for _, name in subs),
        "suggested_lead": suggested_lead(routing.latest_decision(session, ticket_id=ticket.id), returns) if "dispatch" in actions else None,
        "returned_by": _returned_by(session, returns),
        "phrases": (phrases if phrases is not None else reply_phrases.usable(session, actor=staff.actor)) if writes_text else [],
        "callback_outcomes": CALLBACK_OUTCOMES,
        "contact_outcomes": CONTACT_OUTCOMES,
        "missed": service.missed_callbacks(ticket) if "callback-missed" in actions else 0,
        "extension_limit": extension_limit,
        # The reply form quotes each co-unit's 协办意见: with its files.
        "contribution_files": {
            unit_id: [(a, uploads.staff_link(a)) for a in rows] for unit_id, rows in attachments.contribution_files(session, ticket=ticket).items()
        } if "reply" in actions and ticket.co_units else {},
        "next": next,
    }


def _routing_view(request: Request, session: Session, decision: dict | None, unit_labels: dict[str, str]) -> dict:
    """智能分拨依据 in words."""
    if decision is None:
        return {}
    evidence = decision["evidence"] or {}
    lead = unit_labels.get(decision["lead_unit"]) if decision["lead_unit"] else None
    confidence = decision_confidence(decision["confidence"], evidence, request.app.state.settings.auto_dispatch_threshold)
    return {"confidence": confidence, "rule": rule_view(session, evidence.get("rule"), lead=lead)}


def ticket_context(request: Request, session: Session, staff: Staff, ticket: Ticket, *, revealed=None) -> dict:
    unit_names = {e.unit_id: e.unit.name for e in ticket.events if e.unit is not None}
    routing_out = routing.latest_decision_out(session, ticket=ticket)
    unit_labels = _unit_labels(session, ticket, routing_out)
    return {
        "ticket": ticket,
        "requester": revealed or service.requester_view(ticket, staff.actor),
        "revealed": revealed is not None,
        "can_reveal": staff.role in service.CONTACT_ROLES and not (ticket.confidential and staff.role not in service.CENTRE)
        and not (staff.actor.is_unit_staff and staff.actor.unit_id not in (ticket.lead_unit_id, ticket.sub_unit_id)),
        "actx": action_context(session, staff, ticket, next=f"/staff/tickets/{ticket.number}"),
        "timeline": _timeline(ticket, unit_names, unit_labels, _actor_names(session, ticket), attachments.by_event(session, ticket=ticket)),
        "routing": routing_out,
        "routing_view": _routing_view(request, session, routing_out, unit_labels),
        "candidates": candidate_names(session, routing_out["top3"] or []) if routing_out else [],
        "unit_labels": unit_labels,
        "attachments": attachments.intake_photos(session, ticket=ticket),
        "reply_files": uploads.staff_reply_files(session, tickets=[ticket]).get(ticket.id, []),
        "views": _named_views(session, service.personal_data_views(session, ticket=ticket)),
        "channel_label": CHANNEL_LABELS.get(ticket.channel, ticket.channel),
        # 来源会话 for those who may open the conversation (在线咨询's rule); the others are not told of it.
        "source_chat": ticket.assistant_session_id if staff.role in CHAT_ROLES else None,
        "redo": service.latest_redos(session, ticket_ids=[ticket.id]).get(ticket.id) if ticket.redo_count else None,
        "contact": _contact_state(ticket),
        "repeat_calls": service.repeat_call_count(session, ticket_id=ticket.id),
        # 已延期 N 次: the supervisors who decide the next request see how many went before.
        "extensions": service.granted_extensions(session, ticket_ids=[ticket.id]).get(ticket.id, 0) if staff.role in ("supervisor", "admin") else 0,
    }


def _contact_state(ticket: Ticket) -> str | None:
    """联系结果 on the order page: how the requester was reached, or the attempts that have not reached them."""
    attempts = [e for e in ticket.events if e.action == "contact"]
    reached = next((e for e in attempts if service.contact_reached(e)), None)
    if reached is not None:
        return f"{(reached.data or {}).get('outcome', '已联系')}（{local(reached.created_at)}）"
    if attempts:
        return f"尚未联系上：已尝试 {len(attempts)} 次，最近一次{attempts[-1].data['outcome']}（{local(attempts[-1].created_at)}）"
    return None


def _named_views(session: Session, views: list[dict]) -> list[dict]:
    """Viewers as the timeline names staff (容桂街道 何敏), not by login name."""
    usernames = {v["actor"] for v in views}
    rows = session.execute(select(User.username, User.display_name, Unit.name).outerjoin(Unit, User.unit_id == Unit.id).where(User.username.in_(usernames))).all() if usernames else []
    names = {username: f"{unit} {name}" if unit else name for username, name, unit in rows}
    return [{**v, "actor": names.get(v["actor"], v["actor"])} for v in views]


def _returned_by(session: Session, returns: list[tuple[str | None, str | None]]) -> list[str]:
    """"容桂街道：不属于本单位职责" for each approved return, shown beside the unit choice."""
    rows = session.execute(select(Unit.code, Unit.name).where(Unit.code.in_([u for u, _ in returns if u]))).all() if returns else []
    names = {code: name for code, name in rows}
    return [f"{names.get(unit, unit or '原承办单位')}{'：' + reason if reason else ''}" for unit, reason in returns]


def suggested_lead(decision: RoutingDecision | None, returns: list[tuple[str | None, str | None]]) -> str | None:
    """The router's unit (or an operator's correction of it), unless that unit has already returned the
    order (`service.approved_returns`): sending it back there is the one choice not to nudge towards."""
    lead = (decision.corrected_to or decision.lead_unit) if decision else None
    return None if lead in {unit for unit, _ in returns} else lead


@router.get("/staff/tickets/{number}")
def ticket_page(number: str, request: Request, staff: Staff = Depends(current_staff), session: Session = Depends(get_db_session)):
    ticket = service.get_ticket(session, number=number, actor=staff.actor)
    return render(request, "staff/ticket.html", ticket_context(request, session, staff, ticket) | {"nav": "/staff/tickets"})


QUOTE_ACTIONS = ("reply", "answer", "contribute")


@router.get("/staff/tickets/{number}/cases")
def ticket_cases(number: str, request: Request, staff: Staff = Depends(current_staff), session: Session = Depends(get_db_session)):
    """类案参考, loaded after the page (about 0.1–0.3 s of scoring); without JavaScript, the page with it inline."""
    ticket = service.get_ticket(session, number=number, actor=staff.actor)
    found = cases.similar_cases(session, ticket=ticket, actor=staff.actor)
    quote = next((a for a in QUOTE_ACTIONS if a in allowed_actions(ticket, staff)), None)
    context = {"cases": found, "ticket": ticket, "quote_into": f"a-{ticket.number}-{quote}-content" if quote else None}
    if request.headers.get("hx-request"):
        return fragment(request, "staff/_cases.html", context)
    return render(request, "staff/ticket.html", ticket_context(request, session, staff, ticket) | context | {"nav": "/staff/tickets"})


@router.post("/staff/tickets/{number}/reveal")
def reveal(number: str, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(current_staff), session: Session = Depends(get_db_session)):
    """Unmasks the requester's contact details; the service writes the audit row."""
    purpose = str(form.get("purpose", ""))[:200] or None
    requester = service.reveal_requester(session, number=number, actor=staff.actor, purpose=purpose)
    if request.headers.get("hx-request"):
        name = "staff/_requester_inline.html" if form.get("compact") else "staff/_requester.html"
        # On the order page the message itself is unmasked too, in place (an out-of-band swap).
        oob_content = None if form.get("compact") or requester.content == mask_numbers_in_text(requester.content) else requester.content
        return fragment(request, name, {"requester": requester, "revealed": True, "number": number, "oob_content": oob_content})
    ticket = service.get_ticket(session, number=number, actor=staff.actor)
    return render(request, "staff/ticket.html", ticket_context(request, session, staff, ticket, revealed=requester) | {"nav": "/staff/tickets"})


LIST_FILTERS = ("q", "status", "type", "channel", "unit", "category", "region", "from", "to", "dispatched_from", "dispatched_to", "callback", "matters")
# unit=none, category=none, region=none: the orders without one, as 统计分析 counts 未派单, 未分类 and 未定位.
NONE = service.NONE
NONE_LABELS = {"unit": "未派单", "category": "未分类", "region": "未定位"}
# callback=yes: the orders with a callback on record, as the 督办台 league's 回访数 counts them; no: those without.
CALLBACK_LABELS = {"yes": "有回访评价", "no": "无回访评价"}


def list_filters(request: Request) -> dict:
    q = request.query_params
    return {k: (q.get(k) or "").strip()[:100] for k in LIST_FILTERS}


def _days(filters: dict, prefix: str, label: str) -> tuple[datetime | None, datetime | None]:
    """A from/to pair of whole local days, `to` included, as the start of the first day and of the day after the last.
    None when not given; a date that cannot be read (or is out of range) is refused, not read as "no limit"."""
    start, end = (bounds.parse_day(filters[prefix + k], label) if filters[prefix + k] else None for k in ("from", "to"))
    if start and end and end < start:
        raise ValueError(f"{label}的结束日期不能早于开始日期")
    return (datetime.combine(start, time(), LOCAL_TZ) if start else None, datetime.combine(end + timedelta(days=1), time(), LOCAL_TZ) if end else None)


def _callback(value: str) -> bool | None:
    if value and value not in CALLBACK_LABELS:
        raise ValueError(f"回访“{value}”无效，只能是：" + "、".join(CALLBACK_LABELS.values()))
    return value == "yes" if value else None


def list_query(filters: dict) -> dict:
    """The list's filters as `service.list_tickets` takes them, shared by the list and its export. 受理日期 are whole
    local days, `to` included, as 统计分析 counts them, and 派单日期 (the latest dispatch) as the 督办台 league does;
    unreadable or reversed dates, or an unknown 回访 choice, are ValueError with the message."""
    created_from, created_to = _days(filters, "", "受理日期")
    dispatched_from, dispatched_to = _days(filters, "dispatched_", "派单日期")
    given = lambda name: filters[name] if filters[name] and filters[name] != NONE else None  # noqa: E731
    return {
        "status": [filters["status"]] if filters["status"] else None,
        "type": filters["type"] or None,
        "channel": filters["channel"] or None,
        "lead_unit": given("unit"),
        "category_root": given("category"),
        "region_code": given("region"),
        "without": [field for name, field in (("unit", "lead_unit"), ("category", "category"), ("region", "region")) if filters[name] == NONE],
        "query_text": filters["q"] or None,
        "created_from": created_from,
        "created_to": created_to,
        "dispatched_from": dispatched_from,
        "dispatched_to": dispatched_to,
        "callback": _callback(filters["callback"]),
        "matters_only": bool(filters["matters"]),
    }


@router.get("/staff/tickets")
def ticket_list(request: Request, staff: Staff = Depends(current_staff), session: Session = Depends(get_db_session)):
    filters = list_filters(request)
    page = page_number(request)
    messages = []
    try:
        items, total = service.list_tickets(session, actor=staff.actor, **list_query(filters), page=page, per_page=PER_PAGE)
    except (DomainError, ValueError) as exc:
        # Said on this page, above the empty list: a flash would only show on the next page opened.
        items, total = [], 0
        # A hand-typed code is answered in the names the filters show, not the codes the API names.
        messages.append(("error", exc.page_message if isinstance(exc, BadChoice) else exc.message if isinstance(exc, DomainError) else str(exc)))
    query = {k: v for k, v in filters.items() if v}
    retired = retired_units(session)
    return render(
        request,
        "staff/tickets.html",
        {
            "items": items,
            "total": total,
            "page": page,
            "pages": max(1, ceil(total / PER_PAGE)),
            "filters": filters,
            "page_url": lambda p: "/staff/tickets?" + urlencode({**query, "page": p}),
            "statuses": [(s.value, STATUS_LABELS[s]) for s in Status],
            "types": [(t, t) for t in TYPES],
            "channels": list(CHANNEL_LABELS.items()),
            "units": [(code, name) for _, group in dispatch_units(session) for code, name in group] + [(NONE, NONE_LABELS["unit"])] + ([("已停用", retired)] if retired else []),
            "categories": [(c.code, c.name) for c in session.scalars(select(Category).where(Category.parent_id.is_(None)).order_by(Category.code))] + [(NONE, NONE_LABELS["category"])],
            "towns": [(r.code, r.name) for r in session.scalars(select(Region).where(Region.parent_id.is_(None)).order_by(Region.code))] + [(NONE, NONE_LABELS["region"])],
            "callbacks": list(CALLBACK_LABELS.items()),
            "nav": "/staff/tickets",
            "messages": messages,
        },
    )
