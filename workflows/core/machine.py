"""The state-machine core under every lifecycle (cases, the deadline ladder, the report chain,
oversight cases, late reports): a table of steps as data, the checks before a write (scope,
version, state, role), the guarded `UPDATE … WHERE id AND version AND state RETURNING`, the
event row numbered by the version it produced, and one timeline shape.

Each machine is a `Machine`: its table and where its rows and events live. The wording of
refusals is the machine's (`Wording`): users read "案件 YJ-… ", "月报" or "ZD-… "."""

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session

from models import User
from models.enums import Role, SlipKind
from workflows.core.actors import Actor
from workflows.core.errors import InvalidState, OutOfScope, RoleNotAllowed, StaleVersion


@dataclass(frozen=True)
class Outcome:
    to: str  # the machine's state enum
    deadline: str | None = None  # cases: which deadline the new step gets
    resolution: str | None = None  # cases: how a closing step resolves the case


@dataclass(frozen=True)
class Step:
    """One (state, event) of a table. Fields a machine does not use keep their defaults."""

    roles: frozenset[Role]
    outcomes: Mapping[str, Outcome]  # branch key ("" when one) → outcome
    label: str = ""  # the button, where the event's own label is not enough
    needs_comment: bool = False
    branch: str = ""  # what picks the outcome when there are several
    # A case's step: the slip it files, the slip it signs, a new assignee.
    slip: SlipKind | None = None
    signs: SlipKind | None = None
    needs_assignee: bool = False
    # A case's step that reports a bell's duty done: its event data carries done_at, on time.
    needs_done_at: bool = False
    # An oversight case's step: the record fields its form offers, those that must be filled
    # after it, and whether every commitment must be done.
    fields: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    all_done: bool = False
    # A report's step: effects before the guarded write (may refuse, may set columns) and
    # after it, in the same transaction (workflows/reporting/effects.py).
    prepare: tuple[Callable, ...] = ()
    after: tuple[Callable, ...] = ()

    @property
    def to(self) -> str:
        """The one outcome's state (steps without a branch)."""
        return self.outcomes[""].to

    @property
    def targets(self) -> set[str]:
        return {o.to for o in self.outcomes.values()}


def goes(to: str, deadline: str | None = None, resolution: str | None = None) -> dict[str, Outcome]:
    """The outcomes of a step that always leads to one state."""
    return {"": Outcome(to, deadline, resolution)}


@dataclass(frozen=True)
class Wording:
    """The refusals' words; `who` names the row ("案件 YJ-… ", "月报")."""

    out_of_scope: str = "{who}不在您的管辖范围内"
    stale: str = "{who}已被他人办理（版本 {version}），请刷新后重试"
    lost_race: str = "{who}已被他人办理，请刷新后重试"
    wrong_state: str = "{who}当前状态为“{state}”，不能执行“{event}”"
    wrong_role: str = "“{event}”只能由{roles}办理，您的角色是{role}"
    admin: str | None = None  # the administrator's refusal, when it has its own words


@dataclass(frozen=True, eq=False)
class Machine:
    table: Mapping[tuple[str, str], Step]
    rows: sa.Table
    events: sa.Table
    subject: str  # the events' column naming the row
    orm: type  # a loaded copy of a changed row is expired
    version: str = "version"
    state: str = "state"
    states: tuple[str, str] = ("from_state", "to_state")  # the events' columns
    wording: Wording = field(default_factory=Wording)


def check(
    machine: Machine, *, who: str, state: Any, event: str, event_label: str, actor: Actor,
    version: int, current: int, in_scope: bool = True, state_label: str = "",
) -> Step:  # fmt: skip
    """The step this actor may take now, or the refusal: scope, version, state, role."""
    words = machine.wording
    if not in_scope:
        raise OutOfScope(words.out_of_scope.format(who=who))
    if version != current:
        raise StaleVersion(words.stale.format(who=who, version=current))
    step = machine.table.get((state, event))
    if step is None:
        raise InvalidState(words.wrong_state.format(who=who, state=state_label, event=event_label))
    if actor.role not in step.roles:
        if actor.role == Role.ADMIN and words.admin:
            raise RoleNotAllowed(words.admin)
        roles = "、".join(r.label for r in sorted(step.roles))
        raise RoleNotAllowed(words.wrong_role.format(
            event=event_label, roles=roles, role=actor.role.label, step=step.label))  # fmt: skip
    return step


@functools.cache
def _guarded_update(machine: Machine, columns: tuple[str, ...]) -> sa.Update:
    """Built once per shape: building and caching a statement costs more than running it."""
    rows, version = machine.rows, machine.rows.c[machine.version]
    return (
        sa.update(rows)
        .where(rows.c.id == sa.bindparam("w_id"), version == sa.bindparam("w_version"),
               rows.c[machine.state] == sa.bindparam("w_state"))  # fmt: skip
        .values({machine.version: version + 1,
                 **{c: sa.bindparam(f"v_{c}", type_=rows.c[c].type) for c in columns}})  # fmt: skip
        .returning(version)
    )


