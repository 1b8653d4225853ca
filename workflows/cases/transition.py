"""`transition()`: the only way a case changes state (ARCHITECTURE.md rule 1).

Every refusal (scope, stale version, state, role, input) is decided before anything is
written; the write itself is a guarded UPDATE … WHERE version = :v RETURNING, so two
concurrent actions on one case cannot both win. Callers own the transaction.
"""

import functools
from collections import namedtuple
from dataclasses import dataclass
from datetime import date, datetime

import psycopg
import sqlalchemy as sa
from psycopg.types.json import Json
from sqlalchemy.engine import Row
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session

from models import Case, CaseEvent, Region, Rule, User
from models.db import PG_DIALECT, pg_cast
from models.enums import Event, Level, Role, SignoffDecision, State
from models.settings import get_settings
from workflows.cases.closing import close_open_requests
from workflows.cases.lifecycle import LIFECYCLE, Branch, Deadline, Outcome, Step
from workflows.cases.review_news import tell_about_review
from workflows.cases.slip_rules import check_figures, needs_normal_review
from workflows.cases.slips import (
    SlipInput,
    file_slip,
    pg_file_slip_ctes,
    pg_file_slip_params,
    pg_sign_latest_slip_cte,
    pg_sign_latest_slip_params,
    sign_latest_slip,
)
from workflows.core.actors import Actor
from workflows.core.calendar import WorkingCalendar, load_calendar, local_date
from workflows.core.errors import (
    BatchRefused,
    DomainError,
    InvalidInput,
    InvalidState,
    NotFound,
    OutOfScope,
    RoleNotAllowed,
    StaleVersion,
)

CASES = Case.__table__
EVENTS = CaseEvent.__table__

# Everything transition() needs to decide, in one indexed read.
_CONTEXT = (
    sa.select(
        CASES.c.id,
        CASES.c.number,
        CASES.c.state,
        CASES.c.version,
        CASES.c.org_unit_id,
        CASES.c.assignee_id,
        CASES.c.due_on,
        CASES.c.duty_due_on,
        CASES.c.amount,
        Region.__table__.c.path.label("region_path"),
        Rule.__table__.c.verify_days,
        Rule.__table__.c.rectify_days,
        Rule.__table__.c.review_days,
        Rule.__table__.c.bell_becomes,
    )
    .join(Region.__table__, Region.__table__.c.id == CASES.c.region_id)
    .join(Rule.__table__, Rule.__table__.c.id == CASES.c.rule_id)
)


# Built once: SQLAlchemy builds, and derives a cache key from, every statement it is given;
# doing that per call costs more CPU than the database spends running the statement.
_CONTEXT_BY_ID = _CONTEXT.where(CASES.c.id == sa.bindparam("case_id"))
_INSERT_EVENT = sa.insert(EVENTS)
_CONTEXT_SQL_PG = str(_CONTEXT_BY_ID.compile(dialect=PG_DIALECT))
_ContextRow = namedtuple("_ContextRow", [c.name for c in _CONTEXT_BY_ID.selected_columns])


@functools.cache
def _update_statement(columns: tuple[str, ...]) -> sa.Update:
    """The guarded UPDATE setting these columns (one statement per shape, built once)."""
    return (
        sa.update(CASES)
        .where(
            CASES.c.id == sa.bindparam("w_id"),
            CASES.c.version == sa.bindparam("w_version"),
            CASES.c.state == sa.bindparam("w_state"),
        )
        .values(
            version=CASES.c.version + 1,
            **{c: sa.bindparam(f"v_{c}", type_=CASES.c[c].type) for c in columns},
        )
        .returning(CASES.c.version)
    )


@dataclass(frozen=True)
class TransitionResult:
    case_id: int
    number: str
    event: Event
    from_state: State
    to_state: State
    version: int
    due_on: date | None
    slip_id: int | None


@dataclass(frozen=True)
class _Plan:
    context: Row
    step: Step
    outcome: Outcome
    due_on: date | None


