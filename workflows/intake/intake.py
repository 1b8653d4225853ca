"""Warnings become cases: numbered, routed, in the initial state their level gives.

`raise_cases` opens many at once with a fixed number of statements whatever the count
(one number reservation per month, one duplicate check, one COPY for the cases and one
for their `raise` events on PostgreSQL, multi-row INSERTs of 1,000 on SQLite), so a
platform's nightly batch of 10,000 takes seconds, not minutes.
It is all or nothing: one invalid or duplicate item refuses the whole call before anything
is written. `raise_case` is the one-item call.
"""

import json
from collections import namedtuple
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlmodel import Session

from models import Case, CaseEvent, Rule
from models.enums import Event, Level, WarningType
from models.settings import get_settings
from workflows.cases.lifecycle import INITIAL, Deadline
from workflows.core.actors import Actor
from workflows.core.calendar import LOCAL_TZ, WorkingCalendar, load_calendar, local_date
from workflows.core.errors import DomainError, FieldError, InvalidInput
from workflows.core.numbering import CASE_PREFIX, allocate_numbers

FACT_FIELDS = (
    "fund_name",
    "indicator_doc_no",
    "payer_name",
    "payee_name",
    "payee_account",
    "amount",
    "payment_date",
    "purpose",
)
# (source, external_id) pairs per duplicate check on SQLite: 2 bound parameters each, well
# under its 32,766, so a 10,000-warning batch is one query.
_PAIRS_PER_QUERY = 10_000


class DuplicateWarning(DomainError):
    code = "duplicate"
    status = 409


@dataclass(frozen=True)
class NewCase:
    """One warning to open a case for: what `raise_case` takes, less the call's context."""

    rule: Rule
    region_id: int
    org_unit_id: int
    source: str
    external_id: str
    raised_at: datetime
    assignee_id: int | None = None
    facts: dict[str, Any] | None = None
    payload: dict[str, Any] | None = None
    duty_due_on: date | None = None
    level: Level | None = None  # the rule's level when not given
    warning_type: WarningType | None = None  # what the platform sent (预警类型), if anything


def raise_case(
    session: Session,
    *,
    rule: Rule,
    region_id: int,
    org_unit_id: int,
    assignee_id: int | None,
    source: str,
    external_id: str,
    raised_at: datetime,
    as_of: datetime,
    actor: Actor,
    facts: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
    duty_due_on: date | None = None,
    level: Level | None = None,
    calendar: WorkingCalendar | None = None,
    warning_type: WarningType | None = None,
) -> int:
    """Open a case for one warning and record its `raise` event; returns the case id."""
    item = NewCase(
        rule=rule, region_id=region_id, org_unit_id=org_unit_id, assignee_id=assignee_id,
        source=source, external_id=external_id, raised_at=raised_at, facts=facts,
        payload=payload, duty_due_on=duty_due_on, level=level, warning_type=warning_type,
    )
    ids = _raise(
        session, [item], as_of=as_of, actor=actor, calendar=calendar, numbered_fields=False
    )
    return ids[0]


def raise_cases(
    session: Session,
    *,
    items: list[NewCase],
    as_of: datetime,
    actor: Actor,
    calendar: WorkingCalendar | None = None,
) -> list[int]:
    """Open a case per item with its `raise` event; the new ids, in the order of `items`.

    Numbers are consecutive per month of `raised_at`, in item order. Refuses the whole call
    (InvalidInput with fields `items.N.…`, or DuplicateWarning) before writing anything.
    """
    return _raise(session, items, as_of=as_of, actor=actor, calendar=calendar, numbered_fields=True)


def _problems(item: NewCase) -> list[FieldError]:
    """raise_case's checks for one item, as field errors (fields relative to the item)."""
    level = item.level or item.rule.level
    if level not in INITIAL:
        return [FieldError("level", "invalid_level", "预警级别须为黄色警铃、黄灯或红灯")]
    unknown = set(item.facts or {}) - set(FACT_FIELDS)
    if unknown:
        return [FieldError("facts", "unknown_field", f"未知的监控要素：{'、'.join(sorted(unknown))}")]
    if level == Level.YELLOW_BELL and item.duty_due_on is None:
        return [FieldError("duty_due_on", "required", "黄色警铃须给出履职截止日期")]
    return []


def _check(items: list[NewCase], *, numbered_fields: bool) -> None:
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        for e in _problems(item):
            if numbered_fields:
                e = FieldError(f"items.{index}.{e.field}", e.code, f"第 {index + 1} 条：{e.message}")
            errors.append(e)
    if errors:
        raise InvalidInput(errors[0].message, errors=errors)


