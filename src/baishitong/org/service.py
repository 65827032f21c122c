"""Units, regions, categories and staff accounts."""

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baishitong import security
from baishitong.actors import Actor
from baishitong.audit import service as audit
from baishitong.db import utcnow
from baishitong.errors import Conflict, Forbidden, InvalidInput, NotFound
from baishitong.org.models import CATEGORY_CODE_PATTERN, USERNAME_PATTERN, ApiToken, Category, Region, Unit, User
from baishitong.tickets.schemas import visible_length
from baishitong.tickets.validation import normalise_phone

ROLES = {
    "operator": "话务员",
    "handler": "承办人",
    "unit_admin": "单位管理员",
    "supervisor": "督办员",
    "admin": "系统管理员",
}
UNIT_ROLES = {"handler", "unit_admin"}
# A refused role names the roles as the user form does, not the stored codes.
ROLE_CHOICES_TEXT = "角色必须是" + "".join(f"“{label}”" for label in ROLES.values()) + "之一"
UNIT_KINDS = {
    "centre": "热线中心",
    "department": "区直部门",
    "town": "镇街",
    "community": "村居",
    "utility": "公共服务企业",
}


def list_units(session: Session, *, kind: str | None = None, parent_code: str | None = None) -> list[Unit]:
    query = select(Unit).where(Unit.active.is_(True))
    if kind:
        query = query.where(Unit.kind == kind)
    if parent_code:
        parent = get_unit(session, code=parent_code)
        query = query.where(Unit.parent_id == parent.id)
    return list(session.scalars(query.order_by(Unit.id)))


def get_unit(session: Session, *, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound("unit_not_found", f"单位 {code} 不存在")
    return unit


def find_unit(session: Session, *, code: str | None) -> Unit | None:
    return session.scalar(select(Unit).where(Unit.code == code)) if code else None


def units_without_accounts(session: Session, *, unit_ids: list[int]) -> set[int]:
    """Those of these units with no active account: an order sent there is seen by nobody in the system,
    so whoever sends it is told to phone the unit as well."""
    staffed = session.scalars(select(User.unit_id).where(User.unit_id.in_(unit_ids), User.active.is_(True)).distinct()) if unit_ids else []
    return set(unit_ids) - set(staffed)


def town_names(session: Session) -> dict[str, str]:
    """Shunde's towns by region code, in gazetteer order."""
    return {r.code: r.name for r in session.scalars(select(Region).where(Region.kind == "town").order_by(Region.code))}


UNIT_CODE = re.compile(r"^[A-Za-z0-9_-]{2,32}$")
# A unit's contact number as staff read it out: digits with -, spaces or brackets, 0757-22801001 or (0757) 2280 1001.
UNIT_PHONE = re.compile(r"^[0-9\- ()（）]{7,20}$")
UNIT_PHONE_MIN_DIGITS = 7
# A utility or the centre is reached on its short service number (12345, 10086, 95598, 96xxxx).
SERVICE_HOTLINE = re.compile(r"^(1\d{4}|9\d{4,5})$")


def _form_state(*fields: object) -> str:
    """A short fingerprint of what an edit form shows, for tables without a version column: the form
    sends it back, and a save whose row no longer matches was made on top of someone else's change."""
    return hashlib.sha256("\x1f".join(str(f) for f in fields).encode()).hexdigest()[:16]


def unit_state(unit: Unit) -> str:
    return _form_state(unit.name, unit.kind, unit.parent.code if unit.parent else "", unit.phone or "", unit.active, unit.region_code or "")


def save_unit(
    session: Session,
    *,
    code: str,
    name: str,
    kind: str,
    parent_code: str | None,
    phone: str | None,
    active: bool,
    actor: str,
    region_code: str | None = None,
    base_state: str | None = None,
) -> Unit:
    """Creates or updates a unit by code; units are never deleted, so disabling one keeps its tickets and history.

    A town or community unit is linked to its gazetteer region (given, or a community's own code),
    which is what lets routing send "事发镇街" matters to it. `base_state` is `unit_state(unit)` as the
    edit form showed it: a save on top of a colleague's change is refused rather than undoing it.
    """
    name, phone = (name or "").strip(), (phone or "").strip() or None
    if not UNIT_CODE.match(code or ""):
        raise InvalidInput("invalid_unit_code", "单位编码须为 2–32 位字母、数字、下划线或连字符")
    if not name or len(name) > 100:
        raise InvalidInput("invalid_unit_name", "单位名称须为 1–100 个字")
    if kind not in UNIT_KINDS:
        raise InvalidInput("invalid_unit_kind", f"单位类型必须是 {'、'.join(UNIT_KINDS.values())} 之一")
    if phone and not SERVICE_HOTLINE.match(phone) and (not UNIT_PHONE.match(phone) or sum(c.isdigit() for c in phone) < UNIT_PHONE_MIN_DIGITS):
        raise InvalidInput("invalid_unit_phone", "联系电话须为 7–20 个字符的电话号码（数字，可含 -、空格和括号），如 0757-22801001，或 12345、95598 这样的服务热线")
    unit = find_unit(session, code=code)
    if unit is not None and base_state is not None and base_state != unit_state(unit):
        raise Conflict("unit_changed", f"单位 {code} 刚刚已被修改（可能是您在其他窗口的操作或他人的操作），本次修改未保存；请查看最新信息后重新修改")
    if active:
        # Two active units of one name make every unit picker (派单, 用户, 知识库) ambiguous.
        namesake = session.scalar(select(Unit.code).where(Unit.name == name, Unit.active.is_(True), Unit.code != code).limit(1))
        if namesake is not None:
            raise InvalidInput("duplicate_unit_name", f"单位名称“{name}”已被单位 {namesake} 使用，请换一个名称（如加上上级单位或地名），以免派单和选择单位时混淆")
    parent = None
    if parent_code:
        parent = find_unit(session, code=parent_code)
        if parent is None:
            raise InvalidInput("unknown_parent", f"上级单位 {parent_code} 不存在")
        node = parent
        while node is not None:
            if unit is not None and node.id == unit.id:
                raise InvalidInput("unit_cycle", "上级单位不能是本单位或其下属单位")
            node = node.parent
    if kind == "community" and (parent is None or parent.kind != "town"):
        raise InvalidInput("community_needs_town", "村居的上级单位必须是镇街")
    if region_code:
        region = get_region(session, code=region_code)
        if kind not in ("town", "community") or region.kind != kind:
            raise InvalidInput("region_kind_mismatch", "只有镇街、村居单位可关联同级区域")
    elif kind == "community" and session.scalar(select(Region.id).where(Region.code == code)) is not None:
        region_code = code
    created = unit is None
    if created:
        unit = Unit(code=code, name=name, kind=kind, parent=parent, phone=phone, active=active, region_code=region_code)
        session.add(unit)
    else:
        unit.name, unit.kind, unit.parent, unit.phone, unit.active = name, kind, parent, phone, active
        if region_code:
            unit.region_code = region_code
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="unit.create" if created else "unit.update",
        object_type="unit",
        object_id=code,
        data={"name": name, "kind": kind, "parent": parent_code or None, "phone": phone, "active": active, "region": unit.region_code},
    )
    return unit