def transition(
    session: Session,
    *,
    case_id: int,
    event: Event | str,
    actor: Actor,
    version: int,
    as_of: datetime,
    slip: SlipInput | None = None,
    comment: str | None = None,
    assignee_id: int | None = None,
    calendar: WorkingCalendar | None = None,
) -> TransitionResult:
    """Apply one event to one case, or raise a DomainError having written nothing."""
    event = _parse_event(event)
    calendar = calendar or load_calendar(session)
    driver = _postgres(session)
    context = _load(session, case_id, driver)
    plan = _plan(session, context, event, actor, version, as_of, slip, comment, assignee_id, calendar)
    if plan.step.slip:
        check_figures(session, slip=slip, case_ids=[case_id])
    if driver is not None:
        result = _write_pg(session, driver, plan, version, event, actor, as_of, slip, comment, assignee_id)
    else:
        new_version = _update(session, plan, version, as_of, assignee_id)
        slip_id = None
        if plan.step.slip:
            slip_id = file_slip(session, slip=slip, actor=actor, case_ids=[case_id], as_of=as_of)
        result = _record(session, plan, new_version, event, actor, as_of, slip_id, comment, assignee_id)
    _after(session, plan, result, comment, as_of)
    return result


def transition_many(
    session: Session,
    *,
    cases: list[tuple[int, int]],
    event: Event | str,
    actor: Actor,
    as_of: datetime,
    slip: SlipInput | None = None,
    comment: str | None = None,
    assignee_id: int | None = None,
    calendar: WorkingCalendar | None = None,
) -> list[TransitionResult]:
    """One event (and one slip, 批量认定/批量整改) over many (case id, version) pairs: all or none."""
    event = _parse_event(event)
    if not cases:
        raise InvalidInput.single("cases", "required", "请至少选择一个案件")
    if len({case_id for case_id, _ in cases}) != len(cases):
        raise InvalidInput.single("cases", "duplicate", "同一案件不能重复选择")
    calendar = calendar or load_calendar(session)
    plans: list[_Plan] = []
    refused: list[dict] = []
    for case_id, version in cases:
        try:
            context = _load(session, case_id)
            plans.append(
                _plan(session, context, event, actor, version, as_of, slip, comment, assignee_id, calendar)
            )
        except DomainError as error:
            refused.append({"case_id": case_id, **error.as_dict()})
    if refused:
        raise BatchRefused(f"{len(refused)} 个案件不能办理，全部未提交", items=refused)
    if plans[0].step.slip:
        # A batch slip's figures are checked against all its cases together.
        check_figures(session, slip=slip, case_ids=[p.context.id for p in plans])
    # The guarded UPDATEs can still lose a race: undo the whole batch if one does.
    with session.begin_nested():
        versions = [
            _update(session, plan, version, as_of, assignee_id)
            for plan, (_, version) in zip(plans, cases, strict=True)
        ]
        slip_id = None
        if plans[0].step.slip:
            slip_id = file_slip(
                session, slip=slip, actor=actor, case_ids=[p.context.id for p in plans], as_of=as_of
            )
        results = [
            _record(session, plan, new_version, event, actor, as_of, slip_id, comment, assignee_id)
            for plan, new_version in zip(plans, versions, strict=True)
        ]
        for plan, result in zip(plans, results, strict=True):
            _after(session, plan, result, comment, as_of)
        return results


def _after(session: Session, plan: _Plan, result: TransitionResult, comment: str | None,
           as_of: datetime) -> None:  # fmt: skip
    """What follows an accepted event in the same transaction: a closed case closes its
    waiting requests; a review waiting or decided is news (review_news.REVIEW_NEWS)."""
    context = plan.context
    if plan.outcome.resolution is not None:
        close_open_requests(session, case_ids=[context.id], as_of=as_of)
    tell_about_review(
        session, event=result.event, case_id=context.id, number=context.number,
        org_unit_id=context.org_unit_id, assignee_id=context.assignee_id, version=result.version,
        comment=comment, as_of=as_of, to_state=result.to_state,
    )  # fmt: skip


def _parse_event(event: Event | str) -> Event:
    try:
        return Event(event)
    except ValueError:
        raise InvalidInput.single("event", "unknown_event", f"未知的操作：{event}") from None


