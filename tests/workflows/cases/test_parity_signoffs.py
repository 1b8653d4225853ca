"""Sign-offs, amendments and re-verification in parity (test_parity.py tells the main story): the PostgreSQL fast path (workflows/cases/transition_pg.py) writes the same rows as the
portable path (workflows/cases/transition.py): one story of events, told on a fresh SQLite
database and a fresh PostgreSQL one, leaves identical cases, events, slips, sign-offs and
slip versions behind.

The story: Li Na rectifies an Anxian red light, Zhang Wei sends it back, she rectifies again
and he approves; she amends the approved slip (the sign-off is voided, the case goes back to
review) and he approves the new version. A second red light was found wrongly: she asks to
verify it again (重新核实), he agrees, and her new verification finds it normal on a payment
large enough to need his signature (认定正常待审核), which he gives. A yellow light is
transferred by the supervisor after verification finds a violation."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models import Case, CaseEvent, CaseSlip, Slip, SlipSignoff, SlipVersion
from models.db import make_engine
from models.enums import Conclusion, Event
from models.migrate import upgrade
from tests.conftest import BACKENDS, create_pg_database, drop_pg_database, require_postgres
from tests.factories import NOW, build_world, new_case, rectification_slip, verification_slip
from workflows.cases.amend import amend_slip
from workflows.cases.transition import transition

# Columns that differ between two runs for reasons other than the write under test: the
# factories' own counters and clocks.
IGNORED = {"external_id", "created_at", "imported_at"}
TABLES = (Case.__table__, CaseEvent.__table__, Slip.__table__, CaseSlip.__table__,
          SlipSignoff.__table__, SlipVersion.__table__)  # fmt: skip


def _story(session: Session) -> None:
    world = build_world(session)
    clock = iter(NOW + timedelta(minutes=m) for m in range(1000))

    def act(case_id, event, who, **kw):
        return transition(
            session, case_id=case_id, event=event, actor=world.actors[who],
            version=session.get(Case, case_id).version, as_of=next(clock), **kw,
        )  # fmt: skip

    red = new_case(session, world, "red")
    slip_id = act(red, Event.SUBMIT_RECTIFICATION, "li_na", slip=rectification_slip()).slip_id
    act(red, Event.REJECT_RECTIFICATION, "zhang_wei", comment="收回凭证不全")
    slip_id = act(red, Event.SUBMIT_RECTIFICATION, "li_na", slip=rectification_slip()).slip_id
    act(red, Event.APPROVE_RECTIFICATION, "zhang_wei", comment="整改到位")
    changes = rectification_slip().model_copy(update={"amount_recovered": Decimal("12000.00")})
    amend_slip(session, slip_id=slip_id, version=1, changes=changes, reason="收回金额录入有误",
               actor=world.actors["li_na"], as_of=next(clock))  # fmt: skip
    act(red, Event.APPROVE_RECTIFICATION, "zhang_wei")

    wrong = new_case(session, world, "red", amount="250000.00")
    act(wrong, Event.REQUEST_REVERIFY, "li_na", comment="支付凭证补齐后用途与批复一致")
    act(wrong, Event.APPROVE_REVERIFY, "zhang_wei")
    act(wrong, Event.SUBMIT_VERIFICATION, "li_na", slip=verification_slip(Conclusion.NORMAL))
    act(wrong, Event.APPROVE_NORMAL, "zhang_wei", comment="同意认定正常")

    light = new_case(session, world, "yellow")
    act(light, Event.START_VERIFY, "li_na")
    act(light, Event.SUBMIT_VERIFICATION, "li_na", slip=verification_slip())
    act(light, Event.TRANSFER, "zhang_wei", comment="涉嫌违纪，移交纪检监察")
    session.flush()


def _normal(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def _rows(session: Session) -> dict[str, list[dict]]:
    dump = {}
    for table in TABLES:
        columns = [c for c in table.columns if c.name not in IGNORED]
        order = list(table.primary_key.columns) or columns
        rows = session.connection().execute(sa.select(*columns).order_by(*order)).all()
        dump[table.name] = [{c.name: _normal(v) for c, v in zip(columns, row, strict=True)} for row in rows]
    return dump


def _told_on(url: str) -> dict[str, list[dict]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection, Session(bind=connection) as session:
            _story(session)
            return _rows(session)
    finally:
        engine.dispose()


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="compares SQLite with PostgreSQL")
def test_the_postgresql_fast_path_writes_the_same_rows_as_the_portable_one(tmp_path):
    require_postgres()
    sqlite_url = f"sqlite:///{tmp_path / 'parity.sqlite3'}"
    upgrade(sqlite_url)
    pg_url = create_pg_database("warnflow_parity")
    try:
        upgrade(pg_url)
        portable, fast = _told_on(sqlite_url), _told_on(pg_url)
    finally:
        drop_pg_database(pg_url)
    signoffs = portable["slip_signoff"]
    assert len(signoffs) == 4 and sum(g["voided_at"] is not None for g in signoffs) == 1
    for table in portable:
        assert fast[table] == portable[table], table
