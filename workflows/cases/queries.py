"""The case read model: lists, the tracking list and the review queue, in one set-based query.

Every list is one SELECT joining the case to its rule, region, department and assignee,
filtered to the actor's data scope in SQL (a region-path prefix, plus the department for
handlers and supervisors). Pages are keyset-paginated: the cursor carries the sort key and
id of the last row, so page 2,000 costs what page 1 costs.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Row
from sqlmodel import Session

from models import Case, OrgUnit, Region, Rule, User
from models.enums import (
    OPEN_STATES,
    STATE_LEVEL,
    Level,
    Resolution,
    Role,
    RuleCategory,
    State,
    states_of_level,
)
from workflows.core.actors import Actor
from workflows.core.calendar import LOCAL_TZ, WorkingCalendar, load_calendar, local_date
from workflows.core.errors import InvalidInput, NotFound, OutOfScope, RoleNotAllowed
from workflows.core.roles import CASE_ACTORS, CASE_BLIND

CASES = Case.__table__
RULES = Rule.__table__
REGIONS = Region.__table__
UNITS = OrgUnit.__table__
USERS = User.__table__

BLIND_ROLES = CASE_BLIND

Sort = Literal[
    "due_on", "-due_on", "raised_at", "-raised_at", "entered_step_at", "-entered_step_at", "number"
]
SORT_COLUMNS = {
    "due_on": CASES.c.due_on,
    "raised_at": CASES.c.raised_at,
    "entered_step_at": CASES.c.entered_step_at,
    "number": CASES.c.number,
}
MAX_LIMIT = 200
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


# -- the per-rule summary's columns (workflows/cases/summary.py) -----------------------------
# Each case is counted on the track it came in on (see that module); the same conditions
# count the summary's cells and filter the list a cell links to, so the two always agree.
# The steps that wait for the supervisor's sign-off (the review queue).
REVIEW_STATES = (State.RECTIFICATION_REVIEW, State.REVERIFY_REVIEW, State.NORMAL_REVIEW, State.CLEARANCE_REVIEW)
RED_OPEN_STATES = (State.RED_LIGHT, State.RECTIFYING, State.RECTIFICATION_REVIEW, State.REVERIFY_REVIEW)


def summary_track() -> sa.ColumnElement[str]:
    state, raised = CASES.c.state, CASES.c.raised_level
    in_bell = state.in_([State.YELLOW_BELL, State.CLEARANCE_REVIEW, State.CLEARED])
    return sa.case(
        (sa.and_(raised == Level.YELLOW_BELL, in_bell), "bell"),
        (raised == Level.RED_LIGHT, "red"),
        (sa.and_(raised == Level.YELLOW_BELL, RULES.c.bell_becomes == Level.RED_LIGHT), "red"),
        else_="yellow",
    )


def summary_buckets() -> dict[str, sa.ColumnElement[bool]]:
    """The summary's columns as conditions over a query joining the case to its rule."""
    state, track = CASES.c.state, summary_track()
    green = state == State.GREEN
    return {
        "red_open": sa.and_(track == "red", state.in_(RED_OPEN_STATES)),
        "red_rectified": sa.and_(track == "red", green),
        "yellow_suspicious": sa.and_(
            track == "yellow", state.in_([State.YELLOW_LIGHT, State.VERIFYING, State.NORMAL_REVIEW])
        ),
        "yellow_normal": sa.and_(track == "yellow", green, CASES.c.resolution == Resolution.NORMAL),
        "yellow_violation_open": sa.and_(track == "yellow", state.in_(RED_OPEN_STATES)),
        "yellow_violation_rectified": sa.and_(
            track == "yellow", green, CASES.c.resolution == Resolution.RECTIFIED
        ),
        "bell_open": state.in_([State.YELLOW_BELL, State.CLEARANCE_REVIEW]),
        "bell_rectified": state == State.CLEARED,
        "transferred": state == State.TRANSFERRED,
    }


SUMMARY_BUCKETS = tuple(summary_buckets())
SummaryBucket = Literal[
    "red_open", "red_rectified", "yellow_suspicious", "yellow_normal", "yellow_violation_open",
    "yellow_violation_rectified", "bell_open", "bell_rectified", "transferred",
]  # fmt: skip


@dataclass(frozen=True)
class CaseRow:
    """One line of a list or of the tracking list."""

    id: int
    number: str
    version: int
    rule_code: str
    rule_name: str
    category: RuleCategory
    state: State
    level: Level
    region_code: str
    region_name: str
    org_unit_id: int
    org_unit_name: str
    assignee_id: int | None
    assignee_name: str | None
    fund_name: str | None
    payee_name: str | None
    amount: Decimal | None
    raised_at: datetime
    entered_step_at: datetime
    days_at_step: int  # whole calendar days since entered_step_at (local dates)
    due_on: date | None
    working_days_left: int | None  # negative when overdue; None when closed
    overdue: bool
    region_path: str = ""
    org_unit_code: str = ""

    @property
    def is_open(self) -> bool:
        return self.state.is_open


