"""The deadline sweep: reminders, overdue bells, escalation levels 1 and 2 (Changchun art.
18, 23), as set-based SQL in batches.

Working-day arithmetic happens once per run in Python: the calendar turns `as_of` into a few
threshold dates ("deadline before X"), which the statements take as parameters. Every write
is a conditional UPDATE (state, escalation level, deadline), so re-running the sweep — or
running it in two processes at once — changes nothing twice: on PostgreSQL the second
UPDATE waits for the first's row lock, re-checks its WHERE and skips the row. Each write
bumps the case's version like transition() does, so a person acting on the case with the
version they read before the sweep gets a "refresh" refusal instead of overwriting it.

On PostgreSQL a step first reads the ids of the cases it applies to, then each batch is one
statement over the next ids (UPDATE … RETURNING feeding INSERT … SELECT of the events and
escalation requests), which returns the batch's changed cases grouped per department and
handler — what the notices need, not a row per case. SQLite has no data-modifying CTEs:
UPDATE … RETURNING, then executemany of the same rows, grouped in Python.
"""

import heapq
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models import Case, CaseEvent, DeadlineReminder, EscalationRequest, Rule, User
from models.enums import OPEN_STATES, Event, Level, RequestKind, Role, State
from models.notifications import NotificationKind
from models.settings import get_settings
from workflows.cases.lifecycle import LADDER, LIFECYCLE, Deadline
from workflows.core import notify
from workflows.core.calendar import WorkingCalendar, chinese_date, load_calendar, local_date
from workflows.core.claiming import batch_ids

CASES = Case.__table__
EVENTS = CaseEvent.__table__
REQUESTS = EscalationRequest.__table__
REMINDERS = DeadlineReminder.__table__
RULES = Rule.__table__

# Steps the ladder applies to: the states the lifecycle lets the system escalate.
LADDER_STATES = tuple(s for s in OPEN_STATES if (s, Event.ESCALATE) in LADDER)
_BELL_STEP = LIFECYCLE[(State.YELLOW_BELL, Event.BELL_DEADLINE_PASSED)]


class Notice(NamedTuple):
    """The handler and department of `count` cases of one batch must be told;
    workflows/core/notify.py turns these into outbox rows. The first case (lowest id) names
    the message; `listed` holds the first cases' (id, number) in id order, as many as a
    message names. (Built from a batch's groups, which PostgreSQL aggregates in the batch's
    statement: a busy sweep changes 100,000 cases, and a Python object per case cost more
    than the rest of the sweep's Python.)"""

    kind: str  # "reminder" | "overdue" (level 1) | "escalation_request" (level 2) | "bell_converted"
    case_id: int
    number: str
    assignee_id: int | None
    org_unit_id: int
    due_on: date | None
    level: int = 0
    count: int = 1
    listed: tuple[tuple[int, str], ...] = ()


