"""The three-consecutive-month rule (Henan art. 17): which months count for a region, and the
oversight cases it opens — special inspections (专项督查) and interviews (约谈).

Oversight cases are cases of the same engine as warning cases: a row with a state, a version
and an append-only event timeline, moved only by a transition table (workflows/oversight/cases.py).
They live in their own table because they share none of a warning's facts (rule, payment,
slips); their "slip" is the typed `record` JSON (inspection: scope, findings, problems,
required rectifications, conclusion; interview: date, place, attendees, minutes,
commitments with deadlines, follow-up).
"""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .enums import _LABELS, Labeled, Role
from .types import UTCDateTime, enum_column, utcnow


class OversightKind(Labeled):
    INSPECTION = "inspection"  # 专项督查
    INTERVIEW = "interview"  # 约谈


class OversightState(Labeled):
    # inspection: open → inspecting → reported → closed
    # interview:  scheduled → held → following_up → closed
    OPEN = "open"
    INSPECTING = "inspecting"
    REPORTED = "reported"
    SCHEDULED = "scheduled"
    HELD = "held"
    FOLLOWING_UP = "following_up"
    CLOSED = "closed"


_LABELS[OversightKind] = {OversightKind.INSPECTION: "专项督查", OversightKind.INTERVIEW: "约谈"}
_LABELS[OversightState] = {
    OversightState.OPEN: "待督查",
    OversightState.INSPECTING: "督查中",
    OversightState.REPORTED: "已提交督查报告",
    OversightState.SCHEDULED: "待约谈",
    OversightState.HELD: "已约谈",
    OversightState.FOLLOWING_UP: "整改跟踪中",
    OversightState.CLOSED: "已办结",
}


class RegionMonth(SQLModel, table=True):
    """Whether a region's month counts toward the three-month rule, decided once after the
    month ends (idempotent: re-evaluating a month rewrites the same row)."""

    __tablename__ = "region_month"
    __table_args__ = (
        sa.UniqueConstraint("region_id", "month", name="uq_region_month_region_month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id")
    # The first day of the month.
    month: date = Field(index=True)
    # Unresolved cases at the month's end, by level (yellow light / red light, bells that
    # had turned into one included).
    open_yellow: int = 0
    open_red: int = 0
    counts: bool = False
    # Consecutive counting months ending with this one (0 when this month does not count).
    streak: int = 0
    evaluated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OversightCase(SQLModel, table=True):
    """A special inspection or an interview of one city or county."""

    __tablename__ = "oversight_case"
    __table_args__ = (
        # One inspection per streak: the streak is named by its first month.
        sa.UniqueConstraint(
            "kind", "region_id", "streak_start", name="uq_oversight_case_kind_region_streak"
        ),
        sa.Index("ix_oversight_case_region_kind", "region_id", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # ZD-YYYYMM-NNNN (inspection) or YT-YYYYMM-NNNN (interview).
    number: str = Field(max_length=20, unique=True)
    kind: OversightKind = Field(sa_type=enum_column(OversightKind))
    state: OversightState = Field(sa_type=enum_column(OversightState))
    # The region inspected or interviewed (a city or county).
    region_id: int = Field(foreign_key="region.id")
    # The owning org unit: the provincial supervision bureau (inspection) or leadership (interview).
    owner_org_unit_id: int = Field(foreign_key="org_unit.id")
    assignee_id: int | None = Field(default=None, foreign_key="app_user.id")
    # The streak that opened it (first and last counting month); an interview copies its
    # inspection's streak_start.
    streak_start: date
    streak_end: date
    # An interview's inspection (unique: one interview per closed inspection).
    inspection_id: int | None = Field(default=None, foreign_key="oversight_case.id", unique=True)
    due_on: date | None = None
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The typed record (see module docstring); validated by workflows/oversight/cases.py forms.
    record: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OversightEvent(SQLModel, table=True):
    """One accepted event on an oversight case. Append-only; seq = version after the event."""

    __tablename__ = "oversight_event"
    __table_args__ = (
        sa.UniqueConstraint("oversight_id", "seq", name="uq_oversight_event_oversight_seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    oversight_id: int = Field(foreign_key="oversight_case.id")
    seq: int
    event: str = Field(max_length=32)
    from_state: OversightState | None = Field(default=None, sa_type=enum_column(OversightState))
    to_state: OversightState = Field(sa_type=enum_column(OversightState))
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor_role: Role = Field(sa_type=enum_column(Role))
    at: datetime = Field(sa_type=UTCDateTime)
    comment: str | None = Field(default=None, sa_type=sa.Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class OversightAttachment(SQLModel, table=True):
    """A scanned document on an inspection slip or interview record; bytes in the file store."""

    __tablename__ = "oversight_attachment"

    id: int | None = Field(default=None, primary_key=True)
    oversight_id: int = Field(foreign_key="oversight_case.id", index=True)
    sha256: str = Field(max_length=64)
    size: int
    content_type: str = Field(max_length=128)
    filename: str = Field(max_length=255)
    uploaded_by_id: int = Field(foreign_key="app_user.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The case's version when it was added (which step of the timeline it belongs to).
    added_in_version: int = 1


class CirculatedNotice(SQLModel, table=True):
    """A 通报 of the regions that handled warnings slowly in a month (Changchun art. 18, 23)."""

    __tablename__ = "circulated_notice"
    __table_args__ = (sa.UniqueConstraint("month", "issuer_region_id", name="uq_circulated_notice_month_issuer"),)

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True)  # TB-YYYYMM-NN
    month: date
    issuer_region_id: int = Field(foreign_key="region.id")
    # The on-time rate below which a region is listed (0–1), as it was when issued.
    threshold: float
    # [{"region_id", "region_name", "due", "on_time", "rate"}, …]: the list as issued.
    regions: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    issued_by_id: int = Field(foreign_key="app_user.id")
    issued_at: datetime = Field(sa_type=UTCDateTime)


class SpotCheckResult(Labeled):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


_LABELS[SpotCheckResult] = {
    SpotCheckResult.PENDING: "待抽查",
    SpotCheckResult.PASSED: "抽查通过",
    SpotCheckResult.FAILED: "抽查未通过",
}


class SpotCheckDraw(SQLModel, table=True):
    """One random draw (抽查, Henan art. 13) of rectified major warnings in a bureau's scope.

    The population (eligible case ids, ascending), the seed and the sample are kept, so that
    anyone can draw again with the same seed and get the same cases (the draw was fair)."""

    __tablename__ = "spot_check_draw"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True)  # CC-YYYYMM-NNNN
    region_id: int = Field(foreign_key="region.id")
    closed_from: date
    closed_until: date
    seed: str = Field(max_length=64)
    population: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    sample_size: int
    picked: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    drawn_by_id: int = Field(foreign_key="app_user.id")
    drawn_at: datetime = Field(sa_type=UTCDateTime)


class SpotCheck(SQLModel, table=True):
    """The check of one drawn case, recorded on its slip (result, findings, who, when)."""

    __tablename__ = "spot_check"
    __table_args__ = (sa.UniqueConstraint("draw_id", "case_id", name="uq_spot_check_draw_case"),)

    id: int | None = Field(default=None, primary_key=True)
    draw_id: int = Field(foreign_key="spot_check_draw.id", index=True)
    case_id: int = Field(foreign_key="warning_case.id", index=True)
    result: SpotCheckResult = Field(default=SpotCheckResult.PENDING, sa_type=enum_column(SpotCheckResult))
    findings: str = Field(default="", sa_type=sa.Text)
    checked_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1
