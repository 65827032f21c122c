"""惠企政策管理 for the system admin: list, add, edit and retire policies and financing products.

A refused form comes back with what was typed and the message beside the field that is wrong.
"""

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong import validation_text
from baishitong.deps import get_db_session
from baishitong.enterprise import INDUSTRIES, SIZES, STATUS_LABELS, TAGS, alerts
from baishitong.enterprise import service as enterprise
from baishitong.org import service as org
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


@dataclass(frozen=True)
class Kind:
    """What differs between the policy form and the product form."""

    key: str  # "policy" or "product": the ?key=ID that opens a row, the form's anchor, _page's keyword
    model: type[Policy] | type[FinancingProduct]
    schema: type[PolicyIn] | type[ProductIn]
    fields: tuple[str, ...]
    noun: str  # in the flash messages
    label: str  # the attribute naming a row in the flash messages
    back: str  # where the page opens after a save or a retirement


POLICY = Kind("policy", Policy, PolicyIn, POLICY_TEXT, "政策", "title", PAGE)
PRODUCT = Kind("product", FinancingProduct, ProductIn, PRODUCT_TEXT, "融资产品", "name", PAGE + "#products")


def _blank(kind: Kind) -> dict:
    return {"id": "", "version": "", **{k: "" for k in kind.fields}, "min_years": "0", "status": "draft", **{k: [] for k in FACETS}}


def _text(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def _row_values(row: Policy | FinancingProduct, fields: tuple[str, ...]) -> dict:
    values = {"id": str(row.id), "version": str(row.version), **{k: list(getattr(row, k)) for k in FACETS}}
    for name in fields:
        values[name] = row.unit.code if name == "unit" else _text(getattr(row, name))
    return values


def _form_values(form: FormData, fields: tuple[str, ...]) -> dict:
    values = {k: str(form.get(k, "")) for k in ("id", "version", *fields)}
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
        message = validation_text.describe(error)
        if error["type"] in ("date_from_datetime_parsing", "date_parsing", "date_type"):
            message = validation_text.day_error(str(error.get("input", "")))
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
            "policy": policy or _blank(POLICY),
            "product": product or _blank(PRODUCT),
            "errors": errors or {},
            # Which form is open: the one being edited or refused; the policy form otherwise.
            "editing": "product" if product is not None else "policy",
            "units": units,
            "towns": list(org.town_names(session).items()),
            "industries": list(INDUSTRIES.items()),
            "sizes": list(SIZES.items()),
            "tags": list(TAGS.items()),
            "statuses": list(STATUS_LABELS.items()),
            "today": enterprise.today(),
            "amount_text": enterprise.amount_text,
            "subscriptions": alerts.counts(session),
            "alerts_sent": alerts.alerts_sent(session),
        },
        status_code=status_code,
    )


def _editing(session: Session, kind: Kind, row_id: str) -> dict | None:
    """The row's values for its form, when the query asked for one."""
    if not row_id.isdigit():
        return None
    return _row_values(enterprise.get(session, kind.model, row_id=int(row_id), published_only=False), kind.fields)


@router.get("")
def overview(request: Request, policy: str = "", product: str = "", staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    """?policy=ID or ?product=ID opens that row in its form."""
    return _page(request, session, policy=_editing(session, POLICY, policy), product=_editing(session, PRODUCT, product))


def _save(request: Request, session: Session, staff: Staff, form: FormData, kind: Kind):
    """Adds a row, or replaces one when the form carries its id; a refusal shows the form again as typed."""
    values = _form_values(form, kind.fields)
    try:
        data = kind.schema.model_validate(_payload(values, kind.fields) | {"version": values["version"] or None})
        if values["id"].isdigit():
            saved = enterprise.update(session, kind.model, actor=staff.actor, row_id=int(values["id"]), data=data)
        else:
            saved = enterprise.create(session, kind.model, actor=staff.actor, data=data)
    except ValidationError as exc:
        return _page(request, session, **{kind.key: values}, errors=_errors(exc), status_code=422)
    except DomainError as exc:
        session.rollback()
        return _page(request, session, **{kind.key: values}, errors={"form": exc.message}, status_code=exc.status_code)
    flash(request, "success", f"已保存{kind.noun}“{getattr(saved, kind.label)}”（{STATUS_LABELS[saved.status]}）")
    return redirect(kind.back)


def _retire(request: Request, session: Session, staff: Staff, kind: Kind, row_id: int):
    row = enterprise.retire(session, kind.model, actor=staff.actor, row_id=row_id)
    flash(request, "success", f"已下架{kind.noun}“{getattr(row, kind.label)}”，不再向企业展示")
    return redirect(kind.back)


@router.post("/policies")
def save_policy(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    return _save(request, session, staff, form, POLICY)


@router.post("/products")
def save_product(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    return _save(request, session, staff, form, PRODUCT)


@router.post("/policies/{policy_id}/retire")
def retire_policy(policy_id: int, request: Request, _form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    return _retire(request, session, staff, POLICY, policy_id)


@router.post("/products/{product_id}/retire")
def retire_product(product_id: int, request: Request, _form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    return _retire(request, session, staff, PRODUCT, product_id)
