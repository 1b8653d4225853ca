"""What heads an exported list, as a bureau's own sheets do (issue 18): the province the
exporting user's scope belongs to, the user's unit, and the day it was made."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from models import OrgUnit, Region
from models.enums import RegionLevel

from .actors import Actor
from .calendar import local_date


@dataclass(frozen=True)
class Letterhead:
    province: str  # "中原省", or "" when the scope is not inside one province
    unit: str  # 填报单位
    made_on: date  # 制表日期

    def title(self, subject: str) -> str:
        return f"{self.province}{subject}"


def letterhead_for(session: Session, actor: Actor, *, as_of: datetime) -> Letterhead:
    """The province is the province-level root of the actor's region path ("/410000/…"):
    a deployment may hold several provinces (federation), so it is never just the first one.
    A scope over all regions (the operator, "/") names a province only if there is one."""
    codes = [code for code in actor.region_path.split("/") if code]
    if codes:
        root = session.exec(select(Region).where(Region.path == f"/{codes[0]}/")).first()
        provinces = [root] if root is not None and root.level == RegionLevel.PROVINCE else []
    else:
        provinces = list(session.exec(select(Region).where(Region.level == RegionLevel.PROVINCE).limit(2)))
    unit = session.get(OrgUnit, actor.org_unit_id) if actor.org_unit_id else None
    return Letterhead(province=provinces[0].name if len(provinces) == 1 else "",
                      unit=unit.name if unit else actor.name, made_on=local_date(as_of))
