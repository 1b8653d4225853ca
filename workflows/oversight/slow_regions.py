"""Regions that handle warnings slowly (Changchun art. 18, 23): a month's list of the cities and
counties whose on-time rate is below settings.slow_on_time_rate, and the 通报 the province
issues of it, sent to those regions' inboxes.

A region's month: the warnings it closed in the month, and those still open whose current
deadline fell before the month's end (overdue at its end). A closed warning was handled on
time when it was closed by its deadline: the monthly figures' definition, the same SQL
expression (workflows/cases/on_time.py). Rate = on time / (closed + overdue).
Regions are the nearest city or county at or above a case's region, as for the three-month
rule.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlmodel import Session, select

from models import Case, OrgUnit, Region, User
from models.enums import OPEN_STATES, RegionLevel, Role
from models.notifications import NotificationKind
from models.oversight import CirculatedNotice
from models.settings import get_settings
from models.types import UTCDateTime
from workflows.cases.on_time import closed_on_time
from workflows.core.actors import Actor
from workflows.core.calendar import LOCAL_TZ, add_months, local_date
from workflows.core.errors import AlreadyExists, InvalidInput, NotFound, RoleNotAllowed
from workflows.core.notify import news_for, queue
from workflows.core.roles import OFFICE_READERS, SUPERVISORS
from workflows.oversight.streaks import owners

CASES = Case.__table__
# Who issues a 通报: the provincial supervision bureau or provincial office.
ISSUERS = frozenset({Role.SUPERVISION, Role.PROVINCE})


@dataclass(frozen=True)
class SlowRegion:
    region_id: int
    region_code: str
    region_name: str
    closed: int
    on_time: int
    overdue_open: int

    @property
    def due(self) -> int:
        return self.closed + self.overdue_open

    @property
    def rate(self) -> float:
        return self.on_time / self.due if self.due else 1.0

    @property
    def rate_text(self) -> str:
        return f"{self.rate * 100:.1f}%"


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ)


def region_rates(session: Session, *, actor: Actor, month: date) -> list[SlowRegion]:
    """Every city and county in the actor's scope with warnings due in `month`, slowest first."""
    start, end = _instant(month), _instant(add_months(month, 1))
    owner = owners()
    connection = session.connection()
    rows = connection.execute(
        sa.select(CASES.c.id, CASES.c.closed_at, owner.c.owner_id,
                  closed_on_time(connection.dialect.name).label("on_time"))
        .join(owner, owner.c.region_id == CASES.c.region_id)
        .where(sa.or_(
            sa.and_(CASES.c.closed_at >= sa.bindparam("s", start, type_=UTCDateTime()),
                    CASES.c.closed_at < sa.bindparam("e", end, type_=UTCDateTime())),
            sa.and_(CASES.c.state.in_(OPEN_STATES), CASES.c.due_on < add_months(month, 1)),
        ))
    ).all()
    tally: dict[int, list[int]] = {}
    for r in rows:
        counts = tally.setdefault(r.owner_id, [0, 0, 0])
        if r.closed_at is not None:
            counts[0] += 1
            counts[1] += bool(r.on_time)
        else:
            counts[2] += 1
    regions = session.exec(
        select(Region.id, Region.code, Region.name, Region.path)
        .where(Region.id.in_(tally), Region.level.in_((RegionLevel.CITY, RegionLevel.COUNTY)))
    ).all()
    found = [SlowRegion(i, c, n, *tally[i]) for i, c, n, p in regions if actor.sees_region(p)]
    return sorted(found, key=lambda r: (r.rate, r.region_code))


def slow_regions(session: Session, *, actor: Actor, month: date) -> list[SlowRegion]:
    threshold = get_settings().slow_on_time_rate
    return [r for r in region_rates(session, actor=actor, month=month) if r.rate < threshold]


def may_issue(actor: Actor) -> bool:
    return actor.role in ISSUERS and actor.region_path.count("/") == 2


def issue_notice(session: Session, *, actor: Actor, month: date, as_of: datetime) -> CirculatedNotice:
    """Issue the month's 通报 of slow regions (once per month and province) and tell the
    listed regions' offices and section heads in their inboxes."""
    if not may_issue(actor):
        raise RoleNotAllowed("只有省级监督检查局或省厅可以发布通报")
    if month >= local_date(as_of).replace(day=1):
        raise InvalidInput.single("month", "not_over", "只能通报已结束的月份")
    listed = slow_regions(session, actor=actor, month=month)
    if not listed:
        raise InvalidInput.single("month", "none_slow", f"{month:%Y年%m月}没有处理不及时的市县，无需通报")
    issuer_region_id = session.exec(select(Region.id).where(Region.path == actor.region_path)).one()
    taken = session.exec(select(CirculatedNotice.id).where(
        CirculatedNotice.month == month, CirculatedNotice.issuer_region_id == issuer_region_id)).first()
    if taken is not None:
        raise AlreadyExists(f"{month:%Y年%m月}的通报已发布")
    notice = CirculatedNotice(
        number=f"TB-{month:%Y%m}-{issuer_region_id:02d}", month=month, issuer_region_id=issuer_region_id,
        threshold=get_settings().slow_on_time_rate, issued_by_id=actor.user_id, issued_at=as_of,
        regions=[{"region_id": r.region_id, "region_name": r.region_name, "closed": r.closed,
                  "on_time": r.on_time, "overdue_open": r.overdue_open, "rate": round(r.rate, 4)}
                 for r in listed],
    )
    session.add(notice)
    session.flush()
    region_paths = session.exec(select(Region.path).where(Region.id.in_([r.region_id for r in listed]))).all()
    recipients = session.exec(
        select(User.id).join(OrgUnit, OrgUnit.id == User.org_unit_id).join(Region, Region.id == OrgUnit.region_id)
        .where(User.is_active.is_(True), User.role.in_(OFFICE_READERS | SUPERVISORS),
               sa.or_(*(Region.path.startswith(p, autoescape=True) for p in region_paths)))
    ).all()
    queue(session, as_of=as_of, items=news_for(
        recipients, kind=NotificationKind.OVERSIGHT, key=f"notice:{notice.id}",
        subject=f"通报：{month:%Y年%m月}预警处理不及时的市县",
        body="、".join(r.region_name for r in listed) + f" 的预警按期处理率低于 {notice.threshold:.0%}，已予通报，请抓紧整改。",
        link=f"/oversight/notices/{notice.id}",
    ))
    return notice


def get_notice(session: Session, *, actor: Actor, notice_id: int) -> CirculatedNotice:
    notice = session.get(CirculatedNotice, notice_id)
    if notice is None:
        raise NotFound("通报不存在")
    return notice


def list_notices(session: Session, *, actor: Actor) -> list[CirculatedNotice]:
    """The notices issued, newest first (a 通报 is circulated: every office reader reads it)."""
    return list(session.exec(select(CirculatedNotice).order_by(CirculatedNotice.id.desc())).all())
