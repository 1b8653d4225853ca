"""Opening oversight cases from evaluated months: one special inspection per streak of
settings.streak_months counting months, one interview per closed inspection after which the
region kept counting (settings.interview_min_counting of the next interview_window_months).

Both opens are INSERT … ON CONFLICT DO NOTHING on the table's unique keys ((kind, region,
streak_start) and inspection_id), so running the job twice, or for months 3, 4 and 5 of one
streak, opens one case. The rows looked at are regions on a streak and closed inspections —
a handful per month — never cases.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models import OrgUnit, Region, User
from models.enums import OrgKind, RegionLevel, Role
from models.notifications import NotificationKind
from models.oversight import (
    OversightCase,
    OversightEvent,
    OversightKind,
    OversightState,
    RegionMonth,
)
from models.settings import get_settings
from workflows.core.calendar import add_months, chinese_date, load_calendar, local_date, month_start
from workflows.core.notify import news_for, queue
from workflows.core.numbering import allocate_numbers
from workflows.oversight.streaks import StreakResult, evaluate_month, month_before, months_between

OVERSIGHT = OversightCase.__table__
EVENTS = OversightEvent.__table__
MONTHS = RegionMonth.__table__
REGIONS = Region.__table__
UNITS = OrgUnit.__table__

PREFIX = {OversightKind.INSPECTION: "ZD", OversightKind.INTERVIEW: "YT"}
OWNER_KIND = {
    OversightKind.INSPECTION: OrgKind.SUPERVISION,
    OversightKind.INTERVIEW: OrgKind.LEADERSHIP,
}
FIRST_STATE = {
    OversightKind.INSPECTION: OversightState.OPEN,
    OversightKind.INTERVIEW: OversightState.SCHEDULED,
}


@dataclass
class Opened:
    inspections: int = 0
    interviews: int = 0
    notifications: int = 0
    # Regions whose province has no supervision bureau / leadership unit to own the case.
    no_owner: int = 0


@dataclass(frozen=True)
class _Candidate:
    region_id: int
    streak_start: date
    streak_end: date
    inspection_id: int | None = None


def format_number(prefix: str, drawn: str) -> str:
    """allocate_numbers' "ZD-202612-000001" as the oversight numbers are written: ZD-202612-0001."""
    key, n = drawn.rsplit("-", 1)
    return f"{key}-{int(n):04d}"


def evaluate_streaks(session: Session, *, as_of: datetime) -> StreakResult:
    """The monthly job (first working day, 06:00): evaluate last month, then open the special
    inspections and interviews it calls for."""
    result = evaluate_month(session, month=month_before(as_of), as_of=as_of)
    opened = open_oversight(session, months=[*result.backfilled, result.month], as_of=as_of)
    result.inspections_opened = opened.inspections
    result.interviews_opened = opened.interviews
    result.notifications_queued = opened.notifications
    result.no_owner = opened.no_owner
    return result


def open_oversight(session: Session, *, months: list[date], as_of: datetime) -> Opened:
    """Open what the evaluated `months` call for (inspections first, then interviews)."""
    opened = Opened()
    for month in sorted(months):
        _open_inspections(session, month_start(month), as_of, opened)
    _open_interviews(session, as_of, opened)
    return opened


def _open_inspections(session: Session, month: date, as_of: datetime, opened: Opened) -> None:
    connection = session.connection()
    threshold = get_settings().streak_months
    rows = connection.execute(
        sa.select(MONTHS.c.region_id, MONTHS.c.streak).where(
            MONTHS.c.month == month, MONTHS.c.streak >= threshold
        )
    ).all()
    if not rows:
        return
    candidates = [
        _Candidate(region_id, add_months(month, -(streak - 1)), month) for region_id, streak in rows
    ]
    # A streak going on: its inspection's last month moves with it.
    connection.execute(
        sa.update(OVERSIGHT)
        .where(
            OVERSIGHT.c.kind == OversightKind.INSPECTION,
            OVERSIGHT.c.region_id == sa.bindparam("r"),
            OVERSIGHT.c.streak_start == sa.bindparam("s"),
            OVERSIGHT.c.streak_end < sa.bindparam("e"),
        )
        .values(streak_end=sa.bindparam("e")),
        [{"r": c.region_id, "s": c.streak_start, "e": c.streak_end} for c in candidates],
    )
    _open(session, OversightKind.INSPECTION, candidates, as_of, opened)


