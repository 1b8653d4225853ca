"""Re-planning open deadlines after a calendar change (节假日调整).

Every open deadline is `due_days` working days after `due_from` (models/cases.py). When an
administrator marks a day a holiday or a working day, the deadlines whose counting span
covers that day move. The new dates are computed once per distinct (due_from, due_days,
old due_on, escalation grace) — a few hundred combinations however many cases there are —
into a small temporary table; one UPDATE joins it to move every case, and one INSERT ... SELECT
writes each moved case's timeline event ("节假日调整，期限由 X 调整为 Y").

An escalation reached only because of the old date is withdrawn in the same UPDATE: the
level drops to what the new deadline deserves as of now (the sweep's own thresholds), and a
level-2 request (督办申请) no longer deserved is closed as 节假日调整期限，自动撤回.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from models import Case, CaseEvent, EscalationRequest, Rule
from models.enums import OPEN_STATES, Event, RequestDecision, RequestKind
from models.settings import get_settings
from workflows.core.actors import Actor
from workflows.core.calendar import WorkingCalendar, chinese_date, load_calendar
from workflows.escalation.sweep import thresholds, working_days_before

CASES = Case.__table__
EVENTS = CaseEvent.__table__
RULES = Rule.__table__
REQUESTS = EscalationRequest.__table__
LEVEL_WORDS = {1: "一级督办", 2: "二级督办"}

_MOVES = sa.Table(
    "replan_move",
    sa.MetaData(),
    sa.Column("due_from", sa.Date, nullable=False),
    sa.Column("due_days", sa.Integer, nullable=False),
    sa.Column("old_due", sa.Date, nullable=False),
    sa.Column("grace", sa.Integer, nullable=False),
    sa.Column("new_due", sa.Date, nullable=False),
    # The highest escalation level the new deadline deserves today.
    sa.Column("level_cap", sa.Integer, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("withdrawn_note", sa.Text, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    prefixes=["TEMPORARY"],
)


@dataclass(frozen=True)
class ReplanResult:
    moved: int  # open cases whose deadline moved
    withdrawn: int  # of them, cases whose escalation level was lowered
    requests_closed: int  # 督办申请 closed because the level they asked for was withdrawn

    @property
    def summary(self) -> str:
        if not self.moved:
            return "没有案件的办理期限受此调整影响"
        text = f"已按新的工作日历调整 {self.moved} 件案件的办理期限"
        if self.withdrawn:
            text += f"，其中 {self.withdrawn} 件撤回了因原期限产生的督办"
        return text


def deadline_of(calendar: WorkingCalendar, due_from: date, due_days: int) -> date:
    """The deadline `due_days` working days after `due_from` (0: the next working day on or
    after it) — what every writer of due_on computes (models/cases.py)."""
    return calendar.add_working_days(due_from, due_days)


def replan_deadlines(
    session: Session, *, changed: Iterable[date], actor: Actor, as_of: datetime,
    calendar: WorkingCalendar | None = None,
) -> ReplanResult:  # fmt: skip
    """Move every open deadline the calendar change on `changed` days moves (the change is
    already written in this session), with its event and withdrawn escalations."""
    days = sorted(set(changed))
    if not days:
        return ReplanResult(0, 0, 0)
    calendar = calendar or load_calendar(session)
    connection = session.connection()
    moves = _moves(connection, calendar, days, as_of)
    if not moves:
        return ReplanResult(0, 0, 0)
    # On failure the caller's rollback takes the temporary table away with the rest (dropping
    # it in a `finally` would hide the error behind PostgreSQL's "transaction aborted").
    connection.execute(sa.text("DROP TABLE IF EXISTS replan_move"))
    _MOVES.create(connection)
    connection.execute(_MOVES.insert(), moves)
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # A temporary table has no statistics; and even analyzed, PostgreSQL expects a
        # handful of cases per deadline and re-reads each deadline's cases once per basis
        # (a nested loop: 200 index scans of 10,000 rows at 100,000 moved). The candidates
        # are one index range read; one hash join with the bases is the plan wanted.
        connection.execute(sa.text("ANALYZE replan_move"))
        connection.execute(sa.text("SET LOCAL enable_nestloop = off"))
    span = (min(m["old_due"] for m in moves), max(m["old_due"] for m in moves))
    withdrawn = _count_withdrawn(connection, span)
    moved = _move(connection, actor, as_of, span)
    if postgres:
        connection.execute(sa.text("SET LOCAL enable_nestloop = on"))
    closed = _close_withdrawn_requests(connection, as_of)
    _MOVES.drop(connection)
    return ReplanResult(moved, withdrawn, closed)


# -- the steps -------------------------------------------------------------------------------


def _grace():
    return sa.func.coalesce(RULES.c.escalation_grace_days, get_settings().escalation_grace_days)


def _moves(connection, calendar: WorkingCalendar, days: list[date], as_of: datetime) -> list[dict]:
    """One row per distinct deadline basis whose deadline moves."""
    # A change on day X can only move deadlines counted across X: due_from <= X <= due_on.
    bases = connection.execute(
        sa.select(CASES.c.due_from, CASES.c.due_days, CASES.c.due_on, _grace().label("grace"))
        .join(RULES, RULES.c.id == CASES.c.rule_id)
        .where(
            CASES.c.state.in_(OPEN_STATES),
            CASES.c.due_on >= days[0],
            CASES.c.due_from <= days[-1],
            CASES.c.due_days.is_not(None),
        )
        .distinct()
    ).all()
    t = thresholds(calendar, as_of)
    before: dict[int, date] = {}
    moves = []
    for due_from, due_days, old_due, grace in bases:
        new_due = deadline_of(calendar, due_from, due_days)
        if new_due == old_due:
            continue
        if grace not in before:
            before[grace] = working_days_before(calendar, t.passed, grace)
        # The sweep's own rules: level 1 once the deadline passed, 2 once `grace` more did.
        cap = 0 if new_due >= t.passed else 1 if new_due >= before[grace] else 2
        moves.append({
            "due_from": due_from, "due_days": due_days, "old_due": old_due, "grace": grace,
            "new_due": new_due, "level_cap": cap,
            "comment": f"节假日调整，期限由 {chinese_date(old_due)} 调整为 {chinese_date(new_due)}",
            "withdrawn_note": "；按新期限尚未逾期，撤回督办" if cap == 0 else "；按新期限撤回二级督办",
            "data": {"from": old_due.isoformat(), "to": new_due.isoformat(), "level_cap": cap},
        })  # fmt: skip
    return moves


def _joined(span: tuple[date, date]):
    """The cases to move: open, with a basis in the moves table; `span` (the old deadlines'
    range) lets the (state, due_on) index pick them instead of reading every case."""
    return sa.and_(
        CASES.c.due_on.between(*span),
        CASES.c.due_from == _MOVES.c.due_from,
        CASES.c.due_days == _MOVES.c.due_days,
        CASES.c.due_on == _MOVES.c.old_due,
        CASES.c.state.in_(OPEN_STATES),
        RULES.c.id == CASES.c.rule_id,
        _grace() == _MOVES.c.grace,
    )


def _count_withdrawn(connection, span: tuple[date, date]) -> int:
    return connection.execute(
        sa.select(sa.func.count())
        .select_from(CASES)
        .join(RULES, RULES.c.id == CASES.c.rule_id)
        .join(_MOVES, _joined(span))
        .where(CASES.c.escalation_level > _MOVES.c.level_cap)
    ).scalar_one()


def _move(connection, actor: Actor, as_of: datetime, span: tuple[date, date]) -> int:
    # The cases to move with their values before the move: PostgreSQL's RETURNING sees the
    # new row, and the event must say whether the old escalation level was withdrawn.
    moving = (
        sa.select(
            CASES.c.id, CASES.c.version, CASES.c.state,
            (CASES.c.escalation_level > _MOVES.c.level_cap).label("lowered"),
            _MOVES.c.new_due, _MOVES.c.level_cap, _MOVES.c.comment, _MOVES.c.withdrawn_note,
            _MOVES.c.data,
        )  # fmt: skip
        .select_from(CASES)
        .join(RULES, RULES.c.id == CASES.c.rule_id)
        .join(_MOVES, _joined(span))
        .subquery("moving")
    )
    update = (
        CASES.update()
        # The version too: a case someone changed meanwhile keeps what they wrote.
        .where(CASES.c.id == moving.c.id, CASES.c.version == moving.c.version)
        .values(
            due_on=moving.c.new_due,
            escalation_level=sa.case((moving.c.lowered, moving.c.level_cap),
                                     else_=CASES.c.escalation_level),  # fmt: skip
            version=CASES.c.version + 1,
            updated_at=as_of,
        )
    )
    event_columns = ["case_id", "seq", "event", "from_state", "to_state", "actor_id", "actor_role",
                     "at", "comment", "due_on", "data"]  # fmt: skip

    def events_from(source):
        return sa.select(
            source.c.id, source.c.version + 1, sa.literal(Event.DEADLINE_REPLANNED.value),
            source.c.state, source.c.state, sa.literal(actor.user_id, sa.Integer),
            sa.literal(actor.role.value), sa.literal(as_of, EVENTS.c.at.type),
            source.c.comment + sa.case((source.c.lowered, source.c.withdrawn_note), else_=""),
            source.c.new_due, source.c.data,
        )

    if connection.dialect.name == "postgresql":
        # One statement: the UPDATE's RETURNING feeds the events, so no case moves without
        # its event. `version` returned is the old one (the subquery's), as events_from expects.
        moved = update.returning(
            moving.c.id, moving.c.version, moving.c.state, moving.c.lowered, moving.c.new_due,
            moving.c.comment, moving.c.withdrawn_note, moving.c.data,
        ).cte("moved")
        insert = postgresql.insert(EVENTS).add_cte(moved).from_select(event_columns, events_from(moved))
        # psycopg reports no rowcount for INSERT ... SELECT under a data-modifying WITH.
        return len(connection.execute(insert.returning(EVENTS.c.case_id)).all())
    # SQLite has one writer at a time: the events read the cases just before the UPDATE
    # moves them, inside the same write transaction.
    connection.execute(EVENTS.insert().from_select(event_columns, events_from(moving)))
    return connection.execute(update).rowcount


def _close_withdrawn_requests(connection, as_of: datetime) -> int:
    """Undecided 督办申请 asking for a level the case no longer has (after the UPDATE)."""
    case = CASES.alias("c")
    stale = (
        sa.select(case.c.id)
        .where(
            case.c.id == REQUESTS.c.case_id,
            case.c.escalation_level < REQUESTS.c.level,
            case.c.due_on != REQUESTS.c.step_due_on,
        )
        .exists()
    )
    return connection.execute(
        REQUESTS.update()
        .where(REQUESTS.c.decided_at.is_(None), REQUESTS.c.kind == RequestKind.ESCALATION, stale)
        .values(decision=RequestDecision.WITHDRAWN, decided_at=as_of,
                decision_reason=RequestDecision.WITHDRAWN.label)  # fmt: skip
    ).rowcount