def _chunks(values: list, size: int) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def existing_warnings(session: Session, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (source, external_id) pairs are on file already, in one query."""
    pairs = sorted(set(pairs))
    if not pairs:
        return set()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # One JSON parameter, not two placeholders a pair: psycopg parses placeholders in Python.
        rows = connection.execute(
            sa.text(
                "SELECT c.source, c.external_id FROM warning_case AS c"
                " JOIN json_to_recordset(CAST(:pairs AS json)) AS p(source text, external_id text)"
                " ON c.source = p.source AND c.external_id = p.external_id"
            ),
            {"pairs": json.dumps([{"source": s, "external_id": e} for s, e in pairs])},
        )
        return {(r.source, r.external_id) for r in rows}
    found = set()
    for chunk in _chunks(pairs, _PAIRS_PER_QUERY):
        key = sa.tuple_(Case.source, Case.external_id)
        rows = connection.execute(sa.select(Case.source, Case.external_id).where(key.in_(chunk)))
        found.update((r.source, r.external_id) for r in rows)
    return found


def _refuse_duplicates(session: Session, items: list[NewCase]) -> None:
    """Refuse pairs already on file, and pairs named twice in the call."""
    pairs = [(item.source, item.external_id) for item in items]
    seen: set[tuple[str, str]] = set()
    repeated = {pair for pair in pairs if pair in seen or seen.add(pair)}
    found = sorted(existing_warnings(session, seen) | repeated)
    if found:
        shown = "、".join(f"{source}/{external_id}" for source, external_id in found[:5])
        more = f" 等 {len(found)} 条" if len(found) > 5 else ""
        raise DuplicateWarning(f"预警 {shown}{more} 已存在")


def _numbers(session: Session, items: list[NewCase]) -> list[str]:
    """Consecutive numbers per local month of raised_at, one reservation per month.

    Months in order, so two concurrent batches lock the counters in the same order.
    """
    by_month: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        by_month.setdefault(item.raised_at.astimezone(LOCAL_TZ).strftime("%Y%m"), []).append(index)
    numbers: list[str] = [""] * len(items)
    for month in sorted(by_month):
        indexes = by_month[month]
        first = items[indexes[0]].raised_at
        reserved = allocate_numbers(session, prefix=CASE_PREFIX, at=first, count=len(indexes))
        for index, number in zip(indexes, reserved, strict=True):
            numbers[index] = number
    return numbers


def _raise(
    session: Session,
    items: list[NewCase],
    *,
    as_of: datetime,
    actor: Actor,
    calendar: WorkingCalendar | None,
    numbered_fields: bool,
) -> list[int]:
    if not items:
        return []
    _check(items, numbered_fields=numbered_fields)
    _refuse_duplicates(session, items)

    calendar = calendar or load_calendar(session)
    settings = get_settings()
    today = local_date(as_of)
    # Deadlines repeat across a batch (same day, few rules): compute each distinct one once.
    after_day: dict[tuple[date, int], date] = {}
    next_working: dict[date, date] = {}

    def due_on_of(item: NewCase, level: Level) -> tuple[date, int, date]:
        """(due_from, due_days, due_on): what the deadline counts from, and the deadline."""
        match INITIAL[level].deadline:
            case Deadline.DUTY:
                if item.duty_due_on not in next_working:
                    next_working[item.duty_due_on] = calendar.next_working_day(item.duty_due_on)
                return item.duty_due_on, 0, next_working[item.duty_due_on]
            case Deadline.VERIFY:
                days = item.rule.verify_days or settings.default_verify_days
            case _:
                days = item.rule.rectify_days or settings.default_rectify_days
        start = _deadline_start(item, today, settings.import_deadline_from)
        if (start, days) not in after_day:
            after_day[start, days] = calendar.add_working_days(start, days)
        return start, days, after_day[start, days]

    # raise_cases gets its own SAVEPOINT, so an unexpected database error (a warning sent
    # concurrently, a bad reference) leaves no case, event or used-up number behind and the
    # caller's transaction usable. raise_case does not, as before: it is called in loops
    # (the demo, the import's item-by-item fallback inside its own savepoint), and
    # thousands of savepoints in one transaction slow PostgreSQL down (subtransactions).
    with session.begin_nested() if numbered_fields else nullcontext():
        return _write(session, items, as_of=as_of, actor=actor, due_on_of=due_on_of)


def _deadline_start(item: NewCase, today: date, counted_from: str) -> date:
    """The day a new case's first deadline counts from: the day the platform raised the
    warning (a warning sent in late gets no extra days), or the import's day when the setting
    import_deadline_from says import_time."""
    if counted_from == "import_time":
        return today
    return local_date(item.raised_at)


def _write(
    session: Session,
    items: list[NewCase],
    *,
    as_of: datetime,
    actor: Actor,
    due_on_of: Callable[[NewCase, Level], tuple[date, int, date]],
) -> list[int]:
    numbers = _numbers(session, items)
    no_facts = dict.fromkeys(FACT_FIELDS)
    case_rows, levels, due_ons = [], [], []
    for item, number in zip(items, numbers, strict=True):
        level = item.level or item.rule.level
        due_from, due_days, due_on = due_on_of(item, level)
        levels.append(level)
        due_ons.append(due_on)
        # Every row names every column: a multi-row INSERT takes one shape of row.
        case_rows.append({
            **no_facts,
            **(item.facts or {}),
            "number": number,
            "rule_id": item.rule.id,
            "raised_level": level,
            "state": INITIAL[level].to,
            "region_id": item.region_id,
            "org_unit_id": item.org_unit_id,
            "assignee_id": item.assignee_id,
            "payload": item.payload or {},
            "source": item.source,
            "external_id": item.external_id,
            "raised_at": item.raised_at,
            # Its value, not the enum: COPY converts the enums the first row has, and this
            # one is often empty.
            "warning_type": item.warning_type and WarningType(item.warning_type).value,
            "duty_due_on": item.duty_due_on,
            "due_on": due_on,
            "due_from": due_from,
            "due_days": due_days,
            "entered_step_at": as_of,
            "version": 1,
            "escalation_level": 0,
            "resolution": None,
            "closed_at": None,
            "created_at": as_of,
            "updated_at": as_of,
        })

    connection = session.connection()
    cases = Case.__table__
    # Ids are matched back by the (unique) number, so row order does not matter.
    returned = _insert(connection, cases, case_rows, returning=(cases.c.id, cases.c.number))
    id_of = {row.number: row.id for row in returned}
    ids = [id_of[number] for number in numbers]

    event_rows = [
        {
            "case_id": case_id,
            "seq": 1,
            "event": Event.RAISE,
            "from_state": None,
            "to_state": INITIAL[level].to,
            "actor_id": actor.user_id,
            "actor_role": actor.role,
            "at": as_of,
            "comment": None,
            "slip_id": None,
            "due_on": due_on,
            "data": {"level": level.value},
        }
        for case_id, level, due_on in zip(ids, levels, due_ons, strict=True)
    ]
    events = CaseEvent.__table__
    _insert(connection, events, event_rows, returning=(events.c.id,))
    return ids


def _insert(connection: sa.Connection, table: sa.Table, rows: list[dict], *, returning) -> list:
    """Insert rows of one shape in few statements; the `returning` columns of each.

    PostgreSQL: COPY. The ids are drawn from the table's sequence first, in one query, so
    that nothing needs to come back; psycopg formats the rows in C and the server parses
    plain text (json_to_recordset, before, spent most of its time parsing one large JSON
    text; a multi-row VALUES list is ~25 placeholders a row, parsed by psycopg in Python).
    No SQLAlchemy type runs: every column is given (Python-side defaults do not apply),
    enums go as their values, JSON columns as JSON text, timestamps must be aware.
    Elsewhere (SQLite, in-process): executemany, which SQLAlchemy turns into multi-row
    INSERTs of up to 1,000 rows because of RETURNING.
    """
    if connection.dialect.name != "postgresql":
        return connection.execute(sa.insert(table).returning(*returning), rows).all()
    ids = connection.execute(
        sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": len(rows)},
    ).scalars().all()
    names = ["id", *rows[0]]
    json_columns = {n for n in names if isinstance(table.c[n].type, sa.JSON)}
    quote = connection.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    try:
        _copy(connection, statement, ids, rows, json_columns)
    except psycopg.Error as error:
        # As SQLAlchemy would have raised it (IntegrityError for a broken reference), so the
        # callers' handling is the same on every path.
        raise sa.exc.DBAPIError.instance(statement, None, error, psycopg.Error) from error
    shape = namedtuple("Inserted", [c.name for c in returning])  # noqa: PYI024
    by_name = [("id" if c.name == "id" else c.name) for c in returning]
    return [shape(*(row_id if n == "id" else row[n] for n in by_name)) for row_id, row in zip(ids, rows, strict=True)]


def _copy(connection: sa.Connection, statement: str, ids: list[int], rows: list[dict],
          json_columns: set[str]) -> None:
    # Every row has the shape of the first: which positions need converting is decided once.
    first = rows[0]
    json_at = [i for i, name in enumerate(first) if name in json_columns]
    enum_at = [i for i, (name, value) in enumerate(first.items())
               if name not in json_columns and isinstance(value, Enum)]
    moments = [name for name, value in first.items() if isinstance(value, datetime)]
    for name in moments:
        if any(row[name] is not None and row[name].tzinfo is None for row in rows):
            raise ValueError("naive datetime given where a UTC timestamp is stored")
    dumps = json.dumps
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        write = copy.write_row
        for row_id, row in zip(ids, rows, strict=True):
            values = [row_id, *row.values()]
            for i in enum_at:
                value = values[i + 1]
                if value is not None:
                    values[i + 1] = value.value
            for i in json_at:
                values[i + 1] = dumps(values[i + 1], ensure_ascii=False, default=str)
            write(values)
