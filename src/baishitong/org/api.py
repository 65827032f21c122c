from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from baishitong import security
from baishitong.actors import Actor
from baishitong.audit import service as audit
from baishitong.config import Settings
from baishitong.deps import client_id, current_actor, get_db_session, get_settings, throttle_login
from baishitong.errors import DomainError, Forbidden, Unauthorized
from baishitong.org import schemas, service

router = APIRouter(prefix="/api/v1", tags=["组织与账号"])


def require_roles(*roles: str):
    def dependency(actor: Actor = Depends(current_actor)) -> Actor:
        if actor.role not in roles:
            raise Forbidden("role_not_allowed", "您的角色无权执行此操作")
        return actor

    return dependency


def unit_out(unit) -> schemas.UnitOut:
    return schemas.UnitOut(code=unit.code, name=unit.name, kind=unit.kind, parent=unit.parent.code if unit.parent else None, state=service.unit_state(unit))


def _refusal(exc: DomainError) -> JSONResponse:
    return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status_code)


@router.post("/auth/token", response_model=schemas.AccessTokenOut)
def login(data: schemas.LoginIn, request: Request, session: Session = Depends(get_db_session), settings: Settings = Depends(get_settings)):
    throttle_login(request, data.username)
    try:
        user = service.authenticate(session, username=data.username, password=data.password)
    except Forbidden as exc:
        audit.record(session, actor=data.username, action="auth.login_refused", object_type="user", object_id=data.username, data={"via": "api", "reason": exc.code})
        return _refusal(exc)
    if user is None:
        # Answered rather than raised, so that the audit entry is committed with the request.
        name = service.name_of_failed_sign_in(session, typed=data.username)
        audit.record(session, actor=name or "anonymous", action="auth.login_failed", object_type="user", object_id=name, data={"via": "api", "client": client_id(request)})
        return _refusal(Unauthorized("invalid_credentials", "用户名或密码错误"))
    audit.record(session, actor=user.username, action="auth.login", object_type="user", object_id=user.username, data={"via": "api"})
    token = security.issue_access_token(settings.secret_key, user_id=user.id, generation=user.token_generation)
    return schemas.AccessTokenOut(
        access_token=token,
        expires_in=settings.token_ttl_minutes * 60,
        user={"username": user.username, "role": user.role, "unit": user.unit.code if user.unit else None, "display_name": user.display_name},
    )


@router.get("/units", response_model=list[schemas.UnitOut])
def list_units(kind: str | None = None, parent: str | None = None, session: Session = Depends(get_db_session)):
    return [unit_out(u) for u in service.list_units(session, kind=kind, parent_code=parent)]


@router.put("/units/{code}", response_model=schemas.UnitOut, responses={201: {"model": schemas.UnitOut, "description": "新建的单位"}})
def save_unit(code: str, data: schemas.UnitIn, response: Response, actor: Actor = Depends(require_roles("admin")), session: Session = Depends(get_db_session)):
    """Creates (201) or replaces (200) the unit; with `base_state`, a change someone saved since is refused (409)."""
    created = service.find_unit(session, code=code) is None
    unit = service.save_unit(session, code=code, name=data.name, kind=data.kind, parent_code=data.parent, phone=data.phone, active=data.active, actor=actor.name, region_code=data.region, base_state=data.base_state)
    if created:
        response.status_code = 201
    return unit_out(unit)


@router.get("/regions", response_model=list[schemas.RegionOut])
def list_regions(session: Session = Depends(get_db_session)):
    return [
        schemas.RegionOut(
            code=r.code,
            name=r.name,
            short_name=r.short_name,
            kind=r.kind,
            parent=r.parent.code if r.parent else None,
            aliases=r.aliases,
            lat=r.lat,
            lon=r.lon,
        )
        for r in service.list_regions(session)
    ]


def category_out(c) -> schemas.CategoryOut:
    return schemas.CategoryOut(code=c.code, name=c.name, level=c.level, parent=c.parent.code if c.parent else None, path=c.path, active=c.active)


