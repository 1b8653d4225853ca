"""Spot checks (抽查, Henan art. 13): the supervision bureau draws a random sample of rectified
major warnings (red lights closed as rectified) in its scope, checks each one and records the
result; a failed check sends the case back to rectification.

The draw is shown to be fair by what it keeps: the population (eligible case ids, ascending),
a random seed and the sample. `replay_draw()` draws again from the same population and seed
with the same procedure (random.Random(seed).sample) and must give the same cases.
"""

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from models import Case, CaseEvent, Region, Rule, User
from models.enums import Event, Level, Resolution, Role, State
from models.oversight import SpotCheck, SpotCheckDraw, SpotCheckResult
from models.settings import get_settings
from models.types import UTCDateTime
from workflows.core.actors import Actor
from workflows.core.calendar import LOCAL_TZ, load_calendar, local_date
from workflows.core.errors import InvalidInput, InvalidState, NotFound, RoleNotAllowed, StaleVersion
from workflows.core.numbering import allocate_numbers

CHECKERS = frozenset({Role.SUPERVISION})
MAX_SAMPLE = 200


@dataclass(frozen=True)
class CheckRow:
    id: int
    case_id: int
    number: str
    region_name: str
    result: SpotCheckResult
    result_label: str
    findings: str
    checked_by_name: str | None
    checked_at: datetime | None
    version: int


@dataclass(frozen=True)
class DrawRow:
    id: int
    number: str
    region_name: str
    closed_from: date
    closed_until: date
    seed: str
    population_size: int
    population: list[int]
    sample_size: int
    picked: list[int]
    drawn_by_name: str
    drawn_at: datetime
    # Drawing again with the kept seed gives the kept sample.
    replays: bool
    checks: list[CheckRow]


def _draw(population: list[int], seed: str, size: int) -> list[int]:
    return sorted(random.Random(seed).sample(sorted(population), min(size, len(population))))


def replay_draw(draw: SpotCheckDraw) -> list[int]:
    return _draw(list(draw.population), draw.seed, draw.sample_size)


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ)


def eligible_cases(session: Session, *, region_path: str, closed_from: date, closed_until: date) -> list[int]:
    """Rectified red lights of the region and below closed from `closed_from` to
    `closed_until` (local dates, both included), by id."""
    cases, regions = Case.__table__, Region.__table__
    rows = session.connection().execute(
        sa.select(cases.c.id)
        .join(regions, regions.c.id == cases.c.region_id)
        .where(regions.c.path.startswith(region_path, autoescape=True),
               cases.c.raised_level == Level.RED_LIGHT.value,
               cases.c.resolution == Resolution.RECTIFIED.value,
               cases.c.state == State.GREEN.value,
               cases.c.closed_at >= sa.bindparam("f", _instant(closed_from), type_=UTCDateTime()),
               cases.c.closed_at < sa.bindparam("u", _instant(closed_until + timedelta(days=1)),
                                                  type_=UTCDateTime()))
        .order_by(cases.c.id)
    )
    return [r[0] for r in rows]


def draw_sample(
    session: Session, *, actor: Actor, sample_size: int, closed_from: date, closed_until: date,
    as_of: datetime, seed: str | None = None,
) -> DrawRow:
    """Draw and record a sample; each drawn case gets a pending check. `seed` only for tests
    and for drawing in front of witnesses with a seed they chose; otherwise a random one."""
    if actor.role not in CHECKERS:
        raise RoleNotAllowed("只有监督检查局可以组织抽查")
    if not 1 <= sample_size <= MAX_SAMPLE:
        raise InvalidInput.single("sample_size", "out_of_range", f"抽查数量应在 1 到 {MAX_SAMPLE} 之间")
    if closed_until < closed_from:
        raise InvalidInput.single("closed_until", "before_start", "截止日期不能早于起始日期")
    if closed_until >= local_date(as_of):
        raise InvalidInput.single("closed_until", "not_over", "只能抽查截止到昨天已整改办结的预警")
    population = eligible_cases(session, region_path=actor.region_path, closed_from=closed_from,
                                closed_until=closed_until)
    if not population:
        raise InvalidInput.single("closed_from", "nothing_to_draw", "该期间没有已整改办结的红灯预警可供抽查")
    seed = (seed or secrets.token_hex(16)).strip()
    picked = _draw(population, seed, sample_size)
    region_id = session.exec(select(Region.id).where(Region.path == actor.region_path)).one()
    [number] = allocate_numbers(session, prefix="CC", at=as_of)
    draw = SpotCheckDraw(
        number=number, region_id=region_id, closed_from=closed_from, closed_until=closed_until,
        seed=seed, population=population, sample_size=sample_size, picked=picked,
        drawn_by_id=actor.user_id, drawn_at=as_of,
    )
    session.add(draw)
    session.flush()
    for case_id in picked:
        session.add(SpotCheck(draw_id=draw.id, case_id=case_id))
    session.flush()
    return get_draw(session, actor=actor, draw_id=draw.id)


