"""惠企政策 for enterprises: a GET profile form → the policies and financing products that fit, and why.

The profile travels in the query string (no login, no JS, shareable, nothing stored unless the
enterprise subscribes to 新政策提醒, by SMS with double opt-in); detail links
carry it on so the detail page can say which conditions this enterprise meets. The credit code is
checked but never carried on: it stays out of links and of the 我要咨询 prefill.
"""

import re
from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from starlette.datastructures import FormData, QueryParams
from pydantic import ValidationError
from sqlalchemy.orm import Session

from baishitong import validation_text
from baishitong.dates import day_text
from baishitong.deps import client_id, get_db_session
from baishitong.enterprise import INDUSTRIES, SIZES, TAGS, matching
from baishitong.enterprise import service as enterprise
from baishitong.enterprise import alerts
from baishitong.enterprise.models import FinancingProduct, Policy, PolicySubscription
from baishitong.enterprise.schemas import ProfileIn
from baishitong.errors import Conflict, InvalidInput
from baishitong.org import service as org
from baishitong.security import mask_phone
from baishitong.web.csrf import checked_form
from baishitong.web.kb import markdown
from baishitong.web.views import render

router = APIRouter(include_in_schema=False)

PROFILE_KEYS = ("industry", "size", "town", "year", "name", "credit_code")
# The fields a link may carry on; the credit code is left behind.
CARRIED = ("industry", "size", "town", "year", "name")
_FIELD_OF = {"year_established": "year"}


def _values(params: QueryParams | FormData) -> dict:
    """The profile as typed, from the query string (the form) or a posted form (订阅提醒)."""
    values: dict = {k: str(params.get(k, "")).strip()[:100] for k in PROFILE_KEYS}
    values["tags"] = [t for t in params.getlist("tags") if t in TAGS]
    return values


def _profile(values: dict, towns: Mapping[str, str]) -> tuple[ProfileIn | None, dict[str, str]]:
    """The validated profile, or the Chinese message for each field that is wrong."""
    raw = {"industry": values["industry"], "size": values["size"], "town": values["town"], "tags": values["tags"], "name": values["name"] or None, "credit_code": values["credit_code"] or None}
    errors: dict[str, str] = {}
    if values["year"].isdigit():
        raw["year_established"] = int(values["year"])
    else:
        errors["year"] = "请填写成立年份（4位数字，如 2018）"
    # Told with the others: checked only after them, a missing 所在镇街 came up once the rest had been put right.
    if values["town"] not in towns:
        errors["town"] = "请选择企业所在镇街"
    try:
        data = ProfileIn.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "form"
            errors.setdefault(_FIELD_OF.get(field, field), validation_text.describe(error))
        return None, errors
    if errors:
        return None, errors
    return data, {}


def carried_query(values: dict) -> str:
    pairs = [(k, values[k]) for k in CARRIED if values.get(k)] + [("tags", t) for t in values.get("tags", [])]
    return urlencode(pairs)


def _options(towns: Mapping[str, str]) -> dict:
    return {"industries": list(INDUSTRIES.items()), "sizes": [(c, f"{label}企业") for c, label in SIZES.items()], "tag_options": list(TAGS.items()), "towns": list(towns.items())}


def _window_text(policy: Policy) -> Markup:
    """Each date with its year (a window may run into the next), whole on one line: a phone would break it."""
    def day(value) -> Markup:
        return Markup('<time class="nowrap" datetime="{}">{}</time>').format(value.isoformat(), day_text(value, year=True))

    if policy.apply_from and policy.apply_to:
        return Markup("{} 至 {}").format(day(policy.apply_from), day(policy.apply_to))
    if policy.apply_to:
        return Markup("截至 {}").format(day(policy.apply_to))
    if policy.apply_from:
        return Markup("{} 起").format(day(policy.apply_from))
    return Markup("常年受理")


def _result(found: matching.Match) -> dict:
    row = found.item
    if isinstance(row, Policy):
        return {"match": found, "id": row.id, "title": row.title, "issuer": row.unit.name, "benefit": row.benefit, "window": _window_text(row)}
    return {"match": found, "id": row.id, "title": row.name, "issuer": row.institution, "benefit": enterprise.amount_text(row), "rate": row.rate, "term": row.term}


@router.get("/enterprise")
def enterprise_page(request: Request, session: Session = Depends(get_db_session)):
    """Without a profile: the form and the published policies. With one: what fits, full matches first."""
    asked = any(k in request.query_params for k in ("industry", "size", "town", "year"))
    return _enterprise_page(request, session, _values(request.query_params), asked=asked)


