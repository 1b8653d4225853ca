"""PostgreSQL hands out ids before commit: a seal must not run past a writer still at work.

Li Na's login is being written (its transaction is open, its id taken) while Wang Fang's,
with a higher id, commits. The seal leaves audit_event for later instead of linking Wang
Fang's row past Li Na's; once Li Na's commits, the next seal links both and verify passes.
"""

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models import AuditCheck, AuditEvent, AuditLink
from tests.factories import NOW
from workflows.audit.seal import seal
from workflows.audit.verify import verify

INSERT = sa.text("INSERT INTO audit_event (at, kind, username, client, data)"
                 " VALUES (:at, 'login', :name, '', '{}') RETURNING id")


@pytest.fixture
def committing_engine(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    yield engine
    with engine.begin() as connection:
        for table in (AuditCheck, AuditLink, AuditEvent):
            connection.execute(sa.delete(table.__table__))


def test_a_seal_waits_for_a_writer_that_took_a_lower_id(committing_engine, tmp_path):
    head_file = tmp_path / "head.json"
    with committing_engine.connect() as li_na:
        writing = li_na.begin()
        lower = li_na.execute(INSERT, {"at": NOW, "name": "li_na"}).scalar()
        with committing_engine.begin() as wang_fang:
            higher = wang_fang.execute(INSERT, {"at": NOW, "name": "wang_fang"}).scalar()
        assert higher > lower
        with Session(committing_engine) as session:
            first = seal(session, as_of=NOW, head_file=head_file)
        assert first.busy == ("audit_event",) and first.linked == 0
        assert "audit_event 正在写入，下次封存" in first.summary
        writing.commit()
    with Session(committing_engine) as session:
        assert seal(session, as_of=NOW, head_file=head_file).linked == 2
        result = verify(session, head_file=head_file)
    assert result.passed, result.summary
