"""Special inspections (专项督查) and interviews (约谈) as cases of the same engine as warnings:
a lifecycle table per kind (state, event) → Step, and one function, `transition_oversight()`,
that applies it — role and scope check, version check, record validation, event row, version
bump — and nothing else writes an oversight case's state. (They are opened by the monthly
streak job: workflows/oversight/opening.py.)

inspection: open → inspecting → reported → closed   (the provincial supervision bureau)
interview:  scheduled → held → following_up → closed (the department's leadership)
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import OrgUnit, Region, User
from models.enums import Role
from models.oversight import OversightCase, OversightEvent, OversightKind, OversightState
from workflows.core.actors import Actor
from workflows.core.errors import (
    InvalidInput,
    InvalidState,
    NotFound,
    OutOfScope,
    RoleNotAllowed,
    StaleVersion,
)
from workflows.oversight.forms import check_record, clean_record

OVERSIGHT = OversightCase.__table__
EVENTS = OversightEvent.__table__
REGIONS = Region.__table__
UNITS = OrgUnit.__table__

S = OversightState
K = OversightKind


@dataclass(frozen=True)
class OversightStep:
    label: str  # the button
    roles: frozenset[Role]
    to: OversightState
    # Record fields that must be filled once this step's input is merged in.
    requires: tuple[str, ...] = ()
    # Record fields the step's form offers (what it may change).
    fields: tuple[str, ...] = ()
    needs_comment: bool = False
    # Closing an interview: every commitment must be done.
    all_done: bool = False


SUPERVISION = frozenset({Role.SUPERVISION})
LEADERS = frozenset({Role.LEADER})
REPORT = ("scope", "findings", "problems", "rectifications", "conclusion")
ARRANGE = ("interview_date", "place", "interviewee")
HOLD = (*ARRANGE, "attendees", "minutes")

LIFECYCLES: dict[OversightKind, Mapping[tuple[OversightState, str], OversightStep]] = {
    K.INSPECTION: {
        (S.OPEN, "start"): OversightStep("开始督查", SUPERVISION, S.INSPECTING),
        (S.INSPECTING, "submit_report"): OversightStep(
            "提交督查报告", SUPERVISION, S.REPORTED, requires=REPORT, fields=REPORT
        ),
        (S.REPORTED, "reopen"): OversightStep(
            "退回补充督查", SUPERVISION, S.INSPECTING, needs_comment=True
        ),
        (S.REPORTED, "close"): OversightStep("督查办结", SUPERVISION, S.CLOSED),
    },
    K.INTERVIEW: {
        (S.SCHEDULED, "arrange"): OversightStep(
            "安排约谈", LEADERS, S.SCHEDULED, requires=ARRANGE, fields=ARRANGE
        ),
        (S.SCHEDULED, "hold"): OversightStep("记录约谈", LEADERS, S.HELD, requires=HOLD, fields=HOLD),
        (S.HELD, "record_commitments"): OversightStep(
            "登记整改承诺", LEADERS, S.FOLLOWING_UP, requires=("commitments",), fields=("commitments",)
        ),
        (S.FOLLOWING_UP, "follow_up"): OversightStep(
            "更新跟踪情况", LEADERS | SUPERVISION, S.FOLLOWING_UP, requires=("follow_up",),
            fields=("commitments", "follow_up"),
        ),
        (S.FOLLOWING_UP, "close"): OversightStep(
            "约谈办结", LEADERS, S.CLOSED, requires=("commitments", "follow_up"),
            fields=("commitments", "follow_up"), all_done=True,
        ),
    },
}  # fmt: skip

EVENT_LABELS = {
    "open": "立案",
    **{e: step.label for table in LIFECYCLES.values() for (_, e), step in table.items()},
}


def events_allowed(kind: OversightKind, state: OversightState, role: Role) -> list[str]:
    """The events this role may fire on an oversight case of this kind in this state."""
    return [e for (s, e), step in LIFECYCLES[K(kind)].items() if s == state and role in step.roles]


@dataclass(frozen=True)
class OversightResult:
    oversight_id: int
    number: str
    event: str
    from_state: OversightState
    to_state: OversightState
    version: int


_CONTEXT = (
    sa.select(OVERSIGHT, REGIONS.c.path.label("region_path"), REGIONS.c.name.label("region_name"),
              UNITS.c.region_id.label("owner_region_id"))
    .join(REGIONS, REGIONS.c.id == OVERSIGHT.c.region_id)
    .join(UNITS, UNITS.c.id == OVERSIGHT.c.owner_org_unit_id)
)  # fmt: skip


def _load(session: Session, oversight_id: int):
    return (
        session.connection().execute(_CONTEXT.where(OVERSIGHT.c.id == oversight_id)).one_or_none()
    )


def find_oversight(session: Session, *, actor: Actor, oversight_id: int):
    """The case with its region, if the actor may see it (404 otherwise: no existence leak)."""
    row = _load(session, oversight_id)
    if row is None or not actor.sees_region(row.region_path):
        raise NotFound("督查约谈事项不存在或无权查看")
    return row


def _acts_for_owner(session: Session, actor: Actor, row) -> bool:
    """Acting is for the province that owns the case: the actor works at the owner's region."""
    if actor.org_unit_id == row.owner_org_unit_id:
        return True
    owner_path = (
        session.connection()
        .execute(sa.select(REGIONS.c.path).where(REGIONS.c.id == row.owner_region_id))
        .scalar_one()
    )
    return actor.region_path == owner_path