@dataclass
class SweepResult:
    as_of: datetime
    reminders: int = 0
    bells_converted: int = 0
    level1: int = 0
    level2: int = 0
    requests: int = 0
    notifications_queued: int = 0
    notices: list[Notice] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One line for people (warnflow jobs list)."""
        return (
            f"到期提醒 {self.reminders} 件，警铃转预警 {self.bells_converted} 件，"
            f"一级督办 {self.level1} 件，二级督办 {self.level2} 件（新增升级请求 {self.requests} 件），"
            f"排队通知 {self.notifications_queued} 条"
        )

    def counts(self) -> dict[str, int]:
        return {
            "reminders": self.reminders,
            "bells_converted": self.bells_converted,
            "level1": self.level1,
            "level2": self.level2,
            "requests": self.requests,
            "notifications_queued": self.notifications_queued,
        }


@dataclass(frozen=True)
class Thresholds:
    """The run's dates: a deadline before `passed` has passed (level 1); a bell's duty
    deadline before `today` has passed (it converts the first moment after its deadline day
    ends, working day or not: Changchun art. 19, 22); reminders go out for deadlines in
    [passed, remind_until]."""

    today: date
    passed: date
    remind_until: date


def last_working_day(calendar: WorkingCalendar, d: date) -> date:
    while not calendar.is_working_day(d):
        d -= timedelta(days=1)
    return d


def working_days_before(calendar: WorkingCalendar, d: date, n: int) -> date:
    """The n-th working day before d (d itself when n == 0)."""
    while n:
        d -= timedelta(days=1)
        if calendar.is_working_day(d):
            n -= 1
    return d


def thresholds(calendar: WorkingCalendar, as_of: datetime) -> Thresholds:
    today = local_date(as_of)
    # Deadlines pass on working days: a Friday deadline has passed on Monday, not Saturday.
    passed = last_working_day(calendar, today)
    lead = get_settings().reminder_lead_days
    return Thresholds(today=today, passed=passed, remind_until=calendar.add_working_days(passed, lead))


def sweep(
    session: Session,
    *,
    as_of: datetime,
    batch_size: int = 20_000,
    calendar: WorkingCalendar | None = None,
    commit: bool = False,
) -> SweepResult:
    """Run the deadline ladder for `as_of`; idempotent. With commit, each batch commits.

    A batch of 20,000 holds its cases' row locks for about a second (someone acting on one
    of them waits, then is refused as stale); fewer, larger batches cost less per case
    (bench/RESULTS.md §5)."""
    calendar = calendar or load_calendar(session)
    t = thresholds(calendar, as_of)
    rules = session.connection().execute(
        sa.select(
            RULES.c.id, RULES.c.bell_becomes, RULES.c.verify_days, RULES.c.rectify_days,
            RULES.c.review_days, RULES.c.escalation_grace_days,
        )  # fmt: skip
    ).all()
    result = SweepResult(as_of=as_of)
    runner = _Runner(session, batch_size, commit, result)
    _convert_bells(runner, result, rules, calendar, t)
    _remind(runner, result, t)
    _level1(runner, result, t)
    _level2(runner, result, rules, calendar, t)
    return result


# -- the steps -----------------------------------------------------------------------------


def _deadline_days(kind: Deadline, rule) -> int | None:
    """A rule's working days for a deadline kind (transition()'s defaults), None if not counted."""
    s = get_settings()
    match kind:
        case Deadline.VERIFY:
            return rule.verify_days or s.default_verify_days
        case Deadline.RECTIFY:
            return rule.rectify_days or s.default_rectify_days
        case Deadline.REVIEW:
            return rule.review_days or s.default_review_days
    raise ValueError(f"an expired bell cannot get a {kind} deadline")


def _convert_bells(runner: "_Runner", result: SweepResult, rules, calendar, t: Thresholds) -> None:
    """Overdue yellow bells become what their rule says, with the lifecycle table's deadline."""
    groups: dict[tuple[State, int, date], list[int]] = defaultdict(list)
    for rule in rules:
        outcome = _BELL_STEP.outcomes[rule.bell_becomes or Level.YELLOW_LIGHT.value]
        days = _deadline_days(outcome.deadline, rule)
        groups[(outcome.to, days, calendar.add_working_days(t.today, days))].append(rule.id)
    for (to_state, days, due_on), rule_ids in groups.items():
        where = sa.and_(
            CASES.c.state == State.YELLOW_BELL,
            CASES.c.due_on < t.today,
            CASES.c.rule_id.in_(rule_ids),
        )
        values = dict(state=to_state, due_on=due_on, due_from=t.today, due_days=days,
                      entered_step_at=runner.as_of, escalation_level=0)  # fmt: skip
        for rows in runner.batches(where, values, Event.BELL_DEADLINE_PASSED, {}, request_level=None):
            result.bells_converted += sum(g.count for g in rows)
            result.notices.extend(_notices("bell_converted", rows, 0))


def _level1(runner: "_Runner", result: SweepResult, t: Thresholds) -> None:
    where = sa.and_(
        CASES.c.state.in_(LADDER_STATES), CASES.c.escalation_level == 0, CASES.c.due_on < t.passed
    )
    for rows in runner.batches(where, {"escalation_level": 1}, Event.ESCALATE, {"level": 1}):
        result.level1 += sum(g.count for g in rows)
        result.notices.extend(_notices("overdue", rows, 1))


