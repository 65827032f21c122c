"""Who hears about what. Messages are rows first; a job sends each one, retrying with backoff."""

import re
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baishitong import clock
from baishitong.audit import service as audit
from baishitong.config import get_settings
from baishitong.dates import day_text
from baishitong.db import Database
from baishitong.jobs.service import MAX_ATTEMPTS, enqueue, retry_at
from baishitong.notify import senders
from baishitong.notify.models import Message, MessageTemplate
from baishitong.notify.templates import DEFAULT_TEMPLATES
from baishitong.org.models import User
from baishitong.logs import mask_secrets_in_text
from baishitong.tickets.models import Ticket, TicketEvent


def _local(value: datetime | None) -> str:
    """A deadline as the SMS reads it: 12月9日 17:30, the year only when it is not this year's."""
    return day_text(value, year="auto", time=True) if value else "—"


def template(session: Session, code: str) -> tuple[str, str]:
    row = session.scalar(select(MessageTemplate).where(MessageTemplate.code == code).order_by(MessageTemplate.version.desc()).limit(1))
    if row is not None:
        return row.title, row.body
    return DEFAULT_TEMPLATES[code]


# What every message about a work order is given (notify._ticket_context), besides its template's own fields.
TICKET_FIELDS = ("number", "title", "unit", "sign_due", "reply_due", "note")


def placeholders(code: str) -> tuple[str, ...]:
    """The fields a template may use: those of its default text, the work-order ones for work-order
    messages, and the site address; anything else would be sent as a blank."""
    own = [field for _, field, _, _ in string.Formatter().parse(DEFAULT_TEMPLATES[code][1]) if field]
    shared = TICKET_FIELDS if code.startswith(("ticket_", "deadline_")) else ()
    return tuple(dict.fromkeys([*own, *shared, "base_url"]))


def list_templates(session: Session) -> list[dict]:
    result = []
    for code, (_, default_body) in DEFAULT_TEMPLATES.items():
        current_title, current_body = template(session, code)
        version = session.scalar(select(func.max(MessageTemplate.version)).where(MessageTemplate.code == code)) or 0
        result.append({"code": code, "title": current_title, "body": current_body, "version": version, "default": default_body, "placeholders": placeholders(code)})
    return result


def _check_fields(code: str, body: str) -> None:
    """Only plain {name} fields this template is given: a typo would text citizens a blank, and
    {number.x} or {number:d} would fail when the message is made."""
    from baishitong.errors import InvalidInput

    allowed = placeholders(code)
    try:
        fields = [(field, spec, conversion) for _, field, spec, conversion in string.Formatter().parse(body) if field is not None]
    except ValueError:
        raise InvalidInput("invalid_template", "模板格式有误：花括号需成对，例如 {number}") from None
    for field, spec, conversion in fields:
        name = re.split(r"[.\[]", field, maxsplit=1)[0]
        if name in allowed and (spec or conversion or name != field):
            # A known field written with more than its name: saying it "cannot be filled" would read as a wrong name.
            written = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise InvalidInput("invalid_template", f"模板中的 {written} 写法不受支持：占位符只能写成 {{{name}}} 的形式，不能加转换（!r）、格式说明（:>5）或下标")
        if field not in allowed:
            shown = "、".join("{" + p + "}" for p in allowed)
            raise InvalidInput("invalid_template", f"模板中的 {{{field}}} 无法填写：该模板可用的占位符为 {shown}")


def save_template(session: Session, *, code: str, body: str, actor: str, base_version: int | None = None) -> MessageTemplate:
    """A new version of one message. With `base_version` (the version the editor showed), a save on top
    of a colleague's newer wording is refused instead of silently replacing it."""
    from baishitong.errors import Conflict, InvalidInput

    if code not in DEFAULT_TEMPLATES:
        raise InvalidInput("unknown_template", f"模板 {code} 不存在")
    body = body.strip()
    if len(body) < 2:
        raise InvalidInput("empty_template", "模板内容不能为空")
    _check_fields(code, body)
    current = session.scalar(select(func.max(MessageTemplate.version)).where(MessageTemplate.code == code)) or 0
    if base_version is not None and base_version != current:
        raise Conflict("template_changed", f"模板 {code} 已被修改为 v{current}（可能是您在其他窗口的操作或他人的操作），本次修改未保存；请刷新页面，在最新内容上修改")
    version = current + 1
    row = MessageTemplate(code=code, version=version, title=DEFAULT_TEMPLATES[code][0], body=body, updated_by=actor)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="template.save", object_type="message_template", object_id=code, data={"version": version, "body": body})
    return row


