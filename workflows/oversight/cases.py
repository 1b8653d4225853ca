"""Special inspections (专项督查) and interviews (约谈) as cases of the same engine as warnings:
a lifecycle table per kind (state, event) → Step, and one function, `transition_oversight()`,
that applies it through the state-machine core (workflows/core/machine.py) — role and scope
check, version check, record validation, event row, version bump — and nothing else writes
an oversight case's state. (They are opened by the monthly
streak job: workflows/oversight/opening.py.)

inspection: open → inspecting → reported → closed   (the provincial supervision bureau)
interview:  scheduled → held → following_up → closed (the department's leadership)
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import OrgUnit, Region
from models.enums import Role
from models.oversight import OversightCase, OversightEvent, OversightKind, OversightState
from workflows.core import machine
from workflows.core.actors import Actor
from workflows.core.errors import InvalidInput, NotFound, OutOfScope
from workflows.core.machine import Machine, Step, TimelineEntry, Wording, goes
from workflows.oversight.forms import check_record, clean_record

OVERSIGHT = OversightCase.__table__
EVENTS = OversightEvent.__table__
REGIONS = Region.__table__
UNITS = OrgUnit.__table__

S = OversightState
K = OversightKind


def _step(label: str, roles: frozenset[Role], to: OversightState, **more) -> Step:
    return Step(roles=roles, outcomes=goes(to), label=label, **more)


SUPERVISION = frozenset({Role.SUPERVISION})
LEADERS = frozenset({Role.LEADER})
REPORT = ("scope", "findings", "problems", "rectifications", "conclusion")
ARRANGE = ("interview_date", "place", "interviewee")
HOLD = (*ARRANGE, "attendees", "minutes")

# requires: record fields that must be filled once the step's input is merged in; fields: what
# its form offers (may change); all_done: closing an interview needs every commitment done.
LIFECYCLES: dict[OversightKind, Mapping[tuple[OversightState, str], Step]] = {
    K.INSPECTION: {
        (S.OPEN, "start"): _step("开始督查", SUPERVISION, S.INSPECTING),
        (S.INSPECTING, "submit_report"): _step(
            "提交督查报告", SUPERVISION, S.REPORTED, requires=REPORT, fields=REPORT
        ),
        (S.REPORTED, "reopen"): _step(
            "退回补充督查", SUPERVISION, S.INSPECTING, needs_comment=True
        ),
        (S.REPORTED, "close"): _step("督查办结", SUPERVISION, S.CLOSED),
    },
    K.INTERVIEW: {
        (S.SCHEDULED, "arrange"): _step(
            "安排约谈", LEADERS, S.SCHEDULED, requires=ARRANGE, fields=ARRANGE
        ),
        (S.SCHEDULED, "hold"): _step("记录约谈", LEADERS, S.HELD, requires=HOLD, fields=HOLD),
        (S.HELD, "record_commitments"): _step(
            "登记整改承诺", LEADERS, S.FOLLOWING_UP, requires=("commitments",), fields=("commitments",)
        ),
        (S.FOLLOWING_UP, "follow_up"): _step(
            "更新跟踪情况", LEADERS | SUPERVISION, S.FOLLOWING_UP, requires=("follow_up",),
            fields=("commitments", "follow_up"),
        ),
        (S.FOLLOWING_UP, "close"): _step(
            "约谈办结", LEADERS, S.CLOSED, requires=("commitments", "follow_up"),
            fields=("commitments", "follow_up"), all_done=True,
        ),
    },
}  # fmt: skip

# Per kind: both lifecycles have a "close" (督查办结 / 约谈办结), so one flat table would word
# an inspection's closing as an interview's.
EVENT_LABELS_BY_KIND: dict[OversightKind, dict[str, str]] = {
    kind: {"open": "立案", **{e: step.label for (_, e), step in table.items()}}
    for kind, table in LIFECYCLES.items()
}


def event_label(kind: OversightKind | str, event: str) -> str:
    return EVENT_LABELS_BY_KIND[K(kind)].get(event, event)


# One machine per kind over the same rows; refusals name the case by its number.
MACHINES = {
    kind: Machine(
        table, OVERSIGHT, EVENTS, subject="oversight_id", orm=OversightCase,
        wording=Wording(stale="{who}已被他人办理，请刷新后重试", wrong_state="{who}当前为“{state}”，不能{event}",
                        wrong_role="{role}不能{step}"),
    )  # fmt: skip
    for kind, table in LIFECYCLES.items()
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
    state = S(row.state)
    oversight = MACHINES[K(row.kind)]
    step = machine.check(
        oversight, who=f"{row.number} ", state=state, event=event, event_label=event_label(row.kind, event),
        state_label=state.label, actor=actor, version=expected_version, current=row.version,
    )  # fmt: skip
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
    data: dict = {"record": given} if given else {}
    if row.kind == K.INSPECTION and event == "close":
        # 督查办结 approves the report (Henan art. 17): never by the one who wrote it.
        author = report_author(session, oversight_id=oversight_id)
        if author is not None and author == actor.user_id:
            raise InvalidInput.single(
                "event", "own_report", "督查报告须由撰写人以外的人员审定后办结，您是该报告的撰写人"
            )
        merged["report_approved_by_id"] = actor.user_id
        data["report_author_id"], data["report_approved_by_id"] = author, actor.user_id
    values: dict = {"state": step.to, "record": merged, "updated_at": as_of}
    if step.to == S.CLOSED:
        values.update(closed_at=as_of, due_on=None)
    new_version = machine.advance(
        session, oversight, row_id=oversight_id, version=expected_version, state=row.state,
        values=values, who=f"{row.number} ",
    )  # fmt: skip
    machine.record(session, oversight, [machine.event_row(
        oversight, row_id=oversight_id, seq=new_version, event=event, from_state=row.state,
        to_state=step.to, actor=actor, at=as_of, comment=comment, data=data,
    )])  # fmt: skip
    return OversightResult(oversight_id, row.number, event, state, step.to, new_version)


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


def report_author(session: Session, *, oversight_id: int) -> int | None:
    """Who submitted the inspection's latest report (the one a closing approves)."""
    return session.connection().execute(
        sa.select(EVENTS.c.actor_id)
        .where(EVENTS.c.oversight_id == oversight_id, EVENTS.c.event == "submit_report")
        .order_by(EVENTS.c.seq.desc()).limit(1)
    ).scalar()


def timeline(session: Session, *, oversight_id: int) -> list[TimelineEntry]:
    # Labels are per kind (an inspection's close reads 督查办结); the rows and events are shared.
    kind = session.connection().execute(
        sa.select(OVERSIGHT.c.kind).where(OVERSIGHT.c.id == oversight_id)).scalar_one()
    return machine.timeline(
        session, MACHINES[K(kind)], oversight_id, label=lambda r: event_label(kind, r.event), state_of=S,
    )  # fmt: skip


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