def _open_interviews(session: Session, as_of: datetime, opened: Opened) -> None:
    settings = get_settings()
    connection = session.connection()
    interview = OVERSIGHT.alias("interview")
    closed = connection.execute(
        sa.select(
            OVERSIGHT.c.id, OVERSIGHT.c.region_id, OVERSIGHT.c.streak_start, OVERSIGHT.c.closed_at
        )
        .outerjoin(interview, interview.c.inspection_id == OVERSIGHT.c.id)
        .where(
            OVERSIGHT.c.kind == OversightKind.INSPECTION,
            OVERSIGHT.c.state == OversightState.CLOSED,
            OVERSIGHT.c.closed_at.is_not(None),
            interview.c.id.is_(None),
        )
    ).all()
    if not closed:
        return
    # The counting months of those regions after the earliest close (one query).
    first_close = min(month_start(local_date(row.closed_at)) for row in closed)
    counting: dict[int, list[date]] = defaultdict(list)
    for region_id, month in connection.execute(
        sa.select(MONTHS.c.region_id, MONTHS.c.month).where(
            MONTHS.c.region_id.in_({row.region_id for row in closed}),
            MONTHS.c.month > first_close,
            MONTHS.c.counts,
        )
    ):
        counting[region_id].append(month)
    candidates = []
    for row in closed:
        close_month = month_start(local_date(row.closed_at))
        window_end = add_months(close_month, settings.interview_window_months)
        hits = sorted(m for m in counting[row.region_id] if close_month < m <= window_end)
        if len(hits) >= settings.interview_min_counting:
            trigger = hits[settings.interview_min_counting - 1]
            candidates.append(_Candidate(row.region_id, row.streak_start, trigger, row.id))
    _open(session, OversightKind.INTERVIEW, candidates, as_of, opened)


def _owners(session: Session, kind: OversightKind, region_ids: set[int]) -> dict[int, int]:
    """region id → the org unit owning its oversight of this kind: the unit of that kind at
    the region's province (the lowest id if there are several)."""
    province = REGIONS.alias("province")
    rows = session.connection().execute(
        sa.select(REGIONS.c.id, sa.func.min(UNITS.c.id))
        .join(province, REGIONS.c.path.like(province.c.path.concat("%")))
        .join(UNITS, UNITS.c.region_id == province.c.id)
        .where(
            REGIONS.c.id.in_(region_ids),
            province.c.level == RegionLevel.PROVINCE,
            UNITS.c.kind == OWNER_KIND[kind],
        )
        .group_by(REGIONS.c.id)
    )
    return dict(rows.all())