def _clause(text: str) -> str:
    """A reason as the middle of an SMS sentence: the template ends it with 。, so its own closing mark goes."""
    return text.strip().rstrip("。.！!；;，,、 ")


class _Probe(dict):
    def __missing__(self, key):
        return ""


def render(session: Session, code: str, context: dict) -> str:
    _, body = template(session, code)
    return body.format_map(_Probe(base_url=get_settings().public_url.rstrip("/"), **context))


def _queue(session: Session, *, channel: str, audience: str, recipient: str, code: str, context: dict, ticket_id: int | None = None, unit_id: int | None = None) -> Message:
    message = Message(
        channel=channel,
        audience=audience,
        recipient=recipient,
        template_code=code,
        body=render(session, code, context),
        ticket_id=ticket_id,
        unit_id=unit_id,
    )
    session.add(message)
    session.flush()
    enqueue(session, "notify.send", message_id=message.id)
    return message


def _requester_channel() -> str:
    return "sms" if get_settings().sms_endpoint else "outbox"


def _staff_channel() -> str:
    return "wechat" if get_settings().wechat_endpoint else "outbox"


def to_requester(session: Session, *, phone: str, template_code: str, context: dict, ticket_id: int | None = None) -> Message:
    return _queue(session, channel=_requester_channel(), audience="requester", recipient=phone, code=template_code, context=context, ticket_id=ticket_id)


def to_unit(session: Session, *, unit_id: int, template_code: str, context: dict, ticket_id: int | None = None) -> list[Message]:
    """One message per active staff member of the unit, or one to the unit itself if it has none."""
    staff = session.scalars(select(User).where(User.unit_id == unit_id, User.active.is_(True))).all()
    recipients = [u.username for u in staff] or [f"unit:{unit_id}"]
    return [
        _queue(session, channel=_staff_channel(), audience="unit", recipient=r, code=template_code, context=context, ticket_id=ticket_id, unit_id=unit_id)
        for r in recipients
    ]


def to_staff_member(session: Session, *, username: str, unit_id: int | None, template_code: str, context: dict, ticket_id: int | None = None) -> Message:
    return _queue(session, channel=_staff_channel(), audience="unit", recipient=username, code=template_code, context=context, ticket_id=ticket_id, unit_id=unit_id)


def to_supervisors(session: Session, *, template_code: str, context: dict, ticket_id: int | None = None) -> list[Message]:
    supervisors = session.scalars(select(User).where(User.role == "supervisor", User.active.is_(True))).all()
    return [
        _queue(session, channel=_staff_channel(), audience="supervisor", recipient=u.username, code=template_code, context=context, ticket_id=ticket_id)
        for u in supervisors
    ]


def _ticket_context(ticket: Ticket, **extra) -> dict:
    return {
        "number": ticket.number,
        "title": ticket.title,
        "unit": ticket.lead_unit.name if ticket.lead_unit else "承办单位",
        "sign_due": _local(ticket.sign_due),
        "reply_due": _local(ticket.reply_due),
        **extra,
    }


