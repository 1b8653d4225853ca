"""The three-consecutive-month rule (Henan art. 17): which months count for a city or county.

A month counts for a region when, at the month's last instant in Asia/Shanghai, the region had
at least one case that was not resolved and whose signal was a counting level (settings:
yellow and red lights by default). A yellow bell counts only once its deadline passed and it
turned into a light; a case raised and resolved within the month, or resolved on the month's
last day, does not count.

Which region a case belongs to: every city and county (市本级 included: it is a county-level
region of its own) is evaluated; a case belongs to the nearest city-or-county region at or
above its own region (a township's cases belong to its county). A city therefore answers for
the cases registered at the city itself, not for those of its counties, which answer for
themselves.

One statement per month: INSERT … SELECT … ON CONFLICT DO UPDATE into region_month, so
re-evaluating a month rewrites the same rows. The streak (consecutive counting months ending
with this one) is read from the previous month's row; missing earlier months are evaluated
first (at most streak_months + interview_window_months of them), and months already
evaluated after this one have their streak recomputed.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models import Case, CaseEvent, Region
from models.enums import STATE_LEVEL, Level, RegionLevel
from models.oversight import OversightCase, OversightKind, RegionMonth
from models.settings import get_settings
from models.types import UTCDateTime
from workflows.core.actors import Actor
from workflows.core.calendar import LOCAL_TZ, add_months, local_date, month_start, previous_month

CASES = Case.__table__
EVENTS = CaseEvent.__table__
REGIONS = Region.__table__
MONTHS = RegionMonth.__table__
OVERSIGHT = OversightCase.__table__

# The regions the rule is about (市本级 is stored as a county-level region).
EVALUATED = (RegionLevel.CITY, RegionLevel.COUNTY)


# -- months -----------------------------------------------------------------------------------


def month_boundary(month: date) -> datetime:
    """The first instant after the month, local time (as an aware datetime): a case counts at
    the month's end when raised before it and not closed before it."""
    return datetime.combine(add_months(month, 1), time(0), tzinfo=LOCAL_TZ)


def month_before(as_of: datetime) -> date:
    """The local month before the one `as_of` falls in."""
    return previous_month(local_date(as_of))


def months_between(first: date, last: date) -> int:
    """How many months from `first` to `last` (0 when the same month)."""
    return (last.year - first.year) * 12 + last.month - first.month


# -- evaluation -------------------------------------------------------------------------------


@dataclass
class StreakResult:
    month: date
    regions: int = 0
    counting: int = 0
    # Regions whose streak is exactly 2 (the warning shown on dashboards) or ≥ streak_months.
    on_two: int = 0
    on_rule: int = 0
    backfilled: list[date] = field(default_factory=list)
    inspections_opened: int = 0
    interviews_opened: int = 0
    notifications_queued: int = 0
    # Cases that could not be opened: the region's province has no supervision bureau or
    # leadership unit to own them (set one up, then re-run the job).
    no_owner: int = 0

    @property
    def summary(self) -> str:
        """One line for people (warnflow jobs list)."""
        filled = f"（补评 {len(self.backfilled)} 个月）" if self.backfilled else ""
        missing = (
            f"；{self.no_owner} 件因省级缺少监督检查局或厅领导单位未能立案" if self.no_owner else ""
        )
        return (
            f"{self.month:%Y年%m月}：评估 {self.regions} 个市县{filled}，当月计入 {self.counting} 个，"
            f"连续2个月 {self.on_two} 个，达到规则 {self.on_rule} 个；"
            f"新开专项督查 {self.inspections_opened} 件，约谈 {self.interviews_opened} 件，"
            f"排队通知 {self.notifications_queued} 条{missing}"
        )

    def counts(self) -> dict[str, int]:
        return {
            "regions": self.regions,
            "counting": self.counting,
            "on_two": self.on_two,
            "on_rule": self.on_rule,
            "inspections_opened": self.inspections_opened,
            "interviews_opened": self.interviews_opened,
        }


def _state_level_case(state: sa.ColumnElement) -> sa.ColumnElement:
    """SQL: the signal level of a state (or of a raised level, whose values are states too)."""
    whens = []
    for level in (Level.YELLOW_BELL, Level.YELLOW_LIGHT, Level.RED_LIGHT):
        states = [s.value for s, lv in STATE_LEVEL.items() if lv == level]
        whens.append((state.in_(states), level.value))
    return sa.case(*whens, else_=Level.GREEN.value)


def _owners() -> sa.CTE:
    """region id → the nearest city-or-county region at or above it (one row per region)."""
    r = REGIONS.alias("r")
    o = REGIONS.alias("o")
    owner = (
        sa.select(o.c.id)
        .where(o.c.level.in_(EVALUATED), r.c.path.like(o.c.path.concat("%")))
        .order_by(sa.func.length(o.c.path).desc())
        .limit(1)
        .correlate(r)
        .scalar_subquery()
    )
    return sa.select(r.c.id.label("region_id"), owner.label("owner_id")).cte("owners")