def advance(
    session: Session, machine: Machine, *, row_id: int, version: int, state: Any, values: dict,
    who: str,
) -> int:  # fmt: skip
    """The guarded write (values include the new state); the new version, or a lost race."""
    columns = tuple(sorted(values))
    new_version = session.connection().execute(
        _guarded_update(machine, columns),
        {"w_id": row_id, "w_version": version, "w_state": state, **{f"v_{c}": values[c] for c in columns}},
    ).scalar_one_or_none()
    if new_version is None:
        raise StaleVersion(machine.wording.lost_race.format(who=who))
    forget(session, machine, row_id)
    return new_version


def advance_all(session: Session, machine: Machine, *, where, values: dict, returning: tuple = ()) -> list:
    """The set-based write of a job: every row matching `where` (which must exclude rows already
    moved, so a re-run changes nothing) gets version + 1 and the values. Returns each changed
    row's (id, version, state, *returning) for its event rows."""
    rows, version = machine.rows, machine.rows.c[machine.version]
    return session.connection().execute(
        sa.update(rows).where(where).values({machine.version: version + 1, **values})
        .returning(rows.c.id, version.label("version"), rows.c[machine.state].label("state"), *returning)
    ).all()  # fmt: skip


def forget(session: Session, machine: Machine, row_id: int) -> None:
    # The writes bypass the ORM; a copy loaded in this session must not show the old state.
    loaded = session.identity_map.get(identity_key(machine.orm, row_id))
    if loaded is not None:
        session.expire(loaded)


def event_row(
    machine: Machine, *, row_id: int, seq: int, event: str, from_state: Any, to_state: Any,
    actor: Actor | None, at: datetime, comment: str | None = None, data: dict | None = None,
    **extra: Any,
) -> dict:  # fmt: skip
    """One event row: the row's id, the version the event produced, who, when, why."""
    before, after = machine.states
    return {
        machine.subject: row_id, "seq": seq, "event": event, before: from_state, after: to_state,
        "actor_id": actor.user_id if actor else None,
        "actor_role": actor.role if actor else Role.SYSTEM, "at": at,
        "comment": (comment or "").strip() or None, "data": data or {}, **extra,
    }  # fmt: skip


def record(session: Session, machine: Machine, rows: list[dict]) -> None:
    """Insert event rows (event_row()'s), one statement."""
    if rows:
        session.connection().execute(_insert(machine), rows if len(rows) > 1 else rows[0])


@functools.cache
def _insert(machine: Machine) -> sa.Insert:
    return sa.insert(machine.events)


@dataclass(frozen=True)
class TimelineEntry:
    """One event as every timeline shows it (the case page, a report's chain, oversight)."""

    seq: int
    at: datetime
    event: str
    label: str
    from_state: Any
    to_state: Any
    to_state_label: str
    actor_name: str
    actor_role: Role
    comment: str | None
    data: dict
    due_on: date | None = None
    slip_id: int | None = None
    slip_number: str | None = None

    @property
    def event_label(self) -> str:
        return self.label

    @property
    def actor_role_label(self) -> str:
        return self.actor_role.label


def timeline(
    session: Session, machine: Machine, row_id: int, *, label: Callable[[Any], str],
    state_of: Callable[[Any], Any], event_of: Callable[[Any], Any] = str, extra: tuple = (),
    joins: tuple = (),
) -> list[TimelineEntry]:  # fmt: skip
    """A row's events in order; `label(row)` words each, `state_of` and `event_of` type the
    states and events; `extra` columns (and their outer `joins`) fill the entry's optional
    fields by name."""
    events = machine.events
    query = sa.select(events, User.full_name, *extra).outerjoin(User, User.id == events.c.actor_id)
    for target, on in joins:
        query = query.outerjoin(target, on)
    before, after = machine.states
    entries = []
    for r in session.connection().execute(query.where(events.c[machine.subject] == row_id).order_by(events.c.seq)):
        m = r._mapping
        role, to_state = Role(r.actor_role), state_of(m[after])
        entries.append(TimelineEntry(
            seq=r.seq, at=r.at, event=event_of(r.event), label=label(r),
            from_state=state_of(m[before]) if m[before] else None, to_state=to_state,
            to_state_label=to_state.label, actor_name=r.full_name or role.label,  # the system has no name
            actor_role=role, comment=r.comment, data=r.data or {},
            due_on=m.get("due_on"), slip_id=m.get("slip_id"), slip_number=m.get("slip_number"),
        ))  # fmt: skip
    return entries
