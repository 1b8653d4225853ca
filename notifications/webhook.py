"""Department group robots: WeCom (企业微信) and DingTalk (钉钉) markdown messages."""

import base64
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Callable

import httpx

from models.notifications import WebhookKind
from models.settings import Settings

from .base import Message, TransportError

# Rate limits are worth waiting out; every other non-zero errcode is final.
_RETRYABLE_ERRCODES = {45009, 130101}


def markdown_text(message: Message) -> str:
    text = f"**{message.subject}**\n\n{message.body}"
    if message.url:
        text += f"\n\n[查看详情]({message.url})"
    return text


def wecom_payload(message: Message) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": markdown_text(message)}}


def dingtalk_payload(message: Message) -> dict:
    return {"msgtype": "markdown",
            "markdown": {"title": message.subject, "text": markdown_text(message)}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>"))."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    query = urllib.parse.urlencode({"timestamp": timestamp_ms,
                                    "sign": dingtalk_sign(secret, timestamp_ms)})
    return f"{url}{'&' if '?' in url else '?'}{query}"


class WebhookTransport:
    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time):
        self.settings = settings
        # DingTalk checks the signed timestamp against its own clock (±1 h): real time.
        self.clock = clock

    def send(self, message: Message) -> None:
        if not message.webhook_url or message.webhook_kind is None:
            raise TransportError("该部门未配置或已停用群机器人", permanent=True)
        url = message.webhook_url
        if message.webhook_kind == WebhookKind.DINGTALK:
            body = dingtalk_payload(message)
            if message.webhook_secret:
                url = signed_url(url, message.webhook_secret, int(self.clock() * 1000))
        else:
            body = wecom_payload(message)
        try:
            response = httpx.post(url, json=body, timeout=self.settings.webhook_timeout_seconds)
        except httpx.HTTPError as exc:
            raise TransportError(f"群机器人连接失败：{exc!r}", permanent=False) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransportError(f"群机器人 HTTP {response.status_code}", permanent=False)
        if response.status_code >= 400:
            raise TransportError(f"群机器人 HTTP {response.status_code}: {response.text[:200]}",
                                 permanent=True)
        try:
            answer = response.json()
        except ValueError:
            return  # a 2xx without JSON: the robot took it
        errcode = answer.get("errcode", 0) if isinstance(answer, dict) else 0
        if errcode:
            raise TransportError(f"群机器人拒绝消息 errcode={errcode}: {answer.get('errmsg')}",
                                 permanent=errcode not in _RETRYABLE_ERRCODES)