def actions_for(session: Session, *, actor: Actor, row) -> list[str]:
    """The events this actor may fire on this (loaded) case now: its role's steps, if it
    acts for the owning province."""
    allowed = events_allowed(row.kind, row.state, actor.role)
    if not allowed or not _acts_for_owner(session, actor, row):
        return []
    return allowed


def transition_oversight(
    session: Session,
    *,
    oversight_id: int,
    event: str,
    actor: Actor,
    expected_version: int,
    as_of: datetime,
    record: dict | None = None,
    comment: str | None = None,
) -> OversightResult:
    """Apply one event to one oversight case, or raise a DomainError having written nothing."""
    row = find_oversight(session, actor=actor, oversight_id=oversight_id)
    table = LIFECYCLES[K(row.kind)]
    if event not in {e for _, e in table}:
        raise InvalidInput.single("event", "unknown_event", f"未知的操作：{event}")
    if not _acts_for_owner(session, actor, row):
        raise OutOfScope(
            f"{row.number} 由省级{'监督检查局' if row.kind == K.INSPECTION else '局领导'}办理，您无权操作"
        )
    if row.version != expected_version:
        raise StaleVersion(f"{row.number} 已被他人办理，请刷新后重试")
    step = table.get((S(row.state), event))
    if step is None:
        raise InvalidState(f"{row.number} 当前为“{S(row.state).label}”，不能{EVENT_LABELS[event]}")
    if actor.role not in step.roles:
        raise RoleNotAllowed(f"{actor.role.label}不能{step.label}")
    given = clean_record(record)
    refused = sorted(set(given) - set(step.fields))
    if refused:
        raise InvalidInput.single(
            f"record.{refused[0]}", "not_editable", f"“{step.label}”时不能修改该项"
        )
    comment = (comment or "").strip() or None
    if step.needs_comment and not comment:
        raise InvalidInput.single("comment", "required", "请填写意见")
    merged = {**(row.record or {}), **given}
    check_record(merged, step.requires, all_done=step.all_done)
    values: dict = {
        "state": step.to,
        "record": merged,
        "updated_at": as_of,
        "version": OVERSIGHT.c.version + 1,
    }
    if step.to == S.CLOSED:
        values.update(closed_at=as_of, due_on=None)
    new_version = session.connection().execute(
        sa.update(OVERSIGHT)
        .where(OVERSIGHT.c.id == oversight_id, OVERSIGHT.c.version == expected_version,
               OVERSIGHT.c.state == row.state)
        .values(**values)
        .returning(OVERSIGHT.c.version)
    ).scalar_one_or_none()  # fmt: skip
    if new_version is None:
        raise StaleVersion(f"{row.number} 已被他人办理，请刷新后重试")
    session.connection().execute(
        sa.insert(EVENTS).values(
            oversight_id=oversight_id, seq=new_version, event=event, from_state=row.state,
            to_state=step.to, actor_id=actor.user_id, actor_role=actor.role, at=as_of,
            comment=comment, data={"record": given} if given else {},
        )
    )  # fmt: skip
    loaded = session.identity_map.get((OversightCase, (oversight_id,), None))
    if loaded is not None:
        session.expire(loaded)
    return OversightResult(oversight_id, row.number, event, S(row.state), step.to, new_version)