def _enterprise_page(request: Request, session: Session, values: dict, *, asked: bool, **extra):
    towns = org.town_names(session)
    context = {"values": values, "errors": {}, "asked": asked, "nav": "/enterprise", **_options(towns), **extra}
    if asked:
        data, errors = _profile(values, towns)
        context["errors"] = errors
        if data is not None:
            policies, products = enterprise.match(session, data=data)
            context.update(policies=[_result(m) for m in policies], products=[_result(m) for m in products], carried=carried_query(values), credit_code=data.credit_code)
    else:
        context["all_policies"] = [{"id": p.id, "title": p.title, "issuer": p.unit.name, "benefit": p.benefit, "window": _window_text(p)} for p in enterprise.list_policies(session)]
    failed = context["errors"] or extra.get("alert_error")
    return render(request, "public/enterprise.html", context, status_code=422 if failed else 200)


# --- 新政策提醒 --------------------------------------------------------------------


@router.post("/enterprise/alerts")
def subscribe(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    """The results page's 订阅提醒: the profile rides along in hidden fields, the phone is typed."""
    request.app.state.rate_limiter.hit("intake", client_id(request), limit=request.app.state.settings.intake_rate_limit_per_minute)
    values, phone = _values(form), str(form.get("phone", "")).strip()[:20]
    data, errors = _profile(values, org.town_names(session))
    if data is None:
        return _enterprise_page(request, session, values, asked=True)
    try:
        row, sent = alerts.subscribe(session, data=data, phone=phone)
    except InvalidInput as exc:
        return _enterprise_page(request, session, values, asked=True, alert_error=exc.message, alert_phone=phone)
    masked = mask_phone(row.phone)
    text = f"确认短信已发送到 {masked}，请在 24 小时内打开短信中的链接完成订阅。" if sent else f"确认短信几分钟前已发送到 {masked}，请查收；企业情况已按本次填写更新。"
    return render(request, "public/enterprise_alerts.html", {"messages": [("success", text)], "subscription": None, "nav": "/enterprise"})


def _subscription_page(request: Request, session: Session, row: PolicySubscription, messages: list[tuple[str, str]], *, status_code: int = 200):
    towns = org.town_names(session)
    facts = [
        ("企业名称", row.name or "—"),
        ("所属行业", INDUSTRIES.get(row.industry, row.industry)),
        ("企业规模", f"{SIZES.get(row.size, row.size)}企业"),
        ("所在镇街", towns.get(row.town, row.town)),
        ("成立年份", str(row.year_established)),
        ("企业资质", "、".join(TAGS.get(t, t) for t in row.tags) or "—"),
        ("手机号码", mask_phone(row.phone) or "—"),
    ]
    lapsed = alerts.lapsed(row)
    if lapsed:
        messages = [*messages, ("warning", "确认链接已过期（24 小时内有效），请重新查找政策后订阅。")]
    context = {"subscription": row, "status_label": alerts.STATUS_LABELS[row.status], "facts": facts, "lapsed": lapsed, "masked_phone": mask_phone(row.phone), "messages": messages, "nav": "/enterprise"}
    return render(request, "public/enterprise_alerts.html", context, status_code=status_code)


@router.get("/enterprise/alerts/{token}")
def subscription_page(token: str, request: Request, session: Session = Depends(get_db_session)):
    """The link in every SMS: confirm a pending subscription, or cancel an active one (a POST, never on GET)."""
    return _subscription_page(request, session, alerts.get_by_token(session, token=token), [])


@router.post("/enterprise/alerts/{token}")
def subscription_action(token: str, request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    action = form.get("action")
    try:
        if action == "confirm":
            row = alerts.confirm(session, token=token)
            messages = [("success", "订阅成功。符合贵企业情况的新政策发布后，我们会发短信告诉您。")]
        elif action == "cancel":
            row = alerts.cancel(session, token=token)
            messages = [("success", "已退订，不会再收到新政策提醒，手机号码已不再保留。")]
        else:
            raise InvalidInput("unknown_action", "不支持的操作")
    except (Conflict, InvalidInput) as exc:
        session.rollback()
        return _subscription_page(request, session, alerts.get_by_token(session, token=token), [("error", exc.message)], status_code=409 if isinstance(exc, Conflict) else 422)
    return _subscription_page(request, session, row, messages)


def _conditions(row: Policy | FinancingProduct, names: Mapping[str, str]) -> list[tuple[str, str]]:
    """Eligibility in words, one line per facet, for the detail page."""
    either = "（具备其一即可）" if len(row.tags) > 1 else ""
    return [
        ("适用行业", "、".join(INDUSTRIES.get(c, c) for c in row.industries) or "不限"),
        ("企业规模", "、".join(f"{SIZES.get(c, c)}企业" for c in row.sizes) or "不限"),
        ("适用镇街", "、".join(names.get(c, c) for c in row.towns) or "全区"),
        ("资质要求", "、".join(TAGS.get(c, c) for c in row.tags) + either if row.tags else "不限"),
        ("成立年限", f"满 {row.min_years} 年" if row.min_years else "不限"),
    ]


def _fit(request: Request, row: Policy | FinancingProduct, towns: Mapping[str, str]) -> tuple[dict, dict | None]:
    """(the carried profile values, this enterprise's met/missing for the row) when a valid profile came along."""
    values = _values(request.query_params)
    values["credit_code"] = ""
    data, errors = _profile(values, towns) if values["industry"] else (None, {})
    if data is None:
        return values, None
    met, missing = matching.explain(row.eligibility, enterprise.profile(data, towns=towns), today=enterprise.today(), town_names=towns)
    return values, {"met": met, "missing": missing}


def consult_url(policy: Policy, values: dict, town_names: Mapping[str, str]) -> str:
    """我要反映 prefilled as a 咨询 from the enterprise platform about this policy."""
    lines = [f"我想咨询“{policy.title}”（{policy.unit.name}）的申报条件和办理流程。"]
    facts = [
        ("企业名称", values.get("name")),
        ("所属行业", INDUSTRIES.get(values.get("industry", ""))),
        ("企业规模", SIZES.get(values.get("size", ""))),
        ("所在镇街", town_names.get(values.get("town", ""))),
        ("成立年份", values.get("year")),
        ("企业资质", "、".join(TAGS[t] for t in values.get("tags", []))),
    ]
    lines += [f"{label}：{value}" for label, value in facts if value]
    # `policy` sends the question to the policy's issuer rather than wherever the router would put it.
    query = {"type": "咨询", "channel": "enterprise", "policy": policy.id, "title": f"咨询惠企政策：{policy.title}"[:200], "content": "\n".join(lines)}
    if values.get("town") in town_names:
        query["region"] = values["town"]
    return "/submit?" + urlencode(query)


@router.get("/enterprise/policies/{policy_id}")
def policy_detail(policy_id: int, request: Request, session: Session = Depends(get_db_session)):
    policy = enterprise.get(session, Policy, row_id=policy_id)
    towns = org.town_names(session)
    values, fit = _fit(request, policy, towns)
    today = enterprise.today()
    days_left = (policy.apply_to - today).days if policy.apply_to else None
    context = {
        "policy": policy,
        "body": markdown(policy.body, top=2),
        "window": _window_text(policy),
        "closed": days_left is not None and days_left < 0,
        "days_left": days_left,
        "closing_soon": days_left is not None and 0 <= days_left <= matching.CLOSING_SOON_DAYS,
        "not_yet_open": policy.apply_from is not None and policy.apply_from > today,
        "conditions": _conditions(policy, towns),
        "fit": fit,
        "carried": carried_query(values),
        "consult_url": consult_url(policy, values, towns),
        "nav": "/enterprise",
    }
    return render(request, "public/enterprise_policy.html", context)


# A mobile or a landline with its area code (0757-22300001), as an institution's contact line gives them.
_PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")


def tel_parts(text: str) -> list[tuple[str, str | None]]:
    """The text cut around its phone numbers, each with the number to dial: on a phone one tap calls it."""
    parts, at = [], 0
    for found in _PHONE.finditer(text):
        parts += [(text[at : found.start()], None), (found.group(), found.group().replace("-", ""))]
        at = found.end()
    return [part for part in [*parts, (text[at:], None)] if part[0]]


@router.get("/enterprise/products/{product_id}")
def product_detail(product_id: int, request: Request, session: Session = Depends(get_db_session)):
    product = enterprise.get(session, FinancingProduct, row_id=product_id)
    towns = org.town_names(session)
    values, fit = _fit(request, product, towns)
    context = {
        "product": product, "amount": enterprise.amount_text(product), "contact": tel_parts(product.contact), "conditions": _conditions(product, towns), "fit": fit,
        "carried": carried_query(values), "nav": "/enterprise",
    }
    return render(request, "public/enterprise_product.html", context)