def town_unit_for_region(session: Session, *, region: Region | None) -> Unit | None:
    """The town (镇街) unit responsible for a region, whether given a town or a community."""
    if region is None:
        return None
    town = region if region.kind == "town" else region.parent
    return session.scalar(select(Unit).where(Unit.kind == "town", Unit.region_code == town.code)) if town else None


def get_region(session: Session, *, code: str) -> Region:
    region = session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise NotFound("region_not_found", f"区域 {code} 不存在")
    return region


def list_regions(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.code)))


def list_categories(session: Session, *, include_inactive: bool = False) -> list[Category]:
    query = select(Category)
    if not include_inactive:
        query = query.where(Category.active.is_(True))
    return list(session.scalars(query.order_by(Category.code)))


def find_category(session: Session, *, code: str) -> Category | None:
    return session.scalar(select(Category).where(Category.code == code))


def get_category(session: Session, *, code: str) -> Category:
    category = find_category(session, code=code)
    if category is None:
        raise NotFound("category_not_found", f"分类 {code} 不存在")
    return category


CATEGORY_NAME_MAX = 64  # the column's length
_CATEGORY_CODE = re.compile(CATEGORY_CODE_PATTERN)


def category_state(category: Category) -> str:
    return _form_state(category.name, category.parent.code if category.parent else "", category.active)


