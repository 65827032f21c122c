"""Channel adapters. The built-in outbox only records; SMS and WeChat post to a configured gateway."""

import httpx

from baishitong.config import get_settings


class SendError(Exception):
    pass


def send(channel: str, *, recipient: str, body: str, template_code: str) -> None:
    settings = get_settings()
    if channel == "outbox":
        return
    endpoint = {"sms": settings.sms_endpoint, "wechat": settings.wechat_endpoint}.get(channel)
    if not endpoint:
        raise SendError(f"渠道 {channel} 未配置发送地址")
    try:
        response = httpx.post(endpoint, json={"to": recipient, "template": template_code, "text": body}, timeout=10)
    except httpx.HTTPError as exc:
        raise SendError(f"网关连接失败：{exc}") from exc
    if response.status_code >= 300:
        raise SendError(f"网关返回 {response.status_code}：{response.text[:200]}")
