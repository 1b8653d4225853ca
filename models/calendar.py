"""Admin-entered calendar days that override the official calendar."""

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from .enums import DayKind
from .types import UTCDateTime, enum_column, utcnow


class CalendarDay(SQLModel, table=True):
    __tablename__ = "calendar_day"

    day: date = Field(primary_key=True)
    kind: DayKind = Field(sa_type=enum_column(DayKind))
    name: str = Field(default="", max_length=64)
    set_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CalendarStamp(SQLModel, table=True):
    """One row whose version every calendar change bumps: each process compares it with the
    version its cached calendar was read at, so a change applies everywhere at once."""

    __tablename__ = "calendar_stamp"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int = 1
