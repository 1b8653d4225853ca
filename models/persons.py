"""People, recorded once, and the applications that open, change or revoke their accounts
(MoF 2007 art. 17–18; Changchun art. 25, annex 3).

A person's ID number is never stored: only a keyed hash (HMAC-SHA256 with the deployment's
own key, so equal numbers can be found without the number being readable) and a masked
form for people to recognise it by.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .enums import ApplicationKind, ApplicationStatus, Role
from .types import UTCDateTime, enum_column, utcnow


class Person(SQLModel, table=True):
    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(max_length=64)
    id_number_hash: str = Field(max_length=64, unique=True)
    id_number_masked: str = Field(max_length=32)
    phone: str | None = Field(default=None, max_length=32)
    position: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AccountApplication(SQLModel, table=True):
    """One 账户申请 with the annex-3 fields, and who approved it when."""

    __tablename__ = "account_application"
    __table_args__ = (sa.Index("ix_account_application_status", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: ApplicationKind = Field(sa_type=enum_column(ApplicationKind))
    status: ApplicationStatus = Field(sa_type=enum_column(ApplicationStatus))
    # The account changed or revoked (empty for an opening until it is done).
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    # Annex 3: 单位/处室, 姓名, 身份证号, 职务, 联系电话, 权限.
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    full_name: str = Field(max_length=64)
    id_number_hash: str | None = Field(default=None, max_length=64)
    id_number_masked: str | None = Field(default=None, max_length=32)
    position: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    role: Role | None = Field(default=None, sa_type=enum_column(Role))
    username: str | None = Field(default=None, max_length=64)
    reason: str = Field(default="", sa_type=sa.Text)
    # Where the account's open cases go when its role changes or it is revoked: a named
    # handler of the department, or (empty) the department's queue.
    handover_to_id: int | None = Field(default=None, foreign_key="app_user.id")
    submitted_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    head_id: int | None = Field(default=None, foreign_key="app_user.id")
    head_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    head_opinion: str = Field(default="", max_length=255)
    admin_id: int | None = Field(default=None, foreign_key="app_user.id")
    admin_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    admin_opinion: str = Field(default="", max_length=255)
    version: int = 1