# -- reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OversightRow:
    id: int
    number: str
    kind: OversightKind
    state: OversightState
    region_name: str
    region_code: str
    owner_name: str
    streak_start: date
    streak_end: date
    due_on: date | None
    opened_at: datetime
    closed_at: datetime | None
    version: int


def list_oversight(
    session: Session, *, actor: Actor, kind: OversightKind | None = None, open_only: bool = False
) -> list[OversightRow]:
    """The oversight cases the actor may see (a region's own, or all of the province), newest first."""
    query = (
        sa.select(
            OVERSIGHT.c.id,
            OVERSIGHT.c.number,
            OVERSIGHT.c.kind,
            OVERSIGHT.c.state,
            REGIONS.c.name,
            REGIONS.c.code,
            UNITS.c.name,
            OVERSIGHT.c.streak_start,
            OVERSIGHT.c.streak_end,
            OVERSIGHT.c.due_on,
            OVERSIGHT.c.opened_at,
            OVERSIGHT.c.closed_at,
            OVERSIGHT.c.version,
        )  # fmt: skip
        .join(REGIONS, REGIONS.c.id == OVERSIGHT.c.region_id)
        .join(UNITS, UNITS.c.id == OVERSIGHT.c.owner_org_unit_id)
        .where(REGIONS.c.path.like(f"{actor.region_path}%"))
        .order_by(OVERSIGHT.c.opened_at.desc(), OVERSIGHT.c.id.desc())
    )
    if kind is not None:
        query = query.where(OVERSIGHT.c.kind == kind)
    if open_only:
        query = query.where(OVERSIGHT.c.state != S.CLOSED)
    return [
        OversightRow(r[0], r[1], K(r[2]), S(r[3]), *r[4:])
        for r in session.connection().execute(query)
    ]


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    event: str
    label: str
    from_state: OversightState | None
    to_state: OversightState
    actor_name: str
    actor_role: Role
    at: datetime
    comment: str | None
    data: dict


def timeline(session: Session, *, oversight_id: int) -> list[TimelineEntry]:
    rows = session.connection().execute(
        sa.select(EVENTS, User.full_name)
        .outerjoin(User, User.id == EVENTS.c.actor_id)
        .where(EVENTS.c.oversight_id == oversight_id)
        .order_by(EVENTS.c.seq)
    )
    return [
        TimelineEntry(
            r.seq, r.event, EVENT_LABELS.get(r.event, r.event),
            S(r.from_state) if r.from_state else None, S(r.to_state),
            r.full_name or "系统", Role(r.actor_role), r.at, r.comment, r.data or {},
        )
        for r in rows
    ]  # fmt: skip


def oversight_counts(
    session: Session, *, region_ids: list[int], start: datetime, end: datetime
) -> dict[str, int]:
    """Inspections and interviews of these regions opened and closed in [start, end)."""

    def count(kind: OversightKind, column) -> sa.ColumnElement[int]:
        hit = sa.and_(OVERSIGHT.c.kind == kind, column >= start, column < end)
        return sa.func.coalesce(sa.func.sum(sa.case((hit, 1), else_=0)), 0)

    counts = {
        "inspections_opened": count(K.INSPECTION, OVERSIGHT.c.opened_at),
        "inspections_closed": count(K.INSPECTION, OVERSIGHT.c.closed_at),
        "interviews_opened": count(K.INTERVIEW, OVERSIGHT.c.opened_at),
        "interviews_closed": count(K.INTERVIEW, OVERSIGHT.c.closed_at),
    }
    if not region_ids:
        return dict.fromkeys(counts, 0)
    row = (
        session.connection()
        .execute(
            sa.select(*(c.label(k) for k, c in counts.items())).where(
                OVERSIGHT.c.region_id.in_(region_ids)
            )
        )
        .one()
    )
    return {k: int(row._mapping[k]) for k in counts}
