"""Monitoring rules: every field of the rule application form (Changchun annex 2)."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .enums import Level, RuleCategory, WarningType
from .types import UTCDateTime, enum_column, utcnow


class RuleBase(SQLModel):
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=128)  # 规则名称
    category: RuleCategory = Field(sa_type=enum_column(RuleCategory))  # 规则分类
    level: Level = Field(sa_type=enum_column(Level))  # 预警级别 the rule raises
    description: str = Field(default="", sa_type=sa.Text)  # 规则描述
    basis: str = Field(default="", sa_type=sa.Text)  # 规则依据
    scope: str = Field(default="", max_length=255)  # 适用范围
    handling_party: str = Field(default="", max_length=128)  # 预警处理人
    theme: str = Field(default="", max_length=64)  # 监控主题 (groups rules in a tree)
    warning_type: WarningType = Field(sa_type=enum_column(WarningType))
    # Working days each step may take; empty means the settings' default.
    verify_days: int | None = Field(default=None, ge=1, le=60)
    rectify_days: int | None = Field(default=None, ge=1, le=120)
    review_days: int | None = Field(default=None, ge=1, le=30)
    # Yellow bells: raised this many working days before the duty's deadline, and what
    # they turn into when the deadline passes undone.
    bell_lead_days: int | None = Field(default=None, ge=0, le=30)
    bell_becomes: Level | None = Field(default=None, sa_type=enum_column(Level))
    active_from: date
    active_until: date | None = None


class Rule(RuleBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    is_active: bool = True
    # Working days past a step's deadline before the supervisor is asked (escalation
    # level 2); empty means the settings' default.
    escalation_grace_days: int | None = Field(default=None, ge=0, le=30)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RulePublic(RuleBase):
    id: int
    is_active: bool
