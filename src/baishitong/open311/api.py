"""Open311 GeoReport v2 endpoints (JSON and XML) under /open311/v2.

Errors on these paths use the spec's format, `[{"code": 400, "description": "..."}]`,
instead of the platform's `{"error": ...}`, so stock 311 clients can read them.
"""

import logging
import re
from collections.abc import Callable
from typing import Annotated
from urllib.parse import parse_qsl
from xml.etree import ElementTree

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from baishitong import idempotency
from baishitong.actors import Actor
from baishitong.body_limit import BodyTooLarge
from baishitong.bounds import OUT_OF_RANGE
from baishitong.db import DATABASE_RETRY_AFTER, DATABASE_UNAVAILABLE, database_unavailable, unavailable_reason
from baishitong.deps import client_id, get_db_session, optional_actor
from baishitong.errors import DomainError, InvalidInput, NotFound
from baishitong.open311 import schemas, service
from baishitong.tickets import schemas as ticket_schemas

log = logging.getLogger(__name__)

FORMATS = ("json", "xml")
# Element names for list members in XML, as the spec's examples spell them.
_XML_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}
_MESSAGES = {404: "请求的资源不存在", 405: "不支持该请求方法", 422: "请求参数有误"}


def _message(exc: StarletteHTTPException) -> str:
    return exc.detail if isinstance(exc, BodyTooLarge) else _MESSAGES.get(exc.status_code, "请求无法处理")


# The key may come in a header instead of the address, which access logs, proxies and browser histories keep.
ApiKeyHeader = Annotated[str | None, Header(alias="X-Api-Key", description="api_key 也可放在此请求头中（优先于地址或表单中的 api_key），不会留在访问日志里")]


def _read_limit(
    request: Request,
    api_key: Annotated[str | None, Query(description="平台签发的 API 令牌；读取时可不带，带有效令牌的调用按令牌计数，频率上限更高")] = None,
    x_api_key: ApiKeyHeader = None,
    actor: Actor | None = Depends(optional_actor),
    session: Session = Depends(get_db_session),
) -> None:
    """Reads have their own limits, not the citizen tracking one: an integration polling status with a valid
    api_key is counted per key at the higher limit, anyone else per address; a bearer token is not limited
    (deps.rate_limit)."""
    if actor is not None:
        return
    settings, limiter = request.app.state.settings, request.app.state.rate_limiter
    user = service.api_key_user(session, x_api_key or api_key)
    if user is not None:
        limiter.hit("open311.read.key", str(user.id), limit=settings.open311_api_key_read_rate_limit_per_minute)
    else:
        limiter.hit("open311.read", client_id(request), limit=settings.open311_read_rate_limit_per_minute)


_read = Depends(_read_limit)


def _format_of(request: Request) -> str:
    fmt = request.path_params.get("fmt", "json")
    return fmt if fmt in FORMATS else "json"


# What XML 1.0 cannot carry at all (control characters, lone surrogates): ElementTree writes them as they are,
# and one such character in a unit's reply or an echoed request id makes the whole document unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value) -> str:
    return _NOT_XML.sub("", str(value))


def _xml_fill(parent: ElementTree.Element, data: dict) -> None:
    for key, value in data.items():
        child = ElementTree.SubElement(parent, key)
        if isinstance(value, list):
            for item in value:
                member = ElementTree.SubElement(child, _XML_ITEMS.get(key, "item"))
                if isinstance(item, dict):
                    _xml_fill(member, item)
                else:
                    member.text = _xml_text(item)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = _xml_text(value)


def render(fmt: str, payload, *, root: str, item: str | None = None, status_code: int = 200) -> Response:
    """A list (or, with item=None, a single object) as JSON or as the spec's XML."""
    data = [p.model_dump() if isinstance(p, BaseModel) else p for p in payload] if item else payload.model_dump()
    if fmt == "json":
        return JSONResponse(data, status_code=status_code)
    element = ElementTree.Element(root)
    if item:
        for entry in data:
            _xml_fill(ElementTree.SubElement(element, item), entry)
    else:
        _xml_fill(element, data)
    body = ElementTree.tostring(element, encoding="unicode", xml_declaration=False)
    return Response('<?xml version="1.0" encoding="utf-8"?>' + body, status_code=status_code, media_type="text/xml; charset=utf-8")


