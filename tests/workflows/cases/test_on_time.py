"""One "on time" (workflows/cases/on_time.py): the monthly figures' 按期办结率 and the list of
slow regions count the same of Li Na's November cases in 安县 as closed by their deadline,
and both agree with a count written by hand.

    A  due 11-10, closed 11-09 10:00          on time
    B  due 11-10, closed 11-10 23:30 (local)  on time: the same Shanghai day
    C  due 11-10, closed 11-11 00:30 (local)  late by half an hour, the next day
    D  a step without a deadline, closed 11-12  on time
    E  first step due 11-05 finished 11-08 (late), next due 11-20, closed 11-15: on time,
       closed by the deadline in force (the old slow-regions rule called it late)
    F  due 11-10, closed 11-25                late
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from models import Case, CaseEvent
from models.enums import Event, Resolution, State
from tests.factories import new_case
from workflows.oversight.slow_regions import region_rates
from workflows.reporting.figures import compute_figures

NOVEMBER = date(2026, 11, 1)
SHANGHAI = timedelta(hours=8)


def local(month, day, hour, minute=0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - SHANGHAI


def case_closed(session, world, *, steps: list[tuple[date | None, datetime]], done: datetime) -> int:
    """A case whose events set these (deadline, at) steps, then closed at `done`."""
    case_id = new_case(session, world, at=steps[0][1])
    session.execute(sa.update(CaseEvent).where(CaseEvent.case_id == case_id).values(due_on=steps[0][0]))
    seq = 1
    for due, at in steps[1:]:
        seq += 1
        session.add(CaseEvent(case_id=case_id, seq=seq, event=Event.ESCALATE, from_state=State.YELLOW_LIGHT,
                              to_state=State.YELLOW_LIGHT, actor_id=None, actor_role="system", at=at, due_on=due))
    session.add(CaseEvent(case_id=case_id, seq=seq + 1, event=Event.COMPLETE_DUTY, from_state=State.YELLOW_LIGHT,
                          to_state=State.GREEN, actor_id=world.users["li_na"], actor_role="handler", at=done))
    session.execute(sa.update(Case).where(Case.id == case_id).values(
        state=State.GREEN, resolution=Resolution.NORMAL, closed_at=done, updated_at=done, version=seq + 1,
        due_on=None))
    return case_id


@pytest.fixture
def november(session, world):
    raised = local(11, 2, 9)
    due = date(2026, 11, 10)
    cases = {
        "A": case_closed(session, world, steps=[(due, raised)], done=local(11, 9, 10)),
        "B": case_closed(session, world, steps=[(due, raised)], done=local(11, 10, 23, 30)),
        "C": case_closed(session, world, steps=[(due, raised)], done=local(11, 11, 0, 30)),
        "D": case_closed(session, world, steps=[(None, raised)], done=local(11, 12, 9)),
        "E": case_closed(session, world, steps=[(date(2026, 11, 5), raised), (date(2026, 11, 20), local(11, 8, 9))],
                         done=local(11, 15, 9)),
        "F": case_closed(session, world, steps=[(due, raised)], done=local(11, 25, 9)),
    }
    session.flush()
    return cases


def by_hand(session, case_ids) -> set[int]:
    """Closed by its deadline, counted without the shared expression: the last event before
    closing, its due date against the closing moment's Shanghai date, in Python."""
    on_time = set()
    for case_id, closed_at in session.execute(sa.select(Case.id, Case.closed_at).where(Case.id.in_(case_ids))):
        closed_at = closed_at if closed_at.tzinfo else closed_at.replace(tzinfo=UTC)
        due = session.execute(
            sa.select(CaseEvent.due_on).where(CaseEvent.case_id == case_id, CaseEvent.at < closed_at)
            .order_by(CaseEvent.seq.desc()).limit(1)).scalar_one()
        if due is None or (closed_at + SHANGHAI).date() <= due:
            on_time.add(case_id)
    return on_time


def test_the_figures_and_the_slow_regions_count_the_same_cases_on_time(session, world, november):
    expected = by_hand(session, november.values())
    assert expected == {november[k] for k in "ABDE"}
    figures = compute_figures(session, region_id=world.regions["anxian"].id, month=NOVEMBER,
                              as_of=datetime(2026, 12, 1, 1, tzinfo=UTC))
    rate = figures["headline"]["on_time_rate"]
    assert (rate["numerator"], rate["denominator"]) == (len(expected), len(november))
    [anxian] = [r for r in region_rates(session, actor=world.actors["gao_jun"], month=NOVEMBER)
                if r.region_code == "410121"]
    assert (anxian.on_time, anxian.closed) == (len(expected), len(november))