def state_at(boundary: sa.ColumnElement) -> sa.ColumnElement:
    """SQL: a case's state just before `boundary` (correlated to warning_case)."""
    last_state = (
        sa.select(sa.type_coerce(EVENTS.c.to_state, sa.String))
        .where(EVENTS.c.case_id == CASES.c.id, EVENTS.c.at < boundary)
        .order_by(EVENTS.c.seq.desc())
        .limit(1)
        .correlate(CASES)
        .scalar_subquery()
    )
    # Every write of a case's state bumps updated_at to the moment of its event (transition,
    # sweep, extensions, intake): a case not updated since the boundary is still in the state
    # it was in then, and only the few changed since need their last event before it.
    return sa.case(
        (CASES.c.updated_at < boundary, sa.type_coerce(CASES.c.state, sa.String)),
        else_=sa.func.coalesce(last_state, sa.type_coerce(CASES.c.raised_level, sa.String)),
    )


def state_level(state: sa.ColumnElement) -> sa.ColumnElement:
    return _state_level_case(state)


def owners() -> sa.CTE:
    return _owners()


def _month_rows(month: date, as_of: datetime, levels: list[str]) -> sa.Select:
    """One row per city and county: its region_month values for `month`."""
    boundary = sa.bindparam("boundary", month_boundary(month), type_=UTCDateTime())
    state_at_end = state_at(boundary)
    # Grouped by (region, state at the end) first: the state is found once per case, and what
    # the rest of the statement reads is a few rows per region.
    by_state = (
        sa.select(CASES.c.region_id, state_at_end.label("state"), sa.func.count().label("n"))
        .where(
            CASES.c.raised_at < boundary,
            sa.or_(CASES.c.closed_at.is_(None), CASES.c.closed_at >= boundary),
        )
        .group_by(CASES.c.region_id, state_at_end)
        .subquery("by_state")
    )
    unresolved = sa.select(
        by_state.c.region_id, _state_level_case(by_state.c.state).label("level"), by_state.c.n
    ).subquery("unresolved")

    def tally(condition) -> sa.ColumnElement[int]:
        return sa.func.sum(sa.case((condition, unresolved.c.n), else_=0))

    by_region = (
        sa.select(
            unresolved.c.region_id,
            tally(unresolved.c.level == Level.YELLOW_LIGHT.value).label("yellow"),
            tally(unresolved.c.level == Level.RED_LIGHT.value).label("red"),
            tally(unresolved.c.level.in_(levels)).label("counting"),
        )
        .group_by(unresolved.c.region_id)
        .subquery("by_region")
    )
    owners = _owners()
    by_owner = (
        sa.select(
            owners.c.owner_id,
            sa.func.sum(by_region.c.yellow).label("yellow"),
            sa.func.sum(by_region.c.red).label("red"),
            sa.func.sum(by_region.c.counting).label("counting"),
        )
        .join(owners, owners.c.region_id == by_region.c.region_id)
        .group_by(owners.c.owner_id)
        .subquery("by_owner")
    )
    prev = MONTHS.alias("prev")
    counting = sa.func.coalesce(by_owner.c.counting, 0)
    return (
        sa.select(
            REGIONS.c.id,
            sa.literal(month, sa.Date()),
            sa.func.coalesce(by_owner.c.yellow, 0),
            sa.func.coalesce(by_owner.c.red, 0),
            counting > 0,
            sa.case((counting > 0, sa.func.coalesce(prev.c.streak, 0) + 1), else_=0),
            sa.literal(as_of, UTCDateTime()),
        )
        .select_from(
            REGIONS.outerjoin(by_owner, by_owner.c.owner_id == REGIONS.c.id).outerjoin(
                prev,
                sa.and_(
                    prev.c.region_id == REGIONS.c.id,
                    prev.c.month == sa.literal(add_months(month, -1), sa.Date()),
                ),
            )
        )
        .where(REGIONS.c.level.in_(EVALUATED))
    )


def _upsert(session: Session, month: date, as_of: datetime, levels: list[str]) -> None:
    dialect = session.connection().dialect.name
    if dialect == "postgresql":
        # The statement is costly enough for PostgreSQL to JIT-compile it, which takes longer
        # (~1.5 s, bench/RESULTS.md) than running it; for this transaction only.
        session.connection().execute(sa.text("SET LOCAL jit = off"))
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(MONTHS)
    columns = ["region_id", "month", "open_yellow", "open_red", "counts", "streak", "evaluated_at"]
    statement = insert.from_select(columns, _month_rows(month, as_of, levels))
    statement = statement.on_conflict_do_update(
        index_elements=["region_id", "month"],
        set_={c: statement.excluded[c] for c in columns[2:]},
    )
    session.connection().execute(statement)