def _error(fmt: str, status_code: int, description: str, headers=None) -> Response:
    code = 400 if status_code == 422 else status_code
    response = render(fmt, [{"code": code, "description": description}], root="errors", item="error", status_code=code)
    if headers:
        response.headers.update(headers)
    return response


def unmatched(request: Request, exc: StarletteHTTPException) -> Response:
    """An address under /open311/v2 that no endpoint serves (discovery.json, a typo) answers a 311 client
    in the spec's format, in XML when it asked for .xml, not with a web page."""
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    return _error(fmt, exc.status_code, _message(exc), getattr(exc, "headers", None))


def unavailable(request: Request, exc: Exception) -> Response:
    """The database is down or restarting: 503 in the spec's format, with Retry-After, so a 311 client retries."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, unavailable_reason(exc))
    fmt = "xml" if request.url.path.endswith(".xml") else _format_of(request)
    return _error(fmt, 503, DATABASE_UNAVAILABLE, {"Retry-After": str(DATABASE_RETRY_AFTER)})


class Open311Error(Exception):
    """The spec's error answer, raised rather than returned: the request's transaction is a dependency that ends
    after the route, and it must see the failure to roll back what the request began (a 409 idempotency_in_progress
    comes once the order is already written, and would otherwise commit it as a second one)."""

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


async def raised(_request: Request, exc: Open311Error) -> Response:
    return exc.response


class Open311Route(APIRoute):
    """Turns every error on an Open311 path, dependencies included, into the spec's error list."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            fmt = _format_of(request)
            try:
                return await handler(request)
            except DomainError as exc:
                raise Open311Error(_error(fmt, exc.status_code, exc.message, exc.headers)) from exc
            except RequestValidationError as exc:
                fields = "、".join(str(e["loc"][-1]) for e in exc.errors())
                raise Open311Error(_error(fmt, 400, f"请求参数有误：{fields}")) from exc
            except StarletteHTTPException as exc:
                raise Open311Error(_error(fmt, exc.status_code, _message(exc), getattr(exc, "headers", None))) from exc
            except OverflowError as exc:
                raise Open311Error(_error(fmt, 400, OUT_OF_RANGE)) from exc
            except Exception as exc:
                if database_unavailable(exc):
                    raise Open311Error(unavailable(request, exc)) from exc
                log.exception("unhandled error on %s", request.url.path)
                raise Open311Error(_error(fmt, 500, "系统繁忙，请稍后再试")) from exc

        return route


_XML_STRING = {"text/xml": {"schema": {"type": "string"}}}
_ERRORS = {
    "description": "规范的错误列表 [{code, description}]（.xml 时为 <errors><error>…）：400 请求参数有误，403 缺少或无效的 api_key，"
    "404 服务、请求或 token 不存在，409 幂等键冲突，429 请求过于频繁",
    "model": list[schemas.ErrorItem],
    "content": _XML_STRING,
}
_BUSY = {"description": "系统繁忙，请稍后重试（同为错误列表）", "model": list[schemas.ErrorItem], "content": _XML_STRING}
router = APIRouter(prefix="/open311/v2", tags=["Open311"], route_class=Open311Route, responses={"4XX": _ERRORS, "5XX": _BUSY})
# The same payload as the JSON schema describes, in the spec's XML elements, when the path ends in .xml.
XML = {"content": _XML_STRING}


def fmt_param(fmt: str) -> str:
    if fmt not in FORMATS:
        raise NotFound("unsupported_format", "仅支持 json 和 xml 格式")
    return fmt


Format = Annotated[str, Depends(fmt_param)]


@router.get("/services.{fmt}", dependencies=[_read], response_model=list[schemas.ServiceOut], responses={200: XML})
def list_services(fmt: Format, session: Session = Depends(get_db_session)):
    return render(fmt, service.list_services(session), root="services", item="service")


