"""Which kind of department rectifies each warning type (Henan art. 17), editable by admins."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from .enums import OrgKind, WarningType
from .types import UTCDateTime, enum_column, utcnow


class DepartmentRoute(SQLModel, table=True):
    __tablename__ = "department_route"

    warning_type: WarningType = Field(sa_type=enum_column(WarningType), primary_key=True)
    org_kind: OrgKind = Field(sa_type=enum_column(OrgKind))
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
