"""Regions (province → city → county → township) and the org units inside them."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .enums import OrgKind, RegionLevel
from .types import UTCDateTime, enum_column, utcnow


class RegionBase(SQLModel):
    code: str = Field(max_length=12, unique=True, index=True)
    name: str = Field(max_length=64)
    level: RegionLevel = Field(sa_type=enum_column(RegionLevel))
    # 市本级: the city's own budget level, kept as a county-level child of the city.
    is_city_own_level: bool = False


class Region(RegionBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    # Materialized path of codes ("/410000/410100/410102/"): a subtree is a prefix match,
    # so data scope is one indexed LIKE instead of a recursive query.
    path: str = Field(max_length=255, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def contains(self, other: "Region") -> bool:
        return other.path.startswith(self.path)


class RegionPublic(RegionBase):
    id: int
    parent_id: int | None
    path: str


class OrgUnitBase(SQLModel):
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=64)
    kind: OrgKind = Field(sa_type=enum_column(OrgKind))


class OrgUnit(OrgUnitBase, table=True):
    __tablename__ = "org_unit"
    __table_args__ = (sa.Index("ix_org_unit_region_kind", "region_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OrgUnitPublic(OrgUnitBase):
    id: int
    region_id: int