def save_category(
    session: Session, *, code: str, name: str, parent_code: str | None, actor: str, active: bool = True, base_state: str | None = None, create_only: bool = False
) -> Category:
    """Codes nest (01 ⊃ 0101 ⊃ 010101): Open311 filters and the routing catalogue match by prefix, and a
    parent whose code is a shorter prefix can never be the category's own descendant.

    The API's PUT replaces the category by code. The admin page says which it means: a new category
    (`create_only`, refused if the code is taken, so a typo never renames another one) or an edit of
    the category as it showed it (`base_state` = `category_state`, refused if a colleague saved since)."""
    if not _CATEGORY_CODE.fullmatch(code):
        raise InvalidInput("invalid_category_code", "分类编码应为 2–6 位数字")
    name = (name or "").strip()
    # The column holds 64; a name of zero-width characters would list a category with nothing to read.
    if not visible_length(name) or len(name) > CATEGORY_NAME_MAX:
        raise InvalidInput("invalid_category_name", f"分类名称须为 1–{CATEGORY_NAME_MAX} 个字")
    category = find_category(session, code=code)
    if category is not None and create_only:
        raise Conflict("category_exists", f"分类编码 {code} 已被“{category.path}”使用；如需修改该分类，请在列表中点“修改”")
    if category is not None and base_state is not None and base_state != category_state(category):
        raise Conflict("category_changed", f"分类 {code} 刚刚已被修改（可能是您在其他窗口的操作或他人的操作），本次修改未保存；请查看最新信息后重新修改")
    parent = get_category(session, code=parent_code) if parent_code else None
    if parent is not None and not (code.startswith(parent.code) and len(code) > len(parent.code)):
        raise InvalidInput("category_code_outside_parent", f"下级分类的编码须以上级分类编码 {parent.code} 开头（如 {parent.code}01）")
    level = parent.level + 1 if parent else 1
    if level > 3:
        raise InvalidInput("category_too_deep", "问题分类最多三级")
    moved = category is not None and (parent.id if parent else None) != category.parent_id
    if moved and session.scalar(select(Category.id).where(Category.parent_id == category.id).limit(1)) is not None:
        raise InvalidInput("category_has_children", "该分类下已有下级分类，不能改变其上级分类")
    if category is None:
        category = Category(code=code, name=name, level=level, parent=parent, active=active)
        session.add(category)
    else:
        category.name, category.parent, category.level, category.active = name, parent, level, active
    session.flush()
    audit.record(session, actor=actor, action="category.save", object_type="category", object_id=code, data={"name": name, "parent": parent_code, "active": active})
    return category


_USERNAME = re.compile(USERNAME_PATTERN)


@dataclass(frozen=True)
class AccountScope:
    """The accounts a unit admin manages (本单位人员): those of their unit and of the units under it (a
    town's 村居). They see every account there but create and change handlers only: unit admins, their
    own account included, and the centre's roles stay with the system admin."""

    manager: str
    unit_ids: frozenset[int]


def account_scope(session: Session, *, actor: Actor) -> AccountScope | None:
    """None for the system admin, who manages every account; a unit admin's scope; anyone else is refused."""
    if actor.role == "admin":
        return None
    if actor.role != "unit_admin" or actor.unit_id is None:
        raise Forbidden("role_not_allowed", "您的角色无权管理账号")
    unit_ids, frontier = {actor.unit_id}, {actor.unit_id}
    while frontier:
        frontier = set(session.scalars(select(Unit.id).where(Unit.parent_id.in_(frontier)))) - unit_ids
        unit_ids |= frontier
    return AccountScope(manager=actor.name, unit_ids=frozenset(unit_ids))


def _check_scoped_assignment(session: Session, scope: AccountScope, *, role: str, unit_code: str | None) -> None:
    """A unit admin gives out the handler role only, and only in units of their scope."""
    if role != "handler":
        raise Forbidden("role_not_allowed", "单位管理员只能创建承办人账号，不能设置其他角色")
    unit = find_unit(session, code=unit_code)
    if unit is None or unit.id not in scope.unit_ids:
        raise Forbidden("unit_out_of_scope", "只能在本单位或下属单位中设置账号")