def _postgres(session: Session) -> psycopg.Connection | None:
    """The psycopg connection under the session's transaction, on PostgreSQL only.

    The one dialect split of transition(): on PostgreSQL it reads and writes with fixed SQL
    straight on psycopg (prepared by the server after a few calls), the write as one
    statement of data-modifying CTEs — per action a read, a write and the commit, where
    SQLAlchemy's per-execute CPU and one round trip per row would cost 3× more. SQLite has
    no data-modifying CTEs: it (and transition_many) writes row by row through SQLAlchemy.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return None
    return connection.connection.driver_connection


def _load(session: Session, case_id: int, driver: psycopg.Connection | None = None) -> Row:
    if driver is not None:
        context = driver.execute(_CONTEXT_SQL_PG, {"case_id": case_id}).fetchone()
        context = None if context is None else _ContextRow._make(context)
    else:
        context = session.connection().execute(_CONTEXT_BY_ID, {"case_id": case_id}).one_or_none()
    if context is None:
        raise NotFound("案件不存在")
    return context


def _plan(
    session: Session,
    context: Row,
    event: Event,
    actor: Actor,
    version: int,
    as_of: datetime,
    slip: SlipInput | None,
    comment: str | None,
    assignee_id: int | None,
    calendar: WorkingCalendar,
) -> _Plan:
    number = context.number
    if actor.role != Role.SYSTEM and not actor.in_scope(
        region_path=context.region_path, org_unit_id=context.org_unit_id
    ):
        raise OutOfScope(f"案件 {number} 不在您的管辖范围内")
    if version != context.version:
        raise StaleVersion(f"案件 {number} 已被他人办理（版本 {context.version}），请刷新后重试")
    state = State(context.state)
    step = LIFECYCLE.get((state, event))
    if step is None:
        raise InvalidState(f"案件 {number} 当前状态为“{state.label}”，不能执行“{event.label}”")
    if actor.role not in step.roles:
        if actor.role == Role.ADMIN:
            raise RoleNotAllowed("系统管理员不得办理案件（不得混岗）")
        allowed = "、".join(r.label for r in sorted(step.roles))
        raise RoleNotAllowed(f"“{event.label}”只能由{allowed}办理，您的角色是{actor.role.label}")
    _check_input(session, context, step, as_of, slip, comment, assignee_id)
    outcome = step.outcomes[_branch_key(step, context, slip)]
    due_on = _deadline(outcome.deadline, context, local_date(as_of), calendar)
    return _Plan(context=context, step=step, outcome=outcome, due_on=due_on)


def _check_input(
    session: Session,
    context: Row,
    step: Step,
    as_of: datetime,
    slip: SlipInput | None,
    comment: str | None,
    assignee_id: int | None,
) -> None:
    if step.slip is not None:
        if slip is None:
            raise InvalidInput.single("slip", "required", f"此操作须填写{step.slip.label}")
        if slip.kind != step.slip:
            raise InvalidInput.single("slip.kind", "wrong_kind", f"此操作须填写{step.slip.label}")
        slip.check(today=local_date(as_of))
    elif slip is not None:
        raise InvalidInput.single("slip", "not_expected", "此操作不需要处理单")
    if step.needs_comment and not (comment or "").strip():
        raise InvalidInput.single("comment", "required", "请填写原因或意见")
    if step.needs_assignee:
        _check_assignee(session, context, assignee_id)


def _check_assignee(session: Session, context: Row, assignee_id: int | None) -> None:
    if assignee_id is None:
        raise InvalidInput.single("assignee_id", "required", "请选择新的经办人")
    if assignee_id == context.assignee_id:
        raise InvalidInput.single("assignee_id", "unchanged", "新经办人与当前经办人相同")
    assignee = session.connection().execute(
        sa.select(User.role, User.org_unit_id, User.is_active).where(User.id == assignee_id)
    ).one_or_none()
    if (
        assignee is None
        or not assignee.is_active
        or assignee.role != Role.HANDLER
        or assignee.org_unit_id != context.org_unit_id
    ):
        raise InvalidInput.single(
            "assignee_id", "invalid_assignee", "新经办人须为本处室在岗的经办人"
        )


def _branch_key(step: Step, context: Row, slip: SlipInput | None) -> str:
    if step.branch == Branch.CONCLUSION:
        if slip.conclusion.value == "normal" and needs_normal_review(context.amount):
            return "normal_review"
        return slip.conclusion.value
    if step.branch == Branch.BELL_BECOMES:
        return context.bell_becomes or Level.YELLOW_LIGHT.value
    return ""


def _deadline(kind: Deadline, context: Row, today: date, calendar: WorkingCalendar) -> date | None:
    settings = get_settings()
    match kind:
        case Deadline.KEEP:
            return context.due_on
        case Deadline.CLEAR:
            return None
        case Deadline.DUTY:
            return calendar.next_working_day(context.duty_due_on)
        case Deadline.VERIFY:
            days = context.verify_days or settings.default_verify_days
        case Deadline.RECTIFY:
            days = context.rectify_days or settings.default_rectify_days
        case Deadline.REVIEW:
            days = context.review_days or settings.default_review_days
    return calendar.add_working_days(today, days)


def _update(
    session: Session, plan: _Plan, version: int, as_of: datetime, assignee_id: int | None
) -> int:
    """The guarded write; returns the case's new version or refuses a lost race."""
    context = plan.context
    values = _case_values(plan, as_of, assignee_id)
    columns = tuple(sorted(values))
    new_version = session.connection().execute(
        _update_statement(columns),
        {"w_id": context.id, "w_version": version, "w_state": context.state,
         **{f"v_{c}": values[c] for c in columns}},
    ).scalar_one_or_none()
    if new_version is None:
        raise StaleVersion(f"案件 {context.number} 已被他人办理，请刷新后重试")
    _expire_loaded(session, context.id)
    return new_version