def _level2(runner: "_Runner", result: SweepResult, rules, calendar, t: Thresholds) -> None:
    default = get_settings().escalation_grace_days
    by_grace: dict[int, list[int]] = defaultdict(list)
    for rule in rules:
        grace = default if rule.escalation_grace_days is None else rule.escalation_grace_days
        by_grace[grace].append(rule.id)
    for grace, rule_ids in by_grace.items():
        # "passed more than `grace` working days ago": due_on + grace working days < passed.
        before = working_days_before(calendar, t.passed, grace)
        where = sa.and_(
            CASES.c.state.in_(LADDER_STATES),
            CASES.c.escalation_level == 1,
            CASES.c.due_on < before,
            CASES.c.rule_id.in_(rule_ids),
        )
        for rows in runner.batches(where, {"escalation_level": 2}, Event.ESCALATE, {"level": 2}, request_level=2):
            result.level2 += sum(g.count for g in rows)
            result.requests += sum(g.requested for g in rows)
            result.notices.extend(_notices("escalation_request", rows, 2))


def _remind(runner: "_Runner", result: SweepResult, t: Thresholds) -> None:
    """One reminder per (case, step, deadline) due within the lead days: a row, no event."""
    session = runner.session
    dialect = session.connection().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    while True:
        pending = (
            sa.select(CASES.c.id, CASES.c.entered_step_at, CASES.c.due_on, sa.literal(runner.as_of, REMINDERS.c.at.type))
            .where(
                CASES.c.state.in_(OPEN_STATES),
                CASES.c.due_on >= t.passed,
                CASES.c.due_on <= t.remind_until,
                ~sa.exists().where(
                    REMINDERS.c.case_id == CASES.c.id,
                    REMINDERS.c.step_entered_at == CASES.c.entered_step_at,
                    REMINDERS.c.due_on == CASES.c.due_on,
                ),
            )
            .order_by(CASES.c.id)
            .limit(runner.batch_size)
        )
        stmt = (
            insert(REMINDERS)
            .from_select(["case_id", "step_entered_at", "due_on", "at"], pending)
            .on_conflict_do_nothing()
            .returning(REMINDERS.c.case_id)
        )
        ids = session.connection().execute(stmt).scalars().all()
        if ids:
            rows = session.connection().execute(
                sa.select(CASES.c.id, CASES.c.number, CASES.c.assignee_id, CASES.c.org_unit_id, CASES.c.due_on)
                .where(CASES.c.id.in_(ids))
            ).all()
            result.reminders += len(rows)
            result.notices.extend(_notices("reminder", _group(rows), 0))
        runner.end_batch()
        if len(ids) < runner.batch_size:
            return


class _Group(NamedTuple):
    """A batch's changed cases of one department and handler."""

    org_unit_id: int
    assignee_id: int | None
    count: int
    ids: list[int]  # the first _LISTED, in id order
    numbers: list[str]  # theirs
    due_on: date | None  # the first case's
    requested: int = 0  # escalation requests added


def _group(rows: Iterable) -> list[_Group]:
    """The groups of changed rows (id, number, assignee_id, org_unit_id, due_on[, requested]),
    as PostgreSQL's batch statement returns them (SQLite and the reminders)."""
    groups: dict[tuple[int, int | None], list] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r.id):
        groups[(r.org_unit_id, r.assignee_id)].append(r)
    return [
        _Group(unit, assignee, len(rs), [r.id for r in rs[:_LISTED]], [r.number for r in rs[:_LISTED]],
               rs[0].due_on, sum(1 for r in rs if getattr(r, "requested", False)))
        for (unit, assignee), rs in groups.items()
    ]  # fmt: skip


def _notices(kind: str, groups: Iterable[_Group], level: int) -> list[Notice]:
    return [
        Notice(kind, g.ids[0], g.numbers[0], g.assignee_id, g.org_unit_id, g.due_on, level, g.count,
               tuple(zip(g.ids, g.numbers, strict=True)))
        for g in groups
    ]  # fmt: skip


# -- one batch: the guarded UPDATE and the rows it implies ---------------------------------


