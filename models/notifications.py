"""The notification outbox (also the in-app inbox), user preferences and department robots.

One `notification` row per (message, channel). The inbox is the channel=inbox rows: they are
written already `sent` (nothing to deliver, the row *is* the delivery) and carry `read_at`,
so the inbox, the outbox and the admin's view of dead messages are one table and one index
family instead of two tables kept in step.
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .enums import _LABELS, Labeled
from .types import UTCDateTime, enum_column, utcnow


class Channel(Labeled):
    INBOX = "inbox"
    EMAIL = "email"
    WEBHOOK = "webhook"


class NotificationKind(Labeled):
    DEADLINE_REMINDER = "deadline_reminder"
    OVERDUE = "overdue"
    ESCALATION_REQUEST = "escalation_request"
    ESCALATION_DECIDED = "escalation_decided"
    EXTENSION_REQUEST = "extension_request"
    BELL_CONVERTED = "bell_converted"
    DIGEST = "digest"
    # A special inspection or interview opened for the reader's bureau (three-month rule).
    OVERSIGHT = "oversight"
    # A slip or a note waiting for the supervisor's review; the review's outcome for the handler.
    REVIEW_REQUEST = "review_request"
    REVIEW_DECIDED = "review_decided"
    # The nightly audit-chain check failed (administrators only).
    AUDIT = "audit"
    OTHER = "other"


class NotificationStatus(Labeled):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


class WebhookKind(Labeled):
    WECOM = "wecom"
    DINGTALK = "dingtalk"


_LABELS[Channel] = {
    Channel.INBOX: "站内消息",
    Channel.EMAIL: "电子邮件",
    Channel.WEBHOOK: "群机器人",
}
_LABELS[NotificationKind] = {
    NotificationKind.DEADLINE_REMINDER: "到期提醒",
    NotificationKind.OVERDUE: "逾期通知",
    NotificationKind.ESCALATION_REQUEST: "升级申请",
    NotificationKind.ESCALATION_DECIDED: "申请已决定",
    NotificationKind.EXTENSION_REQUEST: "延期申请",
    NotificationKind.BELL_CONVERTED: "黄铃转灯",
    NotificationKind.DIGEST: "每日摘要",
    NotificationKind.OVERSIGHT: "督查约谈",
    NotificationKind.REVIEW_REQUEST: "待审核",
    NotificationKind.REVIEW_DECIDED: "审核结果",
    NotificationKind.AUDIT: "审计链告警",
    NotificationKind.OTHER: "其他",
}
_LABELS[NotificationStatus] = {
    NotificationStatus.PENDING: "待发送",
    NotificationStatus.SENDING: "发送中",
    NotificationStatus.SENT: "已发送",
    NotificationStatus.DEAD: "发送失败",
}
_LABELS[WebhookKind] = {WebhookKind.WECOM: "企业微信", WebhookKind.DINGTALK: "钉钉"}


class Notification(SQLModel, table=True):
    __table_args__ = (
        # The worker's claim: due pending rows (and stale sending ones) by time.
        sa.Index("ix_notification_status_next_attempt_at", "status", "next_attempt_at"),
        # The inbox and its unread count.
        sa.Index("ix_notification_user_channel_read", "user_id", "channel", "read_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # A person (inbox, email) or a department (its robot webhook).
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    org_unit_id: int | None = Field(default=None, foreign_key="org_unit.id")
    channel: Channel = Field(sa_type=enum_column(Channel))
    kind: NotificationKind = Field(sa_type=enum_column(NotificationKind))
    subject: str = Field(max_length=255)
    body: str = Field(sa_type=sa.Text)
    # Path inside the app ("/cases/YJ-…"); senders prefix the public base URL.
    link: str | None = Field(default=None, max_length=255)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    case_id: int | None = Field(default=None, foreign_key="warning_case.id", index=True)
    # Re-running a sweep or a digest never queues twice: INSERT … ON CONFLICT DO NOTHING.
    dedupe_key: str = Field(max_length=200, unique=True)
    status: NotificationStatus = Field(sa_type=enum_column(NotificationStatus))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NotificationPreference(SQLModel, table=True):
    """What a user chose besides the inbox (which is always on). No row: inbox only."""

    __tablename__ = "notification_preference"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    # Sent to the user's own address (app_user.email).
    email_enabled: bool = False
    # Also post to the department's robot, when the department has one.
    webhook_enabled: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DepartmentWebhook(SQLModel, table=True):
    """A department's WeCom or DingTalk group robot."""

    __tablename__ = "department_webhook"

    id: int | None = Field(default=None, primary_key=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", unique=True)
    kind: WebhookKind = Field(sa_type=enum_column(WebhookKind))
    url: str = Field(max_length=500)
    # DingTalk "加签" secret; the signature goes into the query string.
    secret: str | None = Field(default=None, max_length=128)
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