def _case_values(plan: _Plan, as_of: datetime, assignee_id: int | None) -> dict:
    """What the guarded UPDATE sets, besides version + 1."""
    context, outcome = plan.context, plan.outcome
    values: dict = {"state": outcome.to, "due_on": plan.due_on, "updated_at": as_of}
    if outcome.to != context.state:
        values["entered_step_at"] = as_of
        # A step that keeps the deadline (e.g. starting verification) keeps its escalation:
        # the sweep must not escalate the same missed deadline a second time.
        if outcome.deadline != Deadline.KEEP:
            values["escalation_level"] = 0
    if outcome.resolution is not None:
        values.update(resolution=outcome.resolution, closed_at=as_of)
    if plan.step.needs_assignee:
        values["assignee_id"] = assignee_id
    return values


def _expire_loaded(session: Session, case_id: int) -> None:
    # The write bypasses the ORM for speed; a copy already loaded in this session must not
    # go on showing the old state.
    loaded = session.identity_map.get(identity_key(Case, case_id))
    if loaded is not None:
        session.expire(loaded)


def _decision(event: Event) -> SignoffDecision:
    """The supervisor's review event as the decision signed on the slip."""
    sending_back = event in (Event.REJECT_RECTIFICATION, Event.REJECT_NORMAL)
    return SignoffDecision.SENT_BACK if sending_back else SignoffDecision.APPROVED


def _record(
    session: Session,
    plan: _Plan,
    new_version: int,
    event: Event,
    actor: Actor,
    as_of: datetime,
    slip_id: int | None,
    comment: str | None,
    assignee_id: int | None,
) -> TransitionResult:
    """The event row: one per accepted event, numbered by the version it produced."""
    context = plan.context
    if plan.step.signs is not None:
        sign_latest_slip(
            session, case_id=context.id, kind=plan.step.signs, actor=actor,
            decision=_decision(event), comment=comment, as_of=as_of,
        )  # fmt: skip
    session.connection().execute(
        _INSERT_EVENT,
        {"case_id": context.id, "seq": new_version, "slip_id": slip_id,
         **_event_values(plan, event, actor, as_of, comment, assignee_id)},
    )
    return _result(plan, event, new_version, slip_id)