class _Runner:
    def __init__(self, session: Session, batch_size: int, commit: bool, result: SweepResult):
        self.session, self.batch_size, self.commit, self.result = session, batch_size, commit, result
        self.as_of = result.as_of
        self.queued = 0  # notices handed to notify so far
        self.postgres = session.connection().dialect.name == "postgresql"

    def end_batch(self) -> None:
        """Queue the batch's notices in the batch's transaction, then commit it (if asked):
        a sweep killed between batches leaves no escalation without its notifications."""
        notices = self.result.notices[self.queued :]
        self.queued = len(self.result.notices)
        self.result.notifications_queued += queue_notices(self.session, notices, as_of=self.as_of)
        if self.commit:
            self.session.commit()

    def batches(
        self, where, values: dict, event: Event, data: dict, request_level: int | None = None
    ) -> Iterable[list]:
        """Apply the UPDATE to batches of matching cases until none is left; yields each batch's
        changed rows (id, number, assignee_id, org_unit_id, due_on, requested)."""
        write: Callable = self._batch_pg if self.postgres else self._batch_sqlite
        for pick in self._picks(where):
            # Another sweep's locked rows are its to finish; this one takes the rest.
            picked = batch_ids(pick, postgres=self.postgres)
            update = (
                sa.update(CASES)
                .where(CASES.c.id.in_(picked), where)
                .values(version=CASES.c.version + 1, updated_at=self.as_of, **values)
            )
            groups = write(update, event, data, request_level)
            if groups:
                yield groups  # the caller records the batch's notices before it is committed
            self.end_batch()
            if not self.postgres and sum(g.count for g in groups) < self.batch_size:
                return

    def _picks(self, where) -> Iterable[sa.Select]:
        """Each batch's pick (one id column).

        On PostgreSQL the step's matching cases are read once (ids only, no lock), then taken
        in batches of consecutive ids by primary key: a pick `WHERE … LIMIT n` would re-read
        every case the previous batches already escalated (the level is not indexed), which
        made a 500,000-case sweep quadratic. A case that starts matching during the run is
        the next run's. On SQLite (small databases) each batch is picked by the WHERE alone,
        until a batch comes back short."""
        if not self.postgres:
            while True:
                yield sa.select(CASES.c.id).where(where).limit(self.batch_size)
        ids = self.session.connection().execute(sa.select(CASES.c.id).where(where).order_by(CASES.c.id)).scalars().all()
        if not ids:
            yield sa.select(CASES.c.id).where(sa.false())  # one empty batch: end_batch as before
            return
        for start in range(0, len(ids), self.batch_size):
            chunk = ids[start : start + self.batch_size]
            yield sa.select(CASES.c.id).where(
                CASES.c.id == sa.any_(sa.literal(chunk, postgresql.ARRAY(sa.Integer))),
                where,
            )

    def _returning(self, update):
        return update.returning(
            CASES.c.id, CASES.c.number, CASES.c.version, CASES.c.state, CASES.c.due_on,
            CASES.c.entered_step_at, CASES.c.assignee_id, CASES.c.org_unit_id,
        )  # fmt: skip

    def _event_values(self, event: Event, data: dict, from_state: State | None) -> dict:
        return {
            "event": event, "actor_id": None, "actor_role": Role.SYSTEM, "at": self.as_of,
            "comment": None, "slip_id": None, "data": data,
            **({"from_state": from_state} if from_state else {}),
        }  # fmt: skip

    def _batch_sqlite(self, update, event: Event, data: dict, request_level: int | None) -> list:
        connection = self.session.connection()
        # The state before the UPDATE is only needed for bells, whose state is known.
        from_state = State.YELLOW_BELL if event == Event.BELL_DEADLINE_PASSED else None
        changed = connection.execute(self._returning(update)).all()
        if not changed:
            return []
        base = self._event_values(event, data, from_state)
        connection.execute(
            sa.insert(EVENTS),
            [
                {**base, "case_id": r.id, "seq": r.version, "from_state": from_state or r.state,
                 "to_state": r.state, "due_on": r.due_on}
                for r in changed
            ],
        )  # fmt: skip
        requested: set[int] = set()
        if request_level is not None:
            # One INSERT … SELECT over the batch's cases (executemany cannot RETURN here).
            rows = sa.select(
                CASES.c.id, sa.literal(RequestKind.ESCALATION.value, REQUESTS.c.kind.type),
                sa.literal(request_level), CASES.c.entered_step_at, CASES.c.due_on,
                sa.literal(self.as_of, REQUESTS.c.requested_at.type),
            ).where(CASES.c.id.in_([r.id for r in changed]))  # fmt: skip
            stmt = (
                sqlite.insert(REQUESTS)
                .from_select(["case_id", "kind", "level", "step_entered_at", "step_due_on", "requested_at"], rows)
                .on_conflict_do_nothing()
                .returning(REQUESTS.c.case_id)
            )
            requested.update(connection.execute(stmt).scalars())
        return _group(
            _Changed(r.id, r.number, r.due_on, r.assignee_id, r.org_unit_id, r.id in requested) for r in changed
        )

    def _batch_pg(self, update, event: Event, data: dict, request_level: int | None) -> list:
        changed = self._returning(update).cte("changed")
        from_state = (
            sa.literal(State.YELLOW_BELL.value, EVENTS.c.from_state.type)
            if event == Event.BELL_DEADLINE_PASSED
            else changed.c.state
        )
        events = (
            sa.insert(EVENTS)
            .from_select(
                ["case_id", "seq", "event", "from_state", "to_state", "actor_role", "at", "due_on", "data"],
                sa.select(
                    changed.c.id, changed.c.version,
                    sa.literal(event.value, EVENTS.c.event.type), from_state, changed.c.state,
                    sa.literal(Role.SYSTEM.value, EVENTS.c.actor_role.type),
                    sa.literal(self.as_of, EVENTS.c.at.type), changed.c.due_on,
                    sa.cast(sa.literal(data, sa.JSON), sa.JSON),
                ),  # fmt: skip
            )
            .returning(EVENTS.c.case_id)
            .cte("events")
        )
        requested_ids = sa.select(sa.cast(sa.null(), sa.Integer).label("case_id")).where(sa.false())
        ctes = [changed, events]
        if request_level is not None:
            requests = (
                postgresql.insert(REQUESTS)
                .from_select(
                    ["case_id", "kind", "level", "step_entered_at", "step_due_on", "requested_at"],
                    sa.select(
                        changed.c.id, sa.literal(RequestKind.ESCALATION.value, REQUESTS.c.kind.type),
                        sa.literal(request_level), changed.c.entered_step_at, changed.c.due_on,
                        sa.literal(self.as_of, REQUESTS.c.requested_at.type),
                    ),  # fmt: skip
                )
                .on_conflict_do_nothing()
                .returning(REQUESTS.c.case_id)
                .cte("requests")
            )
            ctes.append(requests)
            requested_ids = sa.select(requests.c.case_id)
        requested = requested_ids.subquery("requested")
        def by_id(column):
            return postgresql.aggregate_order_by(column, changed.c.id)

        final = (
            sa.select(
                changed.c.org_unit_id, changed.c.assignee_id, sa.func.count(),
                postgresql.array_agg(by_id(changed.c.id))[1:_LISTED],
                postgresql.array_agg(by_id(changed.c.number))[1:_LISTED],
                postgresql.array_agg(by_id(changed.c.due_on))[1],
                # A hashed subplan: a join of the two CTEs may be planned as a nested loop
                # (the planner does not know a batch's size), 20,000 × 20,000 comparisons.
                sa.func.count().filter(changed.c.id.in_(sa.select(requested.c.case_id))),
            )
            .group_by(changed.c.org_unit_id, changed.c.assignee_id)
            .add_cte(*ctes)
        )  # fmt: skip
        # The rows have _Group's fields, in its order.
        return [_Group._make(row) for row in self.session.connection().execute(final)]