def _checked_user_phone(phone: str | None) -> str | None:
    if not phone or not phone.strip():
        return None
    try:
        return normalise_phone(phone)
    except ValueError as exc:
        raise InvalidInput("invalid_phone", str(exc)) from None


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    unit_code: str | None = None,
    display_name: str | None = None,
    phone: str | None = None,
    actor: str = "system",
    scope: AccountScope | None = None,
) -> User:
    if not _USERNAME.fullmatch(username):
        raise InvalidInput("invalid_username", "用户名为 3–64 位字母、数字或 _ . -")
    if display_name is not None and len(display_name) > 64:
        raise InvalidInput("invalid_display_name", "显示名称最多 64 个字")
    if role not in ROLES:
        raise InvalidInput("invalid_role", ROLE_CHOICES_TEXT)
    if role in UNIT_ROLES and not unit_code:
        raise InvalidInput("unit_required", "承办人和单位管理员必须指定所属单位")
    if scope is not None:
        _check_scoped_assignment(session, scope, role=role, unit_code=unit_code)
    if len(password) < 8:
        raise InvalidInput("weak_password", "密码至少 8 位")
    phone = _checked_user_phone(phone)
    # RongGui beside ronggui would be two logins nobody can tell apart (and both get the unit's messages).
    taken = session.scalar(select(User.username).where(func.lower(User.username) == username.lower()))
    if taken is not None:
        # A unit admin is not told how another unit's login is spelt.
        raise Conflict("user_exists", f"用户名 {username} 已被使用（用户名不区分大小写），请换一个" if scope is not None else f"用户 {taken} 已存在" + ("" if taken == username else "（用户名不区分大小写）"))
    # As update_user: only a unit's own staff belong to it (and get its 新工单 messages); a unit picked
    # for an operator, supervisor or admin is dropped.
    unit = get_unit(session, code=unit_code) if unit_code and role in UNIT_ROLES else None
    user = User(
        username=username,
        display_name=display_name or username,
        phone=phone,
        password_hash=security.hash_password(password),
        role=role,
        unit=unit,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.create", object_type="user", object_id=username, data={"role": role, "unit": unit.code if unit else None})
    return user


@dataclass(frozen=True)
class AccountChange:
    """An account as changed, with the numbers of the orders it was 承办人 of that went back to its unit's 未指派
    (tickets.service.release_assigned), for the page to say how many."""

    user: User
    released: tuple[str, ...] = ()


def released_text(change: AccountChange, *, moved: bool = False) -> str:
    """What the admin is told of the orders the change returned to 未指派, after the rest of the message."""
    return f"；已将其 {len(change.released)} 件工单退回{'原' if moved else '本'}单位未指派" if change.released else ""


def _release_orders(session: Session, user: User, *, actor: str, reason: str) -> tuple[str, ...]:
    from baishitong.tickets import service as tickets  # tickets.service imports this module

    return tuple(tickets.release_assigned(session, user=user, actor=actor, reason=reason))


def update_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: str,
    unit_code: str | None,
    password: str | None = None,
    phone: str | None = None,
    actor: str = "system",
    base_state: str | None = None,
    scope: AccountScope | None = None,
) -> AccountChange:
    """An admin's (or, within `scope`, a unit admin's) edit; a new role, unit or password ends the user's
    sessions and tokens, as disabling does. `phone` None leaves the phone as it is, "" clears it. Moved out of
    their unit (to another, or to a centre role), they leave the orders they were 承办人 of to its 未指派.

    `base_state` is `account_state(user)` as the edit form showed it: the form sends every field, so a
    save on top of a colleague's change would silently undo it.
    """
    user = _managed_user(session, username=username, scope=scope)
    if base_state is not None and base_state != account_state(user):
        raise Conflict("user_changed", f"用户 {username} 刚刚已被修改（可能是您在其他窗口的操作或他人的操作），本次修改未保存；请查看最新信息后重新修改")
    if role not in ROLES:
        raise InvalidInput("invalid_role", ROLE_CHOICES_TEXT)
    if role in UNIT_ROLES and not unit_code:
        raise InvalidInput("unit_required", "承办人和单位管理员必须指定所属单位")
    if scope is not None:
        _check_scoped_assignment(session, scope, role=role, unit_code=unit_code)
    if password is not None and len(password) < 8:
        raise InvalidInput("weak_password", "密码至少 8 位")
    if display_name and len(display_name) > 64:
        raise InvalidInput("invalid_display_name", "显示名称最多 64 个字")
    new_phone = user.phone if phone is None else _checked_user_phone(phone)
    unit = get_unit(session, code=unit_code) if unit_code and role in UNIT_ROLES else None
    changed = {
        field: value
        for field, old, value in (("display_name", user.display_name, display_name or username), ("role", user.role, role), ("unit", user.unit.code if user.unit else None, unit.code if unit else None))
        if old != value
    }
    if new_phone != user.phone:
        changed["phone"] = security.mask_phone(new_phone)  # the audit trail is read widely and kept for ever
    if password is not None:
        user.password_hash = security.hash_password(password)
        changed["password"] = "reset"
    if not changed:
        return AccountChange(user)
    user.display_name, user.role, user.unit, user.phone = display_name or username, role, unit, new_phone
    if changed.keys() & {"role", "unit", "password"}:
        _end_sessions_and_tokens(session, user)
    session.flush()
    released = _release_orders(session, user, actor=actor, reason="moved") if "unit" in changed else ()
    audit.record(session, actor=actor, action="user.update", object_type="user", object_id=username, data=changed | ({"released_orders": len(released)} if released else {}))
    return AccountChange(user, released)