class CaseFilters(BaseModel):
    """What a list may be narrowed by; every field is optional."""

    model_config = ConfigDict(extra="forbid")

    state: list[State] | None = None
    level: Level | None = None
    rule: str | None = Field(default=None, max_length=32)  # rule code
    category: RuleCategory | None = None
    region: str | None = Field(default=None, max_length=12)  # region code, with descendants
    # Only the region's own cases, not its descendants' (a ledger line for a city's own level).
    region_only: bool = False
    # Raised in this local month, "YYYY-MM" (the ledger's month).
    month: str | None = Field(default=None, pattern=MONTH_PATTERN)
    # One column of the per-rule summary (workflows/cases/summary.py).
    bucket: SummaryBucket | None = None
    department: str | None = Field(default=None, max_length=32)  # org unit code
    assignee: int | None = None  # user id
    # "我的待办": open cases assigned to me, or unassigned in my department.
    mine: bool = False
    overdue: bool | None = None
    days_at_step_min: int | None = Field(default=None, ge=0, le=3650)
    q: str | None = Field(default=None, max_length=64)  # number, payee or fund name
    open_only: bool = False
    sort: Sort = "due_on"


@dataclass
class CasePage:
    rows: list[CaseRow]
    next_cursor: str | None


_SELECT = (
    sa.select(
        CASES.c.id,
        CASES.c.number,
        CASES.c.version,
        CASES.c.state,
        CASES.c.org_unit_id,
        CASES.c.assignee_id,
        CASES.c.fund_name,
        CASES.c.payee_name,
        CASES.c.amount,
        CASES.c.raised_at,
        CASES.c.entered_step_at,
        CASES.c.due_on,
        RULES.c.code.label("rule_code"),
        RULES.c.name.label("rule_name"),
        RULES.c.category,
        REGIONS.c.code.label("region_code"),
        REGIONS.c.name.label("region_name"),
        REGIONS.c.path.label("region_path"),
        UNITS.c.name.label("org_unit_name"),
        UNITS.c.code.label("org_unit_code"),
        USERS.c.full_name.label("assignee_name"),
    )
    .select_from(CASES)
    .join(RULES, RULES.c.id == CASES.c.rule_id)
    .join(REGIONS, REGIONS.c.id == CASES.c.region_id)
    .join(UNITS, UNITS.c.id == CASES.c.org_unit_id)
    .outerjoin(USERS, USERS.c.id == CASES.c.assignee_id)
)


def list_cases(
    session: Session,
    *,
    actor: Actor,
    filters: CaseFilters,
    as_of: datetime,
    limit: int = 50,
    cursor: str | None = None,
) -> CasePage:
    """One page of the cases the actor may see, in the filter's order."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput.single("limit", "out_of_range", f"每页条数须在 1 到 {MAX_LIMIT} 之间")
    today = local_date(as_of)
    query = _filtered(session, actor, filters, today)
    query = _order(query, filters.sort)
    if cursor:
        query = query.where(_after(filters.sort, decode_cursor(cursor, filters.sort)))
    rows = session.connection().execute(query.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    calendar = load_calendar(session)
    page = _to_rows(rows, today, calendar)
    next_cursor = encode_cursor(filters.sort, page[-1]) if more and page else None
    return CasePage(rows=page, next_cursor=next_cursor)


def iter_cases(
    session: Session, *, actor: Actor, filters: CaseFilters, as_of: datetime, cap: int = 100_000
) -> list[CaseRow]:
    """Every matching case, for exports; refuses rather than silently cutting at `cap`."""
    today = local_date(as_of)
    query = _order(_filtered(session, actor, filters, today), filters.sort)
    rows = session.connection().execute(query.limit(cap + 1)).all()
    if len(rows) > cap:
        raise InvalidInput.single(
            "filters", "too_many", f"符合条件的预警超过 {cap} 条，请缩小筛选范围后再导出"
        )
    return _to_rows(rows, today, load_calendar(session))


def review_queue(session: Session, *, actor: Actor, as_of: datetime) -> list[CaseRow]:
    """Rectifications, re-verification requests, large normal conclusions and bells cleared on
    a person's word waiting for a supervisor, in the actor's scope, oldest deadline first."""
    filters = CaseFilters(state=list(REVIEW_STATES), sort="due_on")
    return iter_cases(session, actor=actor, filters=filters, as_of=as_of, cap=10_000)


def case_row(session: Session, *, case_id: int, as_of: datetime) -> CaseRow | None:
    """One case as a list line, whoever is asking (callers check scope first)."""
    row = session.connection().execute(_SELECT.where(CASES.c.id == case_id)).one_or_none()
    if row is None:
        return None
    return _to_rows([row], local_date(as_of), load_calendar(session))[0]


def check_visible(actor: Actor, *, number: str, found) -> None:
    """May the actor see the case found by this number (a row with region_path and
    org_unit_id, None when there is none)? The role's refusal (administrator, integration),
    NotFound, or OutOfScope when it is someone else's (GET routes answer both with 404, so
    a number's existence does not leak)."""
    if actor.role in BLIND_ROLES:
        scope_clause(actor)  # raises the role's refusal
    if found is None:
        raise NotFound("预警不存在")
    if actor.role != Role.SYSTEM and not actor.in_scope(
        region_path=found.region_path, org_unit_id=found.org_unit_id
    ):
        raise OutOfScope(f"预警 {number} 不在您的管辖范围内")