@router.get("/services/{service_code}.{fmt}", dependencies=[_read], response_model=schemas.ServiceDefinition, responses={200: XML})
def service_definition(service_code: str, fmt: Format, session: Session = Depends(get_db_session)):
    return render(fmt, service.service_definition(session, code=service_code), root="service_definition")


def _urlencoded(raw: bytes) -> dict[str, str]:
    """A url-encoded form read as UTF-8 throughout: clients such as `curl -d` send Chinese unescaped, which
    the framework's parser reads as Latin-1 and would store as mojibake (路面 → è·¯é¢)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("invalid_encoding", "请求内容须为 UTF-8 编码") from None
    return dict(parse_qsl(text, keep_blank_values=True))


async def submission(request: Request, x_api_key: ApiKeyHeader = None) -> schemas.RequestIn:
    """The spec posts a form; JSON is accepted too. `attribute[code]` keys become the attribute map."""
    # Media types are case-insensitive: "Application/JSON" is JSON, not a form without an api_key.
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("application/json"):
        try:
            body = await request.json()
        except (ValueError, RecursionError):
            # ValueError: malformed JSON, not UTF-8, or a number of thousands of digits; RecursionError: nesting
            # thousands deep. Either is the client's bad input, not a 500.
            raise InvalidInput("invalid_json", "请求体不是有效的 JSON") from None
        if not isinstance(body, dict):
            raise InvalidInput("invalid_json", "请求体须为 JSON 对象")
    elif content_type.startswith("multipart/"):
        body = dict((await request.form()).items())
    else:
        body = _urlencoded(await request.body())
    fields: dict = {k: v for k, v in request.query_params.items() if k == "api_key"}
    attribute = body.pop("attribute", None)
    if attribute not in (None, "") and not isinstance(attribute, dict):
        raise InvalidInput("invalid_attribute", 'attribute 须逐项写成 attribute[代码]=值（JSON 中为对象，如 {"type": "投诉"}）')
    attributes = dict(attribute or {})
    for key, value in body.items():
        if key.startswith("attribute[") and key.endswith("]"):
            attributes[key[10:-1]] = value
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            fields[key] = str(value)
    if x_api_key:
        fields["api_key"] = x_api_key
    try:
        return schemas.RequestIn(**fields, attribute={str(k): str(v) for k, v in attributes.items()})
    except ValidationError:
        raise InvalidInput("invalid_request", "请求参数有误") from None


def _write_limit(
    request: Request,
    data: schemas.RequestIn = Depends(submission),
    actor: Actor | None = Depends(optional_actor),
    session: Session = Depends(get_db_session),
) -> None:
    """Posting takes an api_key in the form, not a bearer token: an integration with a valid one is as
    accountable as any token holder (deps.rate_limit) and relays many citizens from one address, so only
    posts without a valid key count against the client's intake limit."""
    if actor is not None or service.api_key_user(session, data.api_key) is not None:
        return
    limit = request.app.state.settings.intake_rate_limit_per_minute
    request.app.state.rate_limiter.hit("intake", client_id(request), limit=limit)


_FIELD = {"type": "string"}
# What `submission` reads, for the documentation: the body is parsed by hand, so FastAPI cannot describe it.
_SUBMISSION = {
    "type": "object",
    "required": ["service_code", "description", "phone"],
    "properties": {
        "api_key": {**_FIELD, "description": "平台签发的 API 令牌（baishitong user token NAME），账号须有登记诉求的权限；也可放在 X-Api-Key 请求头中"},
        "service_code": {**_FIELD, "description": "services 列表中 metadata 为 true 的具体服务"},
        "lat": {"type": ["string", "number"], "description": "纬度（WGS84）；与 long 同时提供，或改为提供 address_string 或 address_id"},
        "long": {"type": ["string", "number"], "description": "经度（WGS84）"},
        "address_string": {**_FIELD, "maxLength": 300, "description": "地址；没有 lat/long 或 address_id 时必填"},
        "address_id": {**_FIELD, "description": "镇街或村居的区域编码（见 GET /api/v1/regions），可单独作为位置；工单归属该区域"},
        "description": {**_FIELD, "minLength": 5, "maxLength": 5000, "description": "诉求内容"},
        "phone": {**_FIELD, "description": "诉求人联系电话，用于回访和查询进度"},
        "first_name": _FIELD,
        "last_name": {**_FIELD, "description": "姓；与 first_name 合计不超过 64 字"},
        "email": _FIELD,
        "media_url": {**_FIELD, "format": "uri", "maxLength": 2048, "description": "诉求人照片的网址（http 或 https）；平台不下载，供工作人员打开查看，查询请求时原样返回"},
        "attribute[type]": {**_FIELD, "enum": list(ticket_schemas.TYPES), "description": "诉求类型（见服务定义）；JSON 请求中写作 attribute: {\"type\": …}"},
    },
}