def _open(
    session: Session, kind: OversightKind, candidates: list[_Candidate], as_of: datetime,
    opened: Opened,
) -> None:  # fmt: skip
    if not candidates:
        return
    connection = session.connection()
    # Skip what exists already, so numbers are drawn only for new cases.
    if kind == OversightKind.INSPECTION:
        existing = set(
            connection.execute(
                sa.select(OVERSIGHT.c.region_id, OVERSIGHT.c.streak_start).where(
                    OVERSIGHT.c.kind == kind,
                    OVERSIGHT.c.region_id.in_({c.region_id for c in candidates}),
                )
            ).all()
        )
        candidates = [c for c in candidates if (c.region_id, c.streak_start) not in existing]
    owners = _owners(session, kind, {c.region_id for c in candidates})
    opened.no_owner += sum(1 for c in candidates if c.region_id not in owners)
    candidates = [c for c in candidates if c.region_id in owners]
    if not candidates:
        return
    settings = get_settings()
    days = settings.inspection_days if kind == OversightKind.INSPECTION else settings.interview_days
    due_on = load_calendar(session).add_working_days(local_date(as_of), days)
    numbers = allocate_numbers(session, prefix=PREFIX[kind], at=as_of, count=len(candidates))
    values = [
        {
            "number": format_number(PREFIX[kind], number), "kind": kind, "state": FIRST_STATE[kind],
            "region_id": c.region_id, "owner_org_unit_id": owners[c.region_id],
            "streak_start": c.streak_start, "streak_end": c.streak_end,
            "inspection_id": c.inspection_id, "due_on": due_on, "opened_at": as_of,
            "record": {}, "version": 1, "created_at": as_of, "updated_at": as_of,
        }
        for c, number in zip(candidates, numbers, strict=True)
    ]  # fmt: skip
    insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(
        OVERSIGHT
    )
    conflict = (
        ["inspection_id"]
        if kind == OversightKind.INTERVIEW
        else ["kind", "region_id", "streak_start"]
    )
    added = connection.execute(
        insert.values(values)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(OVERSIGHT.c.id, OVERSIGHT.c.number, OVERSIGHT.c.region_id, OVERSIGHT.c.owner_org_unit_id,
                   OVERSIGHT.c.streak_start, OVERSIGHT.c.streak_end)
    ).all()  # fmt: skip
    if not added:
        return
    connection.execute(
        sa.insert(EVENTS),
        [
            {"oversight_id": row.id, "seq": 1, "event": "open", "from_state": None,
             "to_state": FIRST_STATE[kind], "actor_id": None, "actor_role": Role.SYSTEM,
             "at": as_of, "comment": _open_comment(kind, row), "data": {"due_on": due_on.isoformat()}}
            for row in added
        ],
    )  # fmt: skip
    if kind == OversightKind.INSPECTION:
        opened.inspections += len(added)
    else:
        opened.interviews += len(added)
    opened.notifications += _notify(session, kind, added, due_on, as_of)


def _open_comment(kind: OversightKind, row) -> str:
    first, last = row.streak_start, row.streak_end
    if kind == OversightKind.INSPECTION:
        return f"{first:%Y年%m月}至{last:%Y年%m月}连续存在未整改预警，启动专项督查"
    return f"专项督查办结后预警仍频繁发生（截至{last:%Y年%m月}），启动约谈"


def _notify(session: Session, kind: OversightKind, added, due_on: date, as_of: datetime) -> int:
    """Tell every active user of the owning unit."""
    connection = session.connection()
    users: dict[int, list[int]] = defaultdict(list)
    for user_id, unit_id in connection.execute(
        sa.select(User.id, User.org_unit_id).where(
            User.org_unit_id.in_({row.owner_org_unit_id for row in added}),
            User.is_active,
            User.revoked_at.is_(None),
        )
    ):
        users[unit_id].append(user_id)
    names = dict(
        connection.execute(
            sa.select(REGIONS.c.id, REGIONS.c.name).where(
                REGIONS.c.id.in_({r.region_id for r in added})
            )
        ).all()
    )
    items = []
    for row in added:
        name = names.get(row.region_id, "")
        if kind == OversightKind.INSPECTION:
            subject = f"{name}连续{_months(row)}个月存在未整改预警，请开展专项督查 {row.number}"
        else:
            subject = f"{name}专项督查后预警仍频繁发生，请安排约谈 {row.number}"
        body = f"{_open_comment(kind, row)}。办理期限：{chinese_date(due_on)}。"
        items += news_for(
            users[row.owner_org_unit_id], kind=NotificationKind.OVERSIGHT, subject=subject,
            body=body, key=f"oversight:{row.id}:open", link=f"/oversight/{row.id}",
            payload={"oversight_id": row.id, "number": row.number},
        )  # fmt: skip
    return queue(session, items=items, as_of=as_of)


def _months(row) -> int:
    return months_between(row.streak_start, row.streak_end) + 1