class _Changed(NamedTuple):
    """One changed case as the notices need it."""

    id: int
    number: str
    due_on: date | None
    assignee_id: int | None
    org_unit_id: int
    requested: bool


# -- notifications ---------------------------------------------------------------------------

_SUBJECTS = {
    "reminder": ("deadline_reminder", "案件 {number} 将于 {due_on} 到期，请及时办理"),
    "overdue": ("overdue", "案件 {number} 已超过办理期限（{due_on}），已升级为一级督办"),
    "escalation_request": ("escalation_request", "案件 {number} 逾期未办，请处室负责人决定处理方式"),
    "bell_converted": ("bell_converted", "案件 {number} 的黄色警铃已到期未办，已转为预警"),
}
# One message per person per kind and batch when a batch holds several of their cases: a
# supervisor told 300 times in one sweep reads none of it.
_GROUP_SUBJECTS = {
    "reminder": ("您有 {count} 件案件即将到期，请及时办理", "/work"),
    "overdue": ("{count} 件案件已超过办理期限，已升级为一级督办", "/cases?overdue=1&sort=due_on"),
    "escalation_request": ("{count} 件案件逾期未办，请处室负责人决定处理方式", "/escalations"),
    "bell_converted": ("{count} 件黄色警铃已到期未办，已转为预警", "/work"),
}
_LISTED = 20  # case numbers named in a grouped message's body


