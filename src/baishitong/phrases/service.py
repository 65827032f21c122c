"""Who may use and who may manage 常用答复语; every change goes to the audit trail.

Handlers see their own unit's phrases, those of the units above it (a community's handlers use their
town's wording) and the shared ones. The system admin manages every phrase;
a unit admin only their own unit's, so one unit cannot change the wording another unit sends.
"""

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from baishitong.actors import Actor
from baishitong.audit import service as audit
from baishitong.db import claim_version
from baishitong.errors import Forbidden, InvalidInput, NotFound
from baishitong.org.models import Unit
from baishitong.org.service import find_unit
from baishitong.phrases.models import ReplyPhrase

TITLE_MAX = 40
BODY_MAX = 2000
MANAGER_ROLES = ("admin", "unit_admin")
OTHER_UNIT = "单位管理员只能维护本单位的常用答复语，全部单位通用的由系统管理员维护"


def _ordered(rows) -> list[ReplyPhrase]:
    """The unit's own phrases first (the most specific wording), then the shared ones, oldest first."""
    return sorted(rows, key=lambda p: (p.unit_id is None, p.id))


def _unit_and_above(session: Session, unit_id: int | None) -> list[int]:
    """The unit's id, then its parent's, up to the top (a community → its town)."""
    ids: list[int] = []
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    while unit is not None and unit.id not in ids:
        ids.append(unit.id)
        unit = unit.parent
    return ids


def usable(session: Session, *, actor: Actor) -> list[ReplyPhrase]:
    """Active phrases the actor may insert into a reply: their own unit's first, then those of the units
    above it, nearest first, then the shared ones."""
    units = _unit_and_above(session, actor.unit_id)
    rows = session.scalars(select(ReplyPhrase).where(ReplyPhrase.active.is_(True), or_(ReplyPhrase.unit_id.is_(None), ReplyPhrase.unit_id.in_(units))))
    rank = {unit_id: depth for depth, unit_id in enumerate(units)}
    return sorted(rows, key=lambda p: (rank.get(p.unit_id, len(units)), p.id))


def listed(session: Session, *, actor: Actor) -> list[ReplyPhrase]:
    """What the management page shows, disabled phrases included: all for the admin; own unit's and shared for a unit admin."""
    _check_manager(actor)
    query = select(ReplyPhrase)
    if actor.role != "admin":
        query = query.where(or_(ReplyPhrase.unit_id.is_(None), ReplyPhrase.unit_id == actor.unit_id))
    return _ordered(session.scalars(query))


def can_manage(actor: Actor, phrase: ReplyPhrase) -> bool:
    return actor.role == "admin" or (actor.role == "unit_admin" and phrase.unit_id is not None and phrase.unit_id == actor.unit_id)


def get(session: Session, *, phrase_id: int) -> ReplyPhrase:
    phrase = session.get(ReplyPhrase, phrase_id)
    if phrase is None:
        raise NotFound("phrase_not_found", "该常用答复语不存在")
    return phrase


def _check_manager(actor: Actor) -> None:
    if actor.role not in MANAGER_ROLES:
        raise Forbidden("phrase_forbidden", "只有系统管理员和单位管理员可以维护常用答复语")


def _managed(session: Session, actor: Actor, phrase_id: int) -> ReplyPhrase:
    _check_manager(actor)
    phrase = get(session, phrase_id=phrase_id)
    if not can_manage(actor, phrase):
        raise Forbidden("phrase_other_unit", OTHER_UNIT)
    return phrase


def _target_unit(session: Session, actor: Actor, unit_code: str | None) -> Unit | None:
    """The unit a phrase will belong to; None is shared, which only the admin may set."""
    _check_manager(actor)
    if actor.role == "unit_admin" and (unit_code is None or unit_code != actor.unit_code):
        raise Forbidden("phrase_other_unit", OTHER_UNIT)
    if unit_code is None:
        return None
    unit = find_unit(session, code=unit_code)
    if unit is None:
        raise InvalidInput("unit_not_found", f"单位 {unit_code} 不存在")
    return unit


def _clean(title: str, body: str) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    if not title:
        raise InvalidInput("phrase_title_required", "请填写标题")
    if len(title) > TITLE_MAX:
        raise InvalidInput("phrase_title_too_long", f"标题不能超过 {TITLE_MAX} 个字")
    if not body:
        raise InvalidInput("phrase_body_required", "请填写答复语内容")
    if len(body) > BODY_MAX:
        raise InvalidInput("phrase_body_too_long", f"答复语内容不能超过 {BODY_MAX} 个字")
    return title, body


def _audit(session: Session, *, actor: Actor, action: str, phrase: ReplyPhrase, **data) -> None:
    audit.record(session, actor=actor.name, action=f"reply_phrase.{action}", object_type="reply_phrase", object_id=str(phrase.id), data={"unit": phrase.unit.code if phrase.unit else None, **data})


def create(session: Session, *, actor: Actor, title: str, body: str, unit_code: str | None) -> ReplyPhrase:
    unit = _target_unit(session, actor, unit_code)
    title, body = _clean(title, body)
    phrase = ReplyPhrase(title=title, body=body, unit=unit, created_by=actor.name)
    session.add(phrase)
    session.flush()
    _audit(session, actor=actor, action="create", phrase=phrase, title=title, body=body)
    return phrase


def update(session: Session, *, actor: Actor, phrase_id: int, title: str, body: str, unit_code: str | None, version: int | None = None) -> ReplyPhrase:
    """`version`, when given, is the one the editor opened; a save on top of a newer one is refused."""
    phrase = _managed(session, actor, phrase_id)
    unit = _target_unit(session, actor, unit_code)
    title, body = _clean(title, body)
    claim_version(session, phrase, version, message="这条答复语已被修改（可能是您在其他窗口的操作或他人的操作），请刷新页面查看最新内容后再改")
    phrase.title, phrase.body = title, body
    phrase.unit = unit
    session.flush()
    _audit(session, actor=actor, action="update", phrase=phrase, title=phrase.title, body=phrase.body)
    return phrase


def set_active(session: Session, *, actor: Actor, phrase_id: int, active: bool) -> ReplyPhrase:
    """Disabling hides a phrase from the reply forms; enabling brings it back."""
    phrase = _managed(session, actor, phrase_id)
    if phrase.active != active:
        phrase.active = active
        session.flush()
        _audit(session, actor=actor, action="enable" if active else "disable", phrase=phrase)
    return phrase


def load_demo(session: Session) -> int:
    """The demo's shared phrases and a few of 容桂街道's own, into an empty table."""
    from baishitong.demo.phrases import PHRASES

    if session.scalar(select(ReplyPhrase.id).limit(1)) is not None:
        return 0
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_({p["unit"] for p in PHRASES if p["unit"]})))}
    for spec in PHRASES:
        session.add(ReplyPhrase(title=spec["title"], body=spec["body"], unit=units.get(spec["unit"]) if spec["unit"] else None, created_by="demo"))
    session.flush()
    return len(PHRASES)