def on_ticket_event(session: Session, *, ticket: Ticket, event: TicketEvent) -> None:
    """Requesters hear of registration, dispatch, reply and callback; units of new orders, urges, 督办, a
    co-handler declining, and refused returns or extensions; a 承办人 of an order someone else assigned them (a granted one: `extension_granted`, once the
    deadline has moved). An urge or 督办 reaches the community an order was sub-dispatched to (下派) as well
    as the lead unit."""
    action = event.action
    context = _ticket_context(ticket, note=event.note or "")
    phone = ticket.requester_phone
    if action == "register" and phone:
        to_requester(session, phone=phone, template_code="ticket_registered", context=context, ticket_id=ticket.id)
    elif action == "dispatch":
        session.flush()
        if phone:
            to_requester(session, phone=phone, template_code="ticket_dispatched_requester", context=context, ticket_id=ticket.id)
        if ticket.lead_unit_id:
            to_unit(session, unit_id=ticket.lead_unit_id, template_code="ticket_dispatched_unit", context=context, ticket_id=ticket.id)
    elif action == "reply" and phone:
        to_requester(session, phone=phone, template_code="ticket_replied", context=context, ticket_id=ticket.id)
    elif action == "callback" and phone and event.actor_role == "requester":
        to_requester(session, phone=phone, template_code="ticket_callback", context=context, ticket_id=ticket.id)
    elif action in ("urge", "supervise") and not event.data.get("auto"):
        code = "ticket_urged" if action == "urge" else "ticket_supervised"
        for unit_id in dict.fromkeys(u for u in (ticket.lead_unit_id, ticket.sub_unit_id) if u):
            to_unit(session, unit_id=unit_id, template_code=code, context=context, ticket_id=ticket.id)
    elif action == "assign" and event.data["assignee"] != event.actor:
        # Taking an order oneself (我来办) needs no message; being handed one by the unit admin does.
        context |= {"assigned_by": session.scalar(select(User.display_name).where(User.username == event.actor)) or event.actor}
        to_staff_member(session, username=event.data["assignee"], unit_id=ticket.lead_unit_id, template_code="ticket_assigned", context=context, ticket_id=ticket.id)
    elif action == "decline-co" and ticket.lead_unit_id:
        # The lead unit counted on that contribution: it hears at once, not only from the timeline.
        context |= {"co_unit": event.unit.name if event.unit else event.data.get("unit", ""), "reason": _clause(event.data.get("reason", ""))}
        to_unit(session, unit_id=ticket.lead_unit_id, template_code="ticket_co_declined", context=context, ticket_id=ticket.id)
    elif action == "approve-pause" and ticket.lead_unit_id:
        to_unit(session, unit_id=ticket.lead_unit_id, template_code="ticket_pause_approved", context=context, ticket_id=ticket.id)
    elif action in ("reject-return", "reject-extension", "reject-pause") and ticket.lead_unit_id:
        code = {"reject-return": "ticket_return_rejected", "reject-extension": "ticket_extension_rejected", "reject-pause": "ticket_pause_rejected"}[action]
        # The centre's review may take longer than the time the unit had left: then say it is overdue.
        passed = ticket.reply_due is not None and ticket.reply_due <= clock.now()
        when = f"答复时限{context['reply_due']}已过，请尽快答复" if passed else f"{context['reply_due']}前答复"
        to_unit(session, unit_id=ticket.lead_unit_id, template_code=code, context={**context, "reason": _clause(event.data.get("reason", "")), "reply_when": when}, ticket_id=ticket.id)


def duplicate_answered(session: Session, *, ticket: Ticket, unit: str | None) -> None:
    """The caller of a merged order hears the master's reply under their own number."""
    if ticket.requester_phone:
        context = _ticket_context(ticket, note="") | {"unit": unit or "承办单位"}
        to_requester(session, phone=ticket.requester_phone, template_code="ticket_replied", context=context, ticket_id=ticket.id)


def extension_granted(session: Session, *, ticket: Ticket) -> None:
    if ticket.lead_unit_id:
        to_unit(session, unit_id=ticket.lead_unit_id, template_code="ticket_extension_approved", context=_ticket_context(ticket), ticket_id=ticket.id)


def redone(session: Session, *, ticket: Ticket, reason: str) -> None:
    """重办 sends the order back to the unit that answered it: told why, with the new clock's reply deadline."""
    if ticket.lead_unit_id:
        to_unit(session, unit_id=ticket.lead_unit_id, template_code="ticket_redone", context=_ticket_context(ticket, reason=_clause(reason)), ticket_id=ticket.id)


def deadline_alert(session: Session, *, ticket: Ticket, stage: str, overdue: bool) -> None:
    from baishitong.sla.service import STAGE_LABELS

    due = {"sign": ticket.sign_due, "contact": ticket.contact_due, "reply": ticket.reply_due}[stage]
    context = _ticket_context(ticket, stage=STAGE_LABELS[stage], due=_local(due))
    if ticket.lead_unit_id:
        to_unit(session, unit_id=ticket.lead_unit_id, template_code="deadline_overdue_unit" if overdue else "deadline_warning", context=context, ticket_id=ticket.id)
    if overdue:
        to_supervisors(session, template_code="deadline_overdue_supervisor", context=context, ticket_id=ticket.id)


# Longer than a send can take (senders.TIMEOUT); a worker killed mid-send leaves the message to be retried then.
SEND_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Outgoing:
    """One attempt at a message, taken out of the database so the gateway is called with no lock held."""

    message_id: int
    attempt: int
    channel: str
    recipient: str
    body: str
    template_code: str