def queue_notices(session: Session, notices: list[Notice], *, as_of: datetime) -> int:
    """Hand a batch's notices to workflows/core/notify.py: the handler (reminders, bells, level 1)
    and the department's supervisors (levels 1 and 2), one message per person and kind.
    Returns the outbox rows added."""
    if not notices:
        return 0
    units = {n.org_unit_id for n in notices if n.kind in ("overdue", "escalation_request")}
    supervisors: dict[int, list[int]] = defaultdict(list)
    if units:
        for user_id, unit in session.connection().execute(
            sa.select(User.id, User.org_unit_id).where(
                User.org_unit_id.in_(units), User.role == Role.SUPERVISOR, User.is_active.is_(True)
            )
        ):
            supervisors[unit].append(user_id)
    per_person: dict[tuple[int, str], list[Notice]] = defaultdict(list)
    for n in notices:
        users = [n.assignee_id] if n.assignee_id and n.kind != "escalation_request" else []
        if n.kind in ("overdue", "escalation_request"):
            users += supervisors.get(n.org_unit_id, [])
        for user_id in users:
            per_person[(user_id, n.kind)].append(n)
    # The fullest list first: a supervisor's covers the department's cases of the batch, and
    # the department robot posts only the first item of its robot_key.
    messages = [(user_id, kind, groups, sum(g.count for g in groups)) for (user_id, kind), groups in per_person.items()]
    messages.sort(key=lambda m: (-m[3], min(g.case_id for g in m[2]), m[0], m[1]))
    batch = min(n.case_id for n in notices)
    items = [_item(user_id, kind, groups, count, batch) for user_id, kind, groups, count in messages]
    return notify.queue(session, items=items, as_of=as_of)


def _item(user_id: int, kind: str, groups: list[Notice], count: int, batch: int) -> notify.NotificationItem:
    notification_kind, subject = _SUBJECTS[kind]
    first = min(groups, key=lambda g: g.case_id)
    # Overdue and escalation news goes to the handler and the supervisors alike: the
    # department robot posts it once. Reminders and bells are each handler's own.
    robot_key = (
        f"sweep:{kind}:{batch}:{first.org_unit_id}" if kind in ("overdue", "escalation_request") else None
    )
    if count == 1:
        text = subject.format(number=first.number, due_on=chinese_date(first.due_on) if first.due_on else "")
        return notify.NotificationItem(
            user_id=user_id, kind=NotificationKind(notification_kind), subject=text, body=text,
            dedupe_key=f"sweep:{kind}:{first.case_id}:{first.due_on}:{first.level}:{user_id}",
            case_id=first.case_id, link=f"/cases/{first.number}", payload={"level": first.level},
            robot_key=robot_key,
        )  # fmt: skip
    group_subject, link = _GROUP_SUBJECTS[kind]
    listed = heapq.merge(*(g.listed for g in groups)) if len(groups) > 1 else groups[0].listed
    numbers = [number for _, number in itertools.islice(listed, _LISTED)]
    more = f"等 {count} 件" if count > _LISTED else ""
    body = f"{group_subject.format(count=count)}：{'、'.join(numbers)}{more}。"
    # The batch's cases are escalated once, so the batch (its first case) names the message.
    return notify.NotificationItem(
        user_id=user_id, kind=NotificationKind(notification_kind),
        subject=group_subject.format(count=count), body=body,
        dedupe_key=f"sweep:{kind}:batch:{first.case_id}:{first.due_on}:{first.level}:{user_id}",
        link=link, payload={"level": first.level, "count": count}, robot_key=robot_key,
    )  # fmt: skip
