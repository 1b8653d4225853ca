"""Payees or accounts a rule must not flag again (监控白名单), each with reason and approver."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .enums import WhitelistKind
from .types import UTCDateTime, enum_column, utcnow


class WhitelistEntryBase(SQLModel):
    kind: WhitelistKind = Field(sa_type=enum_column(WhitelistKind))
    value: str = Field(max_length=128)
    # Empty: the entry applies to every rule.
    rule_id: int | None = Field(default=None, foreign_key="rule.id")
    reason: str = Field(sa_type=sa.Text)
    valid_until: date | None = None


class WhitelistEntry(WhitelistEntryBase, table=True):
    __tablename__ = "whitelist_entry"
    __table_args__ = (sa.Index("ix_whitelist_kind_value", "kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    approved_by_id: int = Field(foreign_key="app_user.id")
    approved_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int = Field(foreign_key="app_user.id")
    is_active: bool = True
