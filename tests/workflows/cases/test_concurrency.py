"""Two people act on one case at the same moment, on PostgreSQL: exactly one wins."""

import threading

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models import Case, CaseEvent
from models.db import make_engine
from models.enums import Event, State
from models.migrate import upgrade
from tests.factories import NOW, build_world, new_case, verification_slip
from workflows.cases.transition import transition
from workflows.core.errors import StaleVersion


@pytest.fixture
def committed_world(pg_database):
    """This test needs two real connections, so its data is committed in its own database."""
    upgrade(pg_database)
    engine = make_engine(pg_database, pool_size=4)
    with Session(engine, expire_on_commit=False) as session:
        world = build_world(session)
        case_id = new_case(session, world, "yellow")
        session.commit()
    yield engine, world, case_id
    engine.dispose()


def test_two_handlers_submit_at_once_and_exactly_one_wins(committed_world):
    engine, world, case_id = committed_world
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def act(who: str, event: Event, **kw) -> None:
        with Session(engine) as session:
            session.connection().execute(sa.text("SELECT 1"))
            barrier.wait()
            try:
                result = transition(
                    session, case_id=case_id, event=event, actor=world.actors[who],
                    version=1, as_of=NOW, **kw,
                )
                session.commit()
                outcomes[who] = result.to_state
            except StaleVersion as error:
                session.rollback()
                outcomes[who] = error

    threads = [
        threading.Thread(target=act, args=("li_na", Event.SUBMIT_VERIFICATION), kwargs={"slip": verification_slip()}),
        threading.Thread(target=act, args=("wang_fang", Event.START_VERIFY)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    winners = [who for who, o in outcomes.items() if isinstance(o, State)]
    losers = [who for who, o in outcomes.items() if isinstance(o, StaleVersion)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    with Session(engine) as session:
        case = session.get(Case, case_id)
        events = session.connection().execute(
            sa.select(CaseEvent.seq, CaseEvent.actor_id).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
        ).all()
    assert case.version == 2
    assert [e.seq for e in events] == [1, 2]
    assert events[1].actor_id == world.users[winners[0]]