def get_draw(session: Session, *, actor: Actor, draw_id: int) -> DrawRow:
    draw = session.get(SpotCheckDraw, draw_id)
    region = session.get(Region, draw.region_id) if draw else None
    if draw is None or not actor.sees_region(region.path):
        raise NotFound("抽查记录不存在")
    drawer = session.get(User, draw.drawn_by_id)
    checks = session.exec(
        select(SpotCheck, Case.number, Region.name)
        .join(Case, Case.id == SpotCheck.case_id).join(Region, Region.id == Case.region_id)
        .where(SpotCheck.draw_id == draw.id).order_by(SpotCheck.case_id)
    ).all()
    names = dict(session.exec(select(User.id, User.full_name).where(
        User.id.in_([c.checked_by_id for c, *_ in checks if c.checked_by_id]))).all()) if checks else {}
    return DrawRow(
        id=draw.id, number=draw.number, region_name=region.name, closed_from=draw.closed_from,
        closed_until=draw.closed_until, seed=draw.seed, population_size=len(draw.population),
        population=list(draw.population), sample_size=draw.sample_size, picked=list(draw.picked),
        drawn_by_name=drawer.full_name, drawn_at=draw.drawn_at,
        replays=replay_draw(draw) == list(draw.picked),
        checks=[CheckRow(c.id, c.case_id, number, rname, SpotCheckResult(c.result),
                         SpotCheckResult(c.result).label, c.findings, names.get(c.checked_by_id),
                         c.checked_at, c.version) for c, number, rname in checks],
    )


def record_check(
    session: Session, *, actor: Actor, check_id: int, version: int, passed: bool, findings: str,
    as_of: datetime,
) -> DrawRow:
    """Record one check's result. A failed check reopens its case: back to rectification
    (整改中) with a new rectification deadline, in the same transaction."""
    if actor.role not in CHECKERS:
        raise RoleNotAllowed("只有监督检查局可以登记抽查结果")
    check = session.get(SpotCheck, check_id)
    draw = session.get(SpotCheckDraw, check.draw_id) if check else None
    if check is None or not actor.sees_region(session.get(Region, draw.region_id).path):
        raise NotFound("抽查记录不存在")
    if check.result != SpotCheckResult.PENDING:
        raise InvalidState("该案件的抽查结果已登记")
    if check.version != version:
        raise StaleVersion("该抽查记录已被他人登记，请刷新后重试")
    findings = (findings or "").strip()
    if not findings:
        raise InvalidInput.single("findings", "required", "请填写抽查情况")
    if len(findings) > 8000:
        raise InvalidInput.single("findings", "too_long", "抽查情况不能超过 8000 字")
    check.result = SpotCheckResult.PASSED if passed else SpotCheckResult.FAILED
    check.findings, check.checked_by_id, check.checked_at = findings, actor.user_id, as_of
    check.version += 1
    session.add(check)
    if not passed:
        _reopen(session, actor=actor, case_id=check.case_id, check=check, draw=draw, as_of=as_of)
    session.flush()
    return get_draw(session, actor=actor, draw_id=draw.id)


def _reopen(session: Session, *, actor: Actor, case_id: int, check: SpotCheck, draw: SpotCheckDraw,
            as_of: datetime) -> None:
    case = session.get(Case, case_id)
    if case.state != State.GREEN:
        raise InvalidState(f"{case.number} 当前不是已办结状态，不能重新整改")
    calendar = load_calendar(session)
    days = session.get(Rule, case.rule_id).rectify_days or get_settings().default_rectify_days
    due = calendar.add_working_days(local_date(as_of), days)
    assignee = session.get(User, case.assignee_id) if case.assignee_id else None
    case.version += 1
    case.state, case.resolution, case.closed_at, case.due_on = State.RECTIFYING, None, None, due
    case.due_from, case.due_days = local_date(as_of), days
    case.entered_step_at = case.updated_at = as_of
    if assignee is None or not assignee.is_active:
        case.assignee_id = None  # the department's queue
    session.add(case)
    session.add(CaseEvent(
        case_id=case.id, seq=case.version, event=Event.REOPEN, from_state=State.GREEN,
        to_state=State.RECTIFYING, actor_id=actor.user_id, actor_role=actor.role, at=as_of,
        comment=f"抽查（{draw.number}）未通过：{check.findings}", due_on=due,
        data={"spot_check_id": check.id, "draw_id": draw.id},
    ))


def list_draws(session: Session, *, actor: Actor) -> list[SpotCheckDraw]:
    """The draws of the actor's region and below, newest first."""
    return list(session.exec(
        select(SpotCheckDraw).join(Region, Region.id == SpotCheckDraw.region_id)
        .where(Region.path.startswith(actor.region_path, autoescape=True))
        .order_by(SpotCheckDraw.id.desc())
    ).all())