def claim(session: Session, *, message_id: int, now: datetime) -> Outgoing | None:
    """Marks the message as being sent (status `sending` until SEND_LEASE runs out); None when it is sent,
    given up, or another worker is sending it now."""
    message = session.get(Message, message_id, with_for_update=True)
    if message is None or message.status in ("sent", "failed"):
        return None
    if message.status == "sending":
        if message.next_attempt_at is not None and message.next_attempt_at > now:
            return None
        if message.attempts >= MAX_ATTEMPTS:
            message.status, message.next_attempt_at = "failed", None
            message.last_error = "后台进程在发送时中断，无法确认是否送达，已不再重试"
            return None
    message.attempts += 1
    message.status, message.next_attempt_at = "sending", now + SEND_LEASE
    return Outgoing(message.id, message.attempts, message.channel, message.recipient, message.body, message.template_code)


def attempt(outgoing: Outgoing) -> str | None:
    """Calls the gateway; the reason it failed, in Chinese, or None when it took the message."""
    try:
        senders.send(outgoing.channel, recipient=outgoing.recipient, body=outgoing.body, template_code=outgoing.template_code, key=f"message-{outgoing.message_id}")
    except senders.SendError as exc:
        return str(exc)
    return None


def record(session: Session, *, outgoing: Outgoing, error: str | None, now: datetime) -> None:
    """What became of one attempt: sent, or retried later with backoff, or after MAX_ATTEMPTS failed, visible.
    An attempt whose lease ran out and was taken over by a later one records nothing."""
    message = session.get(Message, outgoing.message_id, with_for_update=True)
    if message is None or message.status != "sending" or message.attempts != outgoing.attempt:
        return
    if error is None:
        message.status, message.sent_at, message.next_attempt_at, message.last_error = "sent", now, None, None
        return
    # Gateways echo the text they refused; stored as the outbox shows it, a code or link in it is of no use to
    # whoever reads the error later (a dump, a retried job's audit).
    message.last_error = readable(message, error)
    message.next_attempt_at = retry_at(message.attempts, now)
    message.status = "retrying" if message.next_attempt_at else "failed"


def deliver(db: Database, *, message_id: int) -> None:
    """Sends one message between two short transactions: a slow or dead gateway holds no database lock, so
    citizens' and staff's requests never wait on it."""
    with db.session() as session:
        outgoing = claim(session, message_id=message_id, now=clock.now())
    if outgoing is None:
        return
    error = attempt(outgoing)
    with db.session() as session:
        record(session, outgoing=outgoing, error=error, now=clock.now())


def retry_due(session: Session, *, now: datetime) -> int:
    """Re-enqueues failed sends whose backoff has passed, and sends whose worker died mid-way; the dedupe key
    makes each retry happen once."""
    due = session.scalars(select(Message).where(Message.status.in_(("retrying", "sending")), Message.next_attempt_at <= now)).all()
    for message in due:
        enqueue(session, "notify.send", dedupe_key=f"notify:{message.id}:{message.attempts}", message_id=message.id)
    return len(due)


# What in a message lets whoever reads it act as its recipient: the 我的诉求 code (six digits) and the link that
# confirms or cancels a policy alert subscription. Staff reading the outbox need neither.
_ALERT_LINK = re.compile(r"(?<=/enterprise/alerts/)[A-Za-z0-9_-]+")
_SECRETS = {"phone_code": re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])"), "policy_alert_confirm": _ALERT_LINK, "policy_alert": _ALERT_LINK}


def readable(message: Message, text: str | None) -> str | None:
    """A message's body or error as 消息发件箱 shows it: codes and links replaced by ******, phone and ID
    numbers masked (and, in an error, whatever a log line would mask: a key in the gateway's address). The
    message sent keeps them."""
    if not text:
        return text
    if secret := _SECRETS.get(message.template_code):
        text = secret.sub("******", text)
    return mask_secrets_in_text(text)


def outbox(session: Session, *, status: str | None = None, audience: str | None = None, ticket_id: int | None = None, limit: int = 100, offset: int = 0) -> list[Message]:
    query = select(Message)
    if status:
        query = query.where(Message.status == status)
    if audience:
        query = query.where(Message.audience == audience)
    if ticket_id:
        query = query.where(Message.ticket_id == ticket_id)
    return list(session.scalars(query.order_by(Message.id.desc()).offset(offset).limit(limit)))
