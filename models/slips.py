"""Processing slips (处理单), their kept versions, the cases they cover, and attachments."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .enums import AmountBasis, Conclusion, SignoffDecision, SlipKind, ViolationType
from .types import MONEY, UTCDateTime, enum_column, utcnow


class SlipFields(SQLModel):
    """What a handler writes on a slip (Changchun art. 22). Kind decides which apply."""

    # Verification slip (认定处理单)
    methods: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # 核实方式
    findings: str = Field(default="", sa_type=sa.Text)  # 核实情况
    conclusion: Conclusion | None = Field(default=None, sa_type=enum_column(Conclusion))
    violation_type: ViolationType | None = Field(default=None, sa_type=enum_column(ViolationType))
    amount_involved: Decimal | None = Field(default=None, sa_type=MONEY)  # 涉及金额
    # Rectification slip (整改处理单)
    measures: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # 整改措施
    measures_detail: str = Field(default="", sa_type=sa.Text)
    amount_recovered: Decimal | None = Field(default=None, sa_type=MONEY)  # 收回金额
    completed_on: date | None = None  # 整改完成日期
    # Both
    # A 涉及金额 above the warning's own payment is allowed only with this explanation.
    multiple_payments_reason: str = Field(default="", sa_type=sa.Text)  # 涉及多笔支付说明
    # A batch slip's amounts: for each case, or the total of all its cases.
    amount_basis: AmountBasis | None = Field(default=None, sa_type=enum_column(AmountBasis))
    filler_name: str = Field(default="", max_length=64)  # 填报人
    filler_phone: str = Field(default="", max_length=32)  # 联系电话


class Slip(SlipFields, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True)  # HS-/ZG-YYYYMM-NNNNNN
    kind: SlipKind = Field(sa_type=enum_column(SlipKind))
    version: int = 1
    filed_by_id: int = Field(foreign_key="app_user.id")
    filed_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    # The supervisor's sign-offs are SlipSignoff rows: one per (version, case).


class SlipVersion(SQLModel, table=True):
    """Every version of a slip as it was filed or amended; never updated or deleted."""

    __tablename__ = "slip_version"
    __table_args__ = (sa.UniqueConstraint("slip_id", "version", name="uq_slip_version"),)

    id: int | None = Field(default=None, primary_key=True)
    slip_id: int = Field(foreign_key="slip.id")
    version: int
    fields: dict[str, Any] = Field(sa_type=sa.JSON)
    author_id: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    reason: str | None = Field(default=None, sa_type=sa.Text)  # why it was amended


class SlipSignoff(SQLModel, table=True):
    """The supervisor's sign-off (处室负责人意见) on one version of a slip for one case.

    A batch slip is signed case by case; a signature covers exactly the version it was given
    on. Amending a signed version voids its sign-off (`voided_at`, `void_reason`); the row
    stays, so the old version still prints as it was signed.
    """

    __tablename__ = "slip_signoff"
    __table_args__ = (
        sa.UniqueConstraint("slip_id", "slip_version", "case_id", name="uq_slip_signoff"),
        sa.Index("ix_slip_signoff_case", "case_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slip_id: int = Field(foreign_key="slip.id")
    slip_version: int
    case_id: int = Field(foreign_key="warning_case.id")
    supervisor_id: int = Field(foreign_key="app_user.id")
    decision: SignoffDecision = Field(sa_type=enum_column(SignoffDecision))
    opinion: str = Field(sa_type=sa.Text)
    signed_at: datetime = Field(sa_type=UTCDateTime)
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    void_reason: str | None = Field(default=None, sa_type=sa.Text)


class CaseSlip(SQLModel, table=True):
    """A slip covers one case, or many when filed in batch (批量认定/批量整改)."""

    __tablename__ = "case_slip"
    __table_args__ = (sa.Index("ix_case_slip_slip", "slip_id"),)

    case_id: int = Field(foreign_key="warning_case.id", primary_key=True)
    slip_id: int = Field(foreign_key="slip.id", primary_key=True)


class Attachment(SQLModel, table=True):
    """A scanned document on a slip; its bytes live in the file store under their SHA-256."""

    id: int | None = Field(default=None, primary_key=True)
    slip_id: int = Field(foreign_key="slip.id", index=True)
    sha256: str = Field(max_length=64, index=True)
    size: int
    content_type: str = Field(max_length=128)
    filename: str = Field(max_length=255)
    uploaded_by_id: int = Field(foreign_key="app_user.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    added_in_version: int = 1
    removed_in_version: int | None = None
