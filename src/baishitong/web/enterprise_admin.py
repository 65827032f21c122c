"""惠企政策管理 for the system admin: list, add, edit and retire policies and financing products.

A refused form comes back with what was typed and the message beside the field that is wrong.
"""

from datetime import date

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong.deps import get_db_session
from baishitong.enterprise import INDUSTRIES, SIZES, STATUS_LABELS, TAGS
from baishitong.enterprise import service as enterprise
from baishitong.enterprise.models import FinancingProduct, Policy
from baishitong.enterprise.schemas import PolicyIn, ProductIn
from baishitong.errors import DomainError
from baishitong.org.models import Unit
from baishitong.web.auth import Staff, require
from baishitong.web.csrf import checked_form
from baishitong.web.views import flash, redirect, render

router = APIRouter(prefix="/staff/enterprise", include_in_schema=False)
admin_only = require("admin")
PAGE = "/staff/enterprise"
FACETS = ("industries", "sizes", "towns", "tags")
POLICY_TEXT = ("title", "unit", "summary", "body", "benefit", "apply_from", "apply_to", "min_years", "status")
PRODUCT_TEXT = ("institution", "name", "summary", "amount_min", "amount_max", "rate", "term", "contact", "min_years", "status")


def _blank_policy() -> dict:
    return {"id": "", **{k: "" for k in POLICY_TEXT}, "min_years": "0", "status": "draft", **{k: [] for k in FACETS}}


def _blank_product() -> dict:
    return {"id": "", **{k: "" for k in PRODUCT_TEXT}, "min_years": "0", "status": "draft", **{k: [] for k in FACETS}}


def _text(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def _row_values(row: Policy | FinancingProduct, fields: tuple[str, ...]) -> dict:
    values = {"id": str(row.id), **{k: list(getattr(row, k)) for k in FACETS}}
    for name in fields:
        values[name] = row.unit.code if name == "unit" else _text(getattr(row, name))
    return values


def _form_values(form: FormData, fields: tuple[str, ...]) -> dict:
    values = {k: str(form.get(k, "")) for k in ("id", *fields)}
    values.update({k: [str(v) for v in form.getlist(k)] for k in FACETS})
    return values


def _payload(values: dict, fields: tuple[str, ...]) -> dict:
    """What the schema validates: blanks as None for dates and amounts, so they read as 'not set'."""
    data = {k: values[k] for k in (*fields, *FACETS)}
    for name in ("apply_from", "apply_to", "amount_min", "amount_max"):
        if name in data and not data[name].strip():
            data[name] = None
    if not data["min_years"].strip():
        data["min_years"] = 0
    return data


def _errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "form"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] in ("date_from_datetime_parsing", "date_parsing", "date_type"):
            message = "请按 年-月-日 填写日期"
        elif error["type"] in ("int_parsing", "int_type"):
            message = "请填写整数"
        errors.setdefault(field, message)
    return errors


def _page(request: Request, session: Session, *, policy: dict | None = None, product: dict | None = None, errors: dict | None = None, status_code: int = 200):
    units = [(u.code, u.name) for u in session.scalars(select(Unit).where(Unit.active.is_(True), Unit.kind.in_(("department", "town"))).order_by(Unit.id))]
    return render(
        request,
        "staff/enterprise.html",
        {
            "nav": PAGE,
            "policies": enterprise.list_policies(session, statuses=tuple(STATUS_LABELS), include_closed=True),
            "products": enterprise.list_products(session, statuses=tuple(STATUS_LABELS)),
            "policy": policy or _blank_policy(),
            "product": product or _blank_product(),
            "errors": errors or {},
            # Which form is open: the one being edited or refused; the policy form otherwise.
            "editing": "product" if product is not None else "policy",
            "units": units,
            "towns": list(enterprise.town_names(session).items()),
            "industries": list(INDUSTRIES.items()),
            "sizes": list(SIZES.items()),
            "tags": list(TAGS.items()),
            "statuses": list(STATUS_LABELS.items()),
            "today": enterprise.today(),
            "amount_text": enterprise.amount_text,
        },
        status_code=status_code,
    )


@router.get("")
def overview(request: Request, policy: str = "", product: str = "", staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    """?policy=ID or ?product=ID opens that row in its form."""
    editing_policy = _row_values(enterprise.get_policy(session, policy_id=int(policy), published_only=False), POLICY_TEXT) if policy.isdigit() else None
    editing_product = _row_values(enterprise.get_product(session, product_id=int(product), published_only=False), PRODUCT_TEXT) if product.isdigit() else None
    return _page(request, session, policy=editing_policy, product=editing_product)


@router.post("/policies")
def save_policy(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    values = _form_values(form, POLICY_TEXT)
    try:
        data = PolicyIn.model_validate(_payload(values, POLICY_TEXT))
        if values["id"].isdigit():
            saved = enterprise.update_policy(session, actor=staff.actor, policy_id=int(values["id"]), data=data)
        else:
            saved = enterprise.create_policy(session, actor=staff.actor, data=data)
    except ValidationError as exc:
        return _page(request, session, policy=values, errors=_errors(exc), status_code=422)
    except DomainError as exc:
        session.rollback()
        return _page(request, session, policy=values, errors={"form": exc.message}, status_code=exc.status_code)
    flash(request, "success", f"已保存政策“{saved.title}”（{STATUS_LABELS[saved.status]}）")
    return redirect(PAGE)


@router.post("/products")
def save_product(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    values = _form_values(form, PRODUCT_TEXT)
    try:
        data = ProductIn.model_validate(_payload(values, PRODUCT_TEXT))
        if values["id"].isdigit():
            saved = enterprise.update_product(session, actor=staff.actor, product_id=int(values["id"]), data=data)
        else:
            saved = enterprise.create_product(session, actor=staff.actor, data=data)
    except ValidationError as exc:
        return _page(request, session, product=values, errors=_errors(exc), status_code=422)
    except DomainError as exc:
        session.rollback()
        return _page(request, session, product=values, errors={"form": exc.message}, status_code=exc.status_code)
    flash(request, "success", f"已保存融资产品“{saved.name}”（{STATUS_LABELS[saved.status]}）")
    return redirect(PAGE + "#products")


@router.post("/policies/{policy_id}/retire")
def retire_policy(policy_id: int, request: Request, _form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    policy = enterprise.retire_policy(session, actor=staff.actor, policy_id=policy_id)
    flash(request, "success", f"已下架政策“{policy.title}”，不再向企业展示")
    return redirect(PAGE)


@router.post("/products/{product_id}/retire")
def retire_product(product_id: int, request: Request, _form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    product = enterprise.retire_product(session, actor=staff.actor, product_id=product_id)
    flash(request, "success", f"已下架融资产品“{product.name}”，不再向企业展示")
    return redirect(PAGE + "#products")
