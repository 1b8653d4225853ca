"""Security-relevant happenings that are not case events: logins, lock-outs, admin changes."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .enums import AuditKind
from .types import UTCDateTime, enum_column, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    kind: AuditKind = Field(sa_type=enum_column(AuditKind))
    # The account concerned; a failed login for an unknown name has none, only `username`.
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    username: str = Field(default="", max_length=64)
    # Who did it, when not the account itself (an administrator resetting a password).
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    client: str = Field(default="", max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