def _restreak(session: Session, month: date) -> int:
    """Recompute `month`'s streaks from the month before (after an earlier month changed)."""
    prev = MONTHS.alias("prev")
    before = (
        sa.select(prev.c.streak)
        .where(prev.c.region_id == MONTHS.c.region_id, prev.c.month == add_months(month, -1))
        .scalar_subquery()
    )
    return (
        session.connection()
        .execute(
            sa.update(MONTHS)
            .where(MONTHS.c.month == month)
            .values(streak=sa.case((MONTHS.c.counts, sa.func.coalesce(before, 0) + 1), else_=0))
        )
        .rowcount
    )


def _evaluated(session: Session, month: date) -> bool:
    return (
        session.connection()
        .execute(sa.select(MONTHS.c.id).where(MONTHS.c.month == month).limit(1))
        .first()
        is not None
    )


def evaluate_month(
    session: Session, *, month: date, as_of: datetime, backfill: bool = True
) -> StreakResult:
    """Decide whether `month` counts for every city and county and store its streak; idempotent.

    Earlier months missing from region_month are evaluated first (bounded); later months
    already stored get their streaks recomputed. The caller owns the transaction."""
    month = month_start(month)
    if month_boundary(month) > as_of:
        raise ValueError(f"{month:%Y-%m} has not ended at {as_of.isoformat()}")
    settings = get_settings()
    levels = list(settings.streak_levels)
    result = StreakResult(month=month)
    if backfill:
        depth = settings.streak_months + settings.interview_window_months
        missing = []
        earlier = add_months(month, -1)
        while len(missing) < depth and not _evaluated(session, earlier):
            missing.append(earlier)
            earlier = add_months(earlier, -1)
        for earlier in reversed(missing):
            _upsert(session, earlier, as_of, levels)
        result.backfilled = sorted(missing)
    _upsert(session, month, as_of, levels)
    later = add_months(month, 1)
    while _evaluated(session, later):
        _restreak(session, later)
        later = add_months(later, 1)
    row = (
        session.connection()
        .execute(
            sa.select(
                sa.func.count(),
                sa.func.sum(sa.case((MONTHS.c.counts, 1), else_=0)),
                sa.func.sum(sa.case((MONTHS.c.streak == 2, 1), else_=0)),
                sa.func.sum(sa.case((MONTHS.c.streak >= settings.streak_months, 1), else_=0)),
            ).where(MONTHS.c.month == month)
        )
        .one()
    )
    result.regions, result.counting, result.on_two, result.on_rule = (int(v or 0) for v in row)
    return result


# -- reads ------------------------------------------------------------------------------------


def streaks_for_month(session: Session, *, month: date) -> dict[int, int]:
    """region_id → streak length at `month` (0 when the month did not count), as evaluated."""
    rows = session.connection().execute(
        sa.select(MONTHS.c.region_id, MONTHS.c.streak).where(MONTHS.c.month == month_start(month))
    )
    return {region_id: streak for region_id, streak in rows}


def latest_evaluated_month(session: Session) -> date | None:
    return session.connection().execute(sa.select(sa.func.max(MONTHS.c.month))).scalar_one_or_none()


@dataclass(frozen=True)
class StreakRow:
    """A region on a streak of 2 or more at the month shown (the dashboard warning)."""

    region_id: int
    region_code: str
    region_name: str
    month: date
    streak: int
    open_yellow: int
    open_red: int
    inspection_number: str | None

    @property
    def streak_start(self) -> date:
        return add_months(self.month, -(self.streak - 1))

    @property
    def on_rule(self) -> bool:
        return self.streak >= get_settings().streak_months


def streak_board(session: Session, *, actor: Actor, month: date | None = None) -> list[StreakRow]:
    """Regions in the actor's scope on a streak of ≥ 2 months at `month` (default: the latest
    evaluated month), longest first."""
    month = month_start(month) if month else latest_evaluated_month(session)
    if month is None:
        return []
    inspection = (
        sa.select(OVERSIGHT.c.number)
        .where(
            OVERSIGHT.c.kind == OversightKind.INSPECTION,
            OVERSIGHT.c.region_id == MONTHS.c.region_id,
            OVERSIGHT.c.streak_start <= MONTHS.c.month,
            OVERSIGHT.c.streak_end >= MONTHS.c.month,
        )
        .order_by(OVERSIGHT.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.connection().execute(
        sa.select(
            MONTHS.c.region_id,
            REGIONS.c.code,
            REGIONS.c.name,
            MONTHS.c.month,
            MONTHS.c.streak,
            MONTHS.c.open_yellow,
            MONTHS.c.open_red,
            inspection.label("inspection_number"),
        )  # fmt: skip
        .join(REGIONS, REGIONS.c.id == MONTHS.c.region_id)
        .where(
            MONTHS.c.month == month,
            MONTHS.c.streak >= 2,
            REGIONS.c.path.like(f"{actor.region_path}%"),
        )
        .order_by(MONTHS.c.streak.desc(), REGIONS.c.code)
    )
    return [StreakRow(*row) for row in rows]
