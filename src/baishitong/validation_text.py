"""pydantic's validation errors in Chinese: integrators and citizens read the message, not the type."""

import re
from collections.abc import Iterable, Mapping
from datetime import date

_FIXED = {
    "missing": "必填",
    "string_type": "应为文本",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "date_parsing": "日期格式不正确（如 2026-12-05）",
    "date_from_datetime_parsing": "日期格式不正确（如 2026-12-05）",
    "date_type": "日期格式不正确（如 2026-12-05）",
    "datetime_parsing": "时间格式不正确（如 2026-12-05T09:00:00+08:00）",
    "datetime_from_date_parsing": "时间格式不正确（如 2026-12-05T09:00:00+08:00）",
    "datetime_type": "时间格式不正确（如 2026-12-05T09:00:00+08:00）",
    "timezone_aware": "时间须带时区（如 +08:00）",
    "json_invalid": "请求体不是合法的 JSON",
    "json_type": "请求体不是合法的 JSON",
    "extra_forbidden": "不支持该字段",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "none_required": "应为空",
    "url_parsing": "网址格式不正确",
    "uuid_parsing": "格式不正确",
}


DAY_FORMAT = "格式应为 年-月-日"
_DAY_SHAPE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DAY_KINDS = ("date_parsing", "date_from_datetime_parsing", "datetime_parsing", "datetime_from_date_parsing")


def missing_day(text: str) -> str | None:
    """The 年-月-日 a date or time starts with when it is written as one but there is no such day (2026-02-30,
    2026-13-01): the person typed a date, just not a real one, and is told that rather than how to write one."""
    shaped = _DAY_SHAPE.match(text.strip())
    if shaped is None:
        return None
    try:
        date(*map(int, shaped.groups()))
    except ValueError:
        return shaped.group(0)
    return None


def day_error(text: str, label: str = "日期") -> str:
    """Why a typed date was refused, the same on every page: there is no such day, or it is not 年-月-日."""
    missing = missing_day(text)
    return f"{label}不存在：{missing}" if missing else f"{label}{DAY_FORMAT}"


def _choices(expected: str) -> str:
    return expected.replace("' or '", "'、'").replace("', '", "'、'")


def describe(error: Mapping) -> str:
    """One error's message, without its location."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        return str(error.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in _DAY_KINDS and isinstance(error.get("input"), str) and (missing := missing_day(error["input"])):
        return f"日期不存在：{missing}"
    if kind in _FIXED:
        return _FIXED[kind]
    if kind == "string_too_short":
        return f"至少 {ctx.get('min_length')} 个字"
    if kind == "string_too_long":
        return f"最多 {ctx.get('max_length')} 个字"
    if kind == "too_short":
        return f"至少 {ctx.get('min_length')} 项"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    if kind in ("literal_error", "enum"):
        return f"只能是 {_choices(str(ctx.get('expected', '')))}"
    bounds = {"greater_than": ("应大于", "gt"), "greater_than_equal": ("应不小于", "ge"), "less_than": ("应小于", "lt"), "less_than_equal": ("应不大于", "le")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"{words} {ctx.get(key)}"
    return "取值无效"


def location(error: Mapping) -> str:
    """Where: the field path without pydantic's request sections; a JSON syntax error has no field."""
    if error.get("type") in ("json_invalid", "json_type"):
        return ""
    return ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header"))


def summary(errors: Iterable[Mapping], *, limit: int = 5) -> str:
    parts = []
    for error in list(errors)[:limit]:
        where = location(error) or ("" if error.get("type") in ("json_invalid", "json_type") else "请求体")
        parts.append(f"{where}：{describe(error)}" if where else describe(error))
    return "请求内容有误：" + "；".join(dict.fromkeys(parts))