def scope_clause(actor: Actor) -> sa.ColumnElement[bool]:
    """The actor's data scope over a query that joins the case's region (DOMAIN.md 'Who uses it')."""
    if actor.role in BLIND_ROLES:
        if actor.role == Role.ADMIN:
            raise RoleNotAllowed("系统管理员不得查看或办理案件（不得混岗）")
        raise RoleNotAllowed("接口账户只能报送数据，不能查看案件")
    if actor.role in CASE_ACTORS:
        # A section's cases all lie in its region (routing and the import guarantee it), so
        # the section alone decides; adding the region clause makes PostgreSQL misjudge the
        # row count and sort the whole section instead of reading (org_unit_id, due_on, id).
        return CASES.c.org_unit_id == actor.org_unit_id
    # A prefix LIKE on the materialized path: one indexed range, no recursive query.
    return REGIONS.c.path.like(like_prefix(actor.region_path), escape="\\")


def _filtered(session: Session, actor: Actor, f: CaseFilters, today: date) -> sa.Select:
    clauses: list[sa.ColumnElement[bool]] = [scope_clause(actor)]
    if f.state:
        clauses.append(CASES.c.state.in_(list(dict.fromkeys(f.state))))
    if f.level is not None:
        clauses.append(CASES.c.state.in_(states_of_level(f.level)))
    if f.open_only:
        clauses.append(CASES.c.state.in_(OPEN_STATES))
    if f.rule:
        clauses.append(RULES.c.code == f.rule)
    if f.category is not None:
        clauses.append(RULES.c.category == f.category)
    if f.region:
        # Looked up first so the subtree is a constant prefix the index can range over.
        path = (
            session.connection()
            .execute(sa.select(REGIONS.c.path).where(REGIONS.c.code == f.region))
            .scalar_one_or_none()
        )
        if path is None:
            clauses.append(sa.false())
        elif f.region_only:
            clauses.append(REGIONS.c.path == path)
        else:
            clauses.append(REGIONS.c.path.like(like_prefix(path), escape="\\"))
    if f.month:
        start, end = month_bounds(date.fromisoformat(f"{f.month}-01"))
        clauses.append(sa.and_(CASES.c.raised_at >= start, CASES.c.raised_at < end))
    if f.bucket:
        clauses.append(summary_buckets()[f.bucket])
    if f.department:
        clauses.append(UNITS.c.code == f.department)
    if f.assignee is not None:
        clauses.append(CASES.c.assignee_id == f.assignee)
    if f.mine:
        clauses.append(CASES.c.state.in_(OPEN_STATES))
        clauses.append(
            sa.or_(
                CASES.c.assignee_id == actor.user_id,
                sa.and_(CASES.c.assignee_id.is_(None), CASES.c.org_unit_id == actor.org_unit_id),
            )
        )
    if f.overdue is True:
        clauses.append(sa.and_(CASES.c.state.in_(OPEN_STATES), CASES.c.due_on < today))
    elif f.overdue is False:
        clauses.append(sa.or_(CASES.c.due_on.is_(None), CASES.c.due_on >= today))
    if f.days_at_step_min is not None:
        # At the step for >= N local days  <=>  arrived before local midnight of (today - N + 1).
        cutoff_day = today - timedelta(days=f.days_at_step_min - 1)
        cutoff = datetime.combine(cutoff_day, time(0), LOCAL_TZ).astimezone(UTC)
        clauses.append(CASES.c.entered_step_at < cutoff)
    if f.q and f.q.strip():
        pattern = f"%{_escape_like(f.q.strip())}%"
        clauses.append(
            sa.or_(
                CASES.c.number.ilike(pattern, escape="\\"),
                CASES.c.payee_name.ilike(pattern, escape="\\"),
                CASES.c.fund_name.ilike(pattern, escape="\\"),
            )
        )
    return _SELECT.where(*clauses)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """A local (Shanghai) month as UTC instants [start, end)."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    start = datetime.combine(first, time(0), LOCAL_TZ)
    end = datetime.combine(following, time(0), LOCAL_TZ)
    return start.astimezone(UTC), end.astimezone(UTC)


def count_cases(session: Session, *, actor: Actor, filters: CaseFilters, as_of: datetime) -> int:
    """How many cases the list shows with these filters (every page together)."""
    query = _filtered(session, actor, filters, local_date(as_of))
    return session.connection().execute(
        sa.select(sa.func.count()).select_from(query.subquery())
    ).scalar_one()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_prefix(text: str) -> str:
    return _escape_like(text) + "%"


# -- ordering and keyset cursors ------------------------------------------------------


def _split(sort: str) -> tuple[sa.Column, bool]:
    descending = sort.startswith("-")
    return SORT_COLUMNS[sort.lstrip("-")], descending


def _order(query: sa.Select, sort: str) -> sa.Select:
    column, descending = _split(sort)
    if descending:
        # Closed cases have no deadline: NULLS FIRST descending mirrors NULLS LAST ascending,
        # the order a plain B-tree index on (due_on, id) gives on PostgreSQL in both directions.
        return query.order_by(sa.nulls_first(column.desc()), CASES.c.id.desc())
    return query.order_by(sa.nulls_last(column.asc()), CASES.c.id.asc())


def _after(sort: str, key: tuple) -> sa.ColumnElement[bool]:
    """Rows strictly after the cursor's (value, id) in the list's order."""
    column, descending = _split(sort)
    value, last_id = key
    if value is None:
        # Inside the block of empty deadlines: last when ascending, first when descending.
        if descending:
            return sa.or_(sa.and_(column.is_(None), CASES.c.id < last_id), column.is_not(None))
        return sa.and_(column.is_(None), CASES.c.id > last_id)
    bound = sa.tuple_(sa.literal(value, column.type), sa.literal(last_id, sa.Integer))
    if descending:
        return sa.tuple_(column, CASES.c.id) < bound
    return sa.or_(sa.tuple_(column, CASES.c.id) > bound, column.is_(None))


def encode_cursor(sort: str, row: CaseRow) -> str:
    column = sort.lstrip("-")
    value = getattr(row, column)
    if isinstance(value, date | datetime):
        value = value.isoformat()
    raw = json.dumps([sort, value, row.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple:
    """The (sort value, id) a cursor carries; InvalidInput when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, last_id = json.loads(raw)
        if cursor_sort != sort or not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValueError("cursor for another order")
        column = sort.lstrip("-")
        if value is not None:
            if column == "due_on":
                value = date.fromisoformat(value)
            elif column in ("raised_at", "entered_step_at"):
                value = datetime.fromisoformat(value)
                if value.tzinfo is None:
                    raise ValueError("naive timestamp")
            elif not isinstance(value, str):
                raise ValueError("number must be text")
        elif column != "due_on":
            raise ValueError("only deadlines may be empty")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput.single(
            "cursor", "invalid_cursor", "翻页标记无效或已过期，请从第一页重新查询"
        ) from None
    return value, last_id