def _event_values(
    plan: _Plan, event: Event, actor: Actor, as_of: datetime, comment: str | None,
    assignee_id: int | None,
) -> dict:  # fmt: skip
    """The event row's columns but case_id, seq and slip_id."""
    data: dict = {}
    if plan.step.needs_assignee:
        data = {"from_assignee_id": plan.context.assignee_id, "to_assignee_id": assignee_id}
    return {
        "event": event,
        "from_state": plan.context.state,
        "to_state": plan.outcome.to,
        "actor_id": actor.user_id,
        "actor_role": actor.role,
        "at": as_of,
        "comment": (comment or "").strip() or None,
        "due_on": plan.due_on,
        "data": data,
    }


def _result(plan: _Plan, event: Event, new_version: int, slip_id: int | None) -> TransitionResult:
    context, outcome = plan.context, plan.outcome
    return TransitionResult(
        case_id=context.id,
        number=context.number,
        event=event,
        from_state=State(context.state),
        to_state=outcome.to,
        version=new_version,
        due_on=plan.due_on,
        slip_id=slip_id,
    )


_EVENT_COLUMNS = ("event", "from_state", "to_state", "actor_id", "actor_role", "at", "comment",
                  "due_on", "data")  # fmt: skip


@functools.cache
def _pg_write_sql(columns: tuple[str, ...], files_slip: bool, signs: bool) -> str:
    """transition()'s write on PostgreSQL, one statement: the guarded UPDATE, then — only for
    the row it returns, so a lost race writes nothing — the slip it files or signs and the
    event row, which returns (seq, slip_id)."""
    sets = ", ".join(f"{c} = %(v_{c})s::{pg_cast(CASES.c[c])}" for c in columns)
    state = pg_cast(CASES.c.state)
    parts = [
        f"""changed AS (
    UPDATE warning_case SET version = version + 1, {sets}
    WHERE id = %(w_id)s::INTEGER AND version = %(w_version)s::INTEGER AND state = %(w_state)s::{state}
    RETURNING id, version)"""
    ]
    sources, slip_id = "changed", "NULL::INTEGER"
    if signs:
        parts.append(pg_sign_latest_slip_cte("changed"))
    if files_slip:
        parts.append(pg_file_slip_ctes("changed"))
        sources, slip_id = "changed, new_slip", "new_slip.id"
    values = ", ".join(f"%(e_{c})s::{pg_cast(EVENTS.c[c])}" for c in _EVENT_COLUMNS)
    return f"""WITH {", ".join(parts)}
INSERT INTO case_event (case_id, seq, slip_id, {", ".join(_EVENT_COLUMNS)})
SELECT changed.id, changed.version, {slip_id}, {values} FROM {sources}
RETURNING seq, slip_id"""


def _write_pg(
    session: Session,
    driver: psycopg.Connection,
    plan: _Plan,
    version: int,
    event: Event,
    actor: Actor,
    as_of: datetime,
    slip: SlipInput | None,
    comment: str | None,
    assignee_id: int | None,
) -> TransitionResult:
    """What _update, file_slip/sign_latest_slip and _record write, in one statement."""
    context, step = plan.context, plan.step
    values = _case_values(plan, as_of, assignee_id)
    columns = tuple(sorted(values))
    # The values go to psycopg as they are (enums are StrEnums: psycopg sends their value);
    # only JSON needs wrapping.
    params = {"w_id": context.id, "w_version": version, "w_state": context.state}
    params.update({f"v_{c}": values[c] for c in columns})
    event_values = _event_values(plan, event, actor, as_of, comment, assignee_id)
    event_values["data"] = Json(event_values["data"])
    params.update({f"e_{c}": v for c, v in event_values.items()})
    if step.slip is not None:
        params.update(pg_file_slip_params(slip, actor, as_of))
    if step.signs is not None:
        params.update(pg_sign_latest_slip_params(step.signs, actor, _decision(event), comment, as_of))
    sql = _pg_write_sql(columns, step.slip is not None, step.signs is not None)
    row = driver.execute(sql, params).fetchone()
    if row is None:
        raise StaleVersion(f"案件 {context.number} 已被他人办理，请刷新后重试")
    _expire_loaded(session, context.id)
    return _result(plan, event, row[0], row[1])
