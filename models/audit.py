"""Security-relevant happenings that are not case events (logins, lock-outs, admin changes),
and the hash chain that makes every audited row tamper-evident."""

from dataclasses import dataclass
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


class AuditLink(SQLModel, table=True):
    """One link of the deployment's hash chain over the audited rows (workflows/audit/seal.py).

    hash = SHA-256 of "prev_hash|table_name|row_id|row_digest"; the first link's prev_hash is
    GENESIS. Written only by the sealer, never updated or deleted.
    """

    __tablename__ = "audit_link"
    __table_args__ = (sa.UniqueConstraint("table_name", "row_id", name="uq_audit_link_row"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    table_name: str = Field(max_length=64)
    row_id: int = Field(sa_type=sa.BigInteger)
    row_digest: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    sealed_at: datetime = Field(sa_type=UTCDateTime)


class AuditCheck(SQLModel, table=True):
    """One run of `warnflow audit verify` (or the nightly job): what /healthz reports."""

    __tablename__ = "audit_check"
    __table_args__ = (sa.Index("ix_audit_check_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    passed: bool
    links: int = 0
    message: str = Field(default="", sa_type=sa.Text)


GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditedTable:
    """A table whose rows the chain covers.

    `mutable`: columns the product itself changes after the row is written (a sign-off voided
    by an amendment), left out of the digest. `sealed_when`: (column, values) for rows that are
    written in steps (an import run while it runs): only finished rows are sealed, and since a
    lower id may finish after a higher one, such tables are not checked for rows inserted
    below the chain's reach.
    """

    name: str
    label: str
    mutable: tuple[str, ...] = ()
    sealed_when: tuple[str, tuple[str, ...]] | None = None


# Every record the audit trail answers for (issue 15): logins, account, permission, rule,
# calendar, routing and whitelist changes (audit_event), case events, slip versions and
# sign-offs, report and oversight steps, imports and federation exchanges. The chain order
# within one seal is this order, then id.
AUDITED_TABLES: dict[str, AuditedTable] = {
    table.name: table
    for table in (
        AuditedTable("audit_event", "审计日志"),
        AuditedTable("case_event", "预警处理记录"),
        AuditedTable("slip_version", "工作单版本"),
        AuditedTable("slip_signoff", "处室负责人意见", mutable=("voided_at", "void_reason")),
        AuditedTable("monthly_report_event", "月报流转记录"),
        AuditedTable("oversight_event", "督查约谈记录"),
        AuditedTable("import_run", "数据导入记录", sealed_when=("state", ("done", "failed"))),
        AuditedTable("federation_push", "月报上报记录", sealed_when=("status", ("sent",))),
        AuditedTable("received_report", "收到的下级月报"),
    )
}