@router.get("/categories", response_model=list[schemas.CategoryOut])
def list_categories(session: Session = Depends(get_db_session)):
    return [category_out(c) for c in service.list_categories(session)]


@router.put("/categories/{code}", response_model=schemas.CategoryOut, responses={201: {"model": schemas.CategoryOut, "description": "新建的分类"}})
def save_category(code: str, data: schemas.CategoryIn, response: Response, actor: Actor = Depends(require_roles("admin")), session: Session = Depends(get_db_session)):
    """Creates (201) or replaces (200) the category."""
    created = service.find_category(session, code=code) is None
    category = service.save_category(session, code=code, name=data.name, parent_code=data.parent, active=data.active, actor=actor.name)
    if created:
        response.status_code = 201
    return category_out(category)


account_managers = require_roles("admin", "unit_admin")


@router.get("/users", response_model=list[schemas.UserOut])
def list_users(actor: Actor = Depends(account_managers), session: Session = Depends(get_db_session)):
    """Every account for the system admin; a unit admin's own unit and the units under it (本单位人员)."""
    return [user_out(u) for u in service.list_users(session, scope=service.account_scope(session, actor=actor))]


@router.post("/users", response_model=schemas.UserOut, status_code=201)
def create_user(data: schemas.UserIn, actor: Actor = Depends(account_managers), session: Session = Depends(get_db_session)):
    """A unit admin creates handlers only, in their unit (the default) or one under it."""
    scope = service.account_scope(session, actor=actor)
    user = service.create_user(
        session, username=data.username, password=data.password, role=data.role, unit_code=data.unit or (actor.unit_code if scope else None),
        display_name=data.display_name, phone=data.phone, actor=actor.name, scope=scope,
    )
    return user_out(user)


@router.get("/users/{username}", response_model=schemas.UserOut)
def get_user(username: str, actor: Actor = Depends(account_managers), session: Session = Depends(get_db_session)):
    return user_out(service.get_user(session, username=username, scope=service.account_scope(session, actor=actor)))


@router.patch("/users/{username}", response_model=schemas.UserOut)
def update_user(username: str, data: schemas.UserPatch, actor: Actor = Depends(account_managers), session: Session = Depends(get_db_session)):
    """Changes the fields given; a new role, unit or password ends the account's sessions and tokens, and a new
    unit (or a centre role) returns the orders the account was 承办人 of to its old unit's 未指派 (`released_orders`).
    With `base_state`, a change someone saved since is refused (409 `user_changed`)."""
    scope = service.account_scope(session, actor=actor)
    user = service.get_user(session, username=username, scope=scope)
    role = data.role or user.role
    unit = data.unit if data.unit is not None else (user.unit.code if user.unit else None)
    display_name = data.display_name if data.display_name is not None else user.display_name
    change = service.update_user(
        session, username=username, display_name=display_name, role=role, unit_code=unit or None, password=data.password, phone=data.phone,
        actor=actor.name, base_state=data.base_state, scope=scope,
    )
    return user_out(change.user, released=change.released)


@router.post("/users/{username}/disable", response_model=schemas.UserOut)
def disable_user(username: str, actor: Actor = Depends(account_managers), session: Session = Depends(get_db_session)):
    """Ends the account's sessions and tokens at once, and returns the orders it was 承办人 of to its unit's 未指派
    (`released_orders`); nobody disables their own account."""
    change = service.disable_user(session, username=username, actor=actor.name, scope=service.account_scope(session, actor=actor))
    return user_out(change.user, released=change.released)


@router.post("/users/{username}/enable", response_model=schemas.UserOut)
def enable_user(username: str, actor: Actor = Depends(account_managers), session: Session = Depends(get_db_session)):
    return user_out(service.enable_user(session, username=username, actor=actor.name, scope=service.account_scope(session, actor=actor)))


def user_out(user, *, released: tuple[str, ...] = ()) -> schemas.UserOut:
    return schemas.UserOut(
        username=user.username, display_name=user.display_name, phone=user.phone, role=user.role, unit=user.unit.code if user.unit else None, active=user.active,
        state=service.account_state(user), released_orders=list(released),
    )