def account_state(user: User) -> str:
    return _form_state(user.display_name, user.role, user.unit.code if user.unit else "", user.active, user.token_generation, user.phone or "")


def _end_sessions_and_tokens(session: Session, user: User) -> None:
    """Logins carry the generation; integration tokens are revoked outright, so enabling the account
    again (or the password being reset back) does not bring them back."""
    user.token_generation += 1
    now = utcnow()
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = now


def list_users(session: Session, *, scope: AccountScope | None = None) -> list[User]:
    query = select(User).order_by(User.id)
    if scope is not None:
        query = query.where(User.unit_id.in_(scope.unit_ids))
    return list(session.scalars(query))


def get_user(session: Session, *, username: str, scope: AccountScope | None = None) -> User:
    """An account outside `scope` is reported missing, so a unit admin learns nothing of other units' logins."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or (scope is not None and user.unit_id not in scope.unit_ids):
        raise NotFound("user_not_found", f"用户 {username} 不存在")
    return user


def can_manage(user: User, scope: AccountScope | None) -> bool:
    """Whether the holder of `scope` may change this account they can see (see AccountScope)."""
    return scope is None or (user.role == "handler" and user.unit_id in scope.unit_ids and user.username != scope.manager)


def _managed_user(session: Session, *, username: str, scope: AccountScope | None) -> User:
    user = get_user(session, username=username, scope=scope)
    if not can_manage(user, scope):
        raise Forbidden("account_not_managed", "单位管理员只能管理本单位的承办人账号；单位管理员账号由系统管理员管理")
    return user


def disable_user(session: Session, *, username: str, actor: str = "system", scope: AccountScope | None = None) -> AccountChange:
    """Ends the account's sessions and tokens, and returns the orders it was 承办人 of to its unit's 未指派."""
    user = _managed_user(session, username=username, scope=scope)
    if username == actor:
        raise Forbidden("cannot_disable_self", "不能停用自己的账号")
    user.active = False
    _end_sessions_and_tokens(session, user)
    released = _release_orders(session, user, actor=actor, reason="disabled")
    audit.record(session, actor=actor, action="user.disable", object_type="user", object_id=username, data={"released_orders": len(released)} if released else None)
    return AccountChange(user, released)


def enable_user(session: Session, *, username: str, actor: str = "system", scope: AccountScope | None = None) -> User:
    """Undoes disable_user; the sessions and tokens that disabling ended stay ended."""
    user = _managed_user(session, username=username, scope=scope)
    user.active = True
    audit.record(session, actor=actor, action="user.enable", object_type="user", object_id=username)
    return user


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """None for a wrong name or password; a disabled account is told so, but only to whoever knows its password."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        security.verify_for_unknown_user(password)
        return None
    if not security.verify_password(user.password_hash, password):
        return None
    if not user.active:
        raise Forbidden("account_disabled", "该账号已停用，请联系系统管理员")
    return user


def name_of_failed_sign_in(session: Session, *, typed: str) -> str:
    """The name a failed sign-in is audited under: an account's as it is, anything else masked when it
    looks like a phone or ID number (typed as the username by mistake)."""
    typed = typed[:64]
    if session.scalar(select(User.id).where(User.username == typed)) is not None:
        return typed
    return security.mask_typed_username(typed)


def create_api_token(session: Session, *, username: str, name: str, actor: str = "system") -> str:
    user = get_user(session, username=username)
    token, token_hash = security.new_api_token()
    session.add(ApiToken(name=name, token_hash=token_hash, user=user))
    session.flush()
    audit.record(session, actor=actor, action="api_token.create", object_type="user", object_id=username, data={"name": name})
    return token


def user_for_api_token(session: Session, *, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == security.hash_api_token(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row.user


def revoke_api_token(session: Session, *, token_id: int, actor: str) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("token_not_found", "令牌不存在")
    row.revoked_at = utcnow()
    audit.record(session, actor=actor, action="api_token.revoke", object_type="user", object_id=row.user.username, data={"name": row.name})
