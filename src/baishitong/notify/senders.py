"""Channel adapters. The built-in outbox only records; SMS and WeChat post to a configured gateway."""

import json

import httpx

from baishitong.config import get_settings
from baishitong.security import mask_numbers_in_text, mask_phone

class SendError(Exception):
    pass


def send(channel: str, *, recipient: str, body: str, template_code: str, key: str) -> None:
    """Posts one message. `key` is the same on every retry of it (the Idempotency-Key header), so a gateway
    that did receive an attempt whose answer timed out can drop the repeat."""
    settings = get_settings()
    if channel == "outbox":
        return
    endpoint = {"sms": settings.sms_endpoint, "wechat": settings.wechat_endpoint}.get(channel)
    if not endpoint:
        raise SendError(f"渠道 {channel} 未配置发送地址")
    connect, read = settings.gateway_connect_timeout, settings.gateway_read_timeout
    try:
        response = httpx.post(endpoint, json={"to": recipient, "template": template_code, "text": body}, headers={"Idempotency-Key": key}, timeout=httpx.Timeout(read, connect=connect))
    except httpx.TimeoutException:
        raise SendError(f"网关响应超时（连接 {connect:g} 秒或读写 {read:g} 秒内无响应）") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise SendError(f"网关连接失败：{exc}") from exc
    if response.status_code >= 300:
        raise SendError(f"网关返回 {response.status_code}：{_shown(response, channel, recipient)}")
    # The success field is an SMS gateway's setting; a WeChat gateway must at least answer JSON.
    sms = channel == "sms"
    _check_accepted(response, channel, recipient, field=settings.sms_success_field if sms else "", value=settings.sms_success_value if sms else "")


def _shown(response: httpx.Response, channel: str, recipient: str) -> str:
    """The start of the gateway's answer as the outbox may show it."""
    # Only printable text: a NUL in a garbled answer could not even be stored (PostgreSQL refuses it).
    shown = "".join(ch for ch in response.text[:200] if ch.isprintable())
    if channel == "sms":
        # Gateways name the number they refused (非法手机号 138…, a landline too), and the outbox shows the
        # error to staff who see the citizen's number masked.
        shown = mask_numbers_in_text(shown.replace(recipient, mask_phone(recipient) or ""))
    return shown


def _check_accepted(response: httpx.Response, channel: str, recipient: str, *, field: str, value: str) -> None:
    """A 2xx alone is not proof: a proxy's or captive portal's page, or a gateway's 200 with an error code in it,
    would count as sent and the citizen never hear. The answer must be JSON and, when configured, say success."""
    try:
        answer = json.loads(response.content)
    except ValueError:
        raise SendError(f"网关返回 {response.status_code}，但内容无法识别（不是 JSON），未确认发送：{_shown(response, channel, recipient)}") from None
    if not field:
        return
    found = answer
    for part in field.split("."):
        if isinstance(found, dict) and part in found:
            found = found[part]
        elif isinstance(found, list) and part.isdigit() and int(part) < len(found):
            found = found[int(part)]
        else:
            raise SendError(f"网关返回 {response.status_code}，但没有成功标志 {field}，未确认发送：{_shown(response, channel, recipient)}")
    if isinstance(found, dict | list) or value not in (str(found), json.dumps(found, ensure_ascii=False)):
        raise SendError(f"网关返回 {response.status_code}，但 {field} 不是 {value}，未确认发送：{_shown(response, channel, recipient)}")