@router.post(
    "/requests.{fmt}",
    status_code=201,
    dependencies=[Depends(_write_limit)],
    response_model=list[schemas.RequestCreated],
    responses={201: XML, 200: {"model": list[schemas.RequestCreated], "description": "同一 Idempotency-Key 的重试：首次登记的请求", **XML}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": _SUBMISSION}, "application/json": {"schema": _SUBMISSION}},
        }
    },
)
def create_request(
    fmt: Format,
    data: schemas.RequestIn = Depends(submission),
    session: Session = Depends(get_db_session),
    idempotency_key: idempotency.Key = None,
):
    """Registers a work order (channel "api"); a retry with the same Idempotency-Key returns the same request (200)."""
    created, new = service.submit(session, data=data, idempotency_key=idempotency_key)
    return render(fmt, [created], root="service_requests", item="request", status_code=201 if new else 200)


@router.get("/requests.{fmt}", dependencies=[_read], response_model=list[schemas.RequestOut], responses={200: XML})
def list_requests(
    fmt: Format,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(service.MAX_RESULTS, ge=1, le=service.MAX_RESULTS),
    session: Session = Depends(get_db_session),
):
    items = service.find_requests(
        session,
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
        page=page,
        page_size=page_size,
    )
    return render(fmt, items, root="service_requests", item="request")


@router.get("/requests/{service_request_id}.{fmt}", dependencies=[_read], response_model=list[schemas.RequestOut], responses={200: XML})
def get_request(service_request_id: str, fmt: Format, session: Session = Depends(get_db_session)):
    return render(fmt, [service.get_request(session, number=service_request_id)], root="service_requests", item="request")


@router.get("/tokens/{token}.{fmt}", dependencies=[_read], response_model=list[schemas.RequestTokenOut], responses={200: XML})
def get_token(token: str, fmt: Format, session: Session = Depends(get_db_session)):
    return render(fmt, service.request_for_token(session, token=token), root="service_requests", item="request")


# Service discovery (wiki.open311.org/Service_Discovery) sits beside the versioned endpoint, where clients look for it.
discovery_router = APIRouter(prefix="/open311", tags=["Open311"], route_class=Open311Route, responses={"4XX": _ERRORS, "5XX": _BUSY})
# When this interface last changed (the spec's `changeset`); moved on whenever the endpoint list, a request's fields or the formats change.
INTERFACE_CHANGESET = "2026-12-06T00:00:00Z"


@discovery_router.get("/discovery.{fmt}", dependencies=[_read], response_model=schemas.DiscoveryOut, responses={200: XML})
def discovery(fmt: Format, request: Request):
    endpoint = schemas.DiscoveryEndpoint(
        specification="http://wiki.open311.org/GeoReport_v2",
        url=request.app.state.settings.public_url.rstrip("/") + router.prefix,
        changeset=INTERFACE_CHANGESET,
        type="production",
        formats=["application/json", "text/xml"],
    )
    return render(
        fmt,
        schemas.DiscoveryOut(
            changeset=INTERFACE_CHANGESET,
            contact="12345 政务服务便民热线",
            key_service="提交诉求需要接口令牌（api_key），请联系系统管理员签发（baishitong user token）",
            endpoints=[endpoint],
        ),
        root="discovery",
    )