# -- rows -----------------------------------------------------------------------------


def _to_rows(rows: list[Row], today: date, calendar: WorkingCalendar) -> list[CaseRow]:
    left_cache: dict[date, int] = {}

    def working_days_left(due_on: date) -> int:
        if due_on not in left_cache:
            left_cache[due_on] = calendar.working_days_between(today, due_on)
        return left_cache[due_on]

    result = []
    for r in rows:
        state = State(r.state)
        is_open = state.is_open
        due_on = r.due_on
        result.append(
            CaseRow(
                id=r.id,
                number=r.number,
                version=r.version,
                rule_code=r.rule_code,
                rule_name=r.rule_name,
                category=RuleCategory(r.category),
                state=state,
                level=STATE_LEVEL[state],
                region_code=r.region_code,
                region_name=r.region_name,
                org_unit_id=r.org_unit_id,
                org_unit_name=r.org_unit_name,
                assignee_id=r.assignee_id,
                assignee_name=r.assignee_name,
                fund_name=r.fund_name,
                payee_name=r.payee_name,
                amount=r.amount,
                raised_at=r.raised_at,
                entered_step_at=r.entered_step_at,
                days_at_step=max(0, (today - local_date(r.entered_step_at)).days),
                due_on=due_on,
                working_days_left=working_days_left(due_on) if is_open and due_on else None,
                overdue=bool(is_open and due_on and due_on < today),
                region_path=r.region_path,
                org_unit_code=r.org_unit_code,
            )
        )
    return result
