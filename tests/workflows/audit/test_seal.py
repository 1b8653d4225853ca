"""The sealer links every audited row once, in id order, and writes the chain head beside.

Sun Hao (administrator) resets Li Na's password and Anxian gets two warnings; the seal links
the audit rows and the case events; a second seal links only what came after.
"""

import json
from datetime import timedelta

import sqlalchemy as sa

from models import AuditEvent, AuditLink, CaseEvent
from models.audit import AUDITED_TABLES
from models.enums import AuditKind
from tests.factories import NOW, new_case
from workflows.audit.chain import GENESIS, link_hash, row_digest
from workflows.audit.seal import seal
from workflows.core.audit import record


def links(session) -> list[AuditLink]:
    return list(session.execute(sa.select(AuditLink).order_by(AuditLink.seq)).scalars())


def audit(session, world, username="li_na", **data):
    record(session, AuditKind.PASSWORD_RESET, as_of=NOW, actor=world.actors["sun_hao"],
           user_id=world.users[username], username=username, **data)


def test_every_audited_table_exists_in_the_schema(session):
    names = set(sa.inspect(session.connection()).get_table_names())
    assert set(AUDITED_TABLES) <= names


def test_a_seal_links_each_row_once_in_id_order_and_writes_the_head(session, world, head_file):
    audit(session, world)
    new_case(session, world)
    new_case(session, world)
    events = session.execute(sa.select(CaseEvent.id).order_by(CaseEvent.id)).scalars().all()
    audits = session.execute(sa.select(AuditEvent.id).order_by(AuditEvent.id)).scalars().all()

    result = seal(session, as_of=NOW, head_file=head_file)

    chain = links(session)
    assert result.linked == len(chain) >= len(events) + len(audits)
    assert [link.seq for link in chain] == list(range(1, len(chain) + 1))
    assert [(c.table_name, c.row_id) for c in chain if c.table_name == "case_event"] == [
        ("case_event", i) for i in events
    ]
    assert chain[0].prev_hash == GENESIS
    for before, link in zip([None, *chain], chain, strict=False):
        assert link.prev_hash == (before.hash if before else GENESIS)
        assert link.hash == link_hash(link.prev_hash, link.table_name, link.row_id, link.row_digest)
    assert json.loads(head_file.read_text()) == {
        "seq": chain[-1].seq, "hash": chain[-1].hash, "sealed_at": NOW.isoformat()
    }


def test_a_second_seal_links_only_the_new_rows(session, world, head_file):
    audit(session, world)
    first = seal(session, as_of=NOW, head_file=head_file)
    assert seal(session, as_of=NOW, head_file=head_file).linked == 0
    audit(session, world, username="wang_fang")
    second = seal(session, as_of=NOW + timedelta(minutes=1), head_file=head_file)
    assert second.linked == 1
    assert second.head.seq == first.head.seq + 1
    assert json.loads(head_file.read_text())["seq"] == second.head.seq
    assert "封存 1 条审计记录" in second.summary


def test_batches_chain_on_from_each_other(session, world, head_file):
    for name in ("li_na", "wang_fang", "zhang_wei", "chen_jie", "zhao_lei"):
        audit(session, world, username=name)
    total = session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar()
    result = seal(session, as_of=NOW, head_file=head_file, batch=2)
    chain = links(session)
    assert result.linked == len(chain) == total
    assert all(b.prev_hash == a.hash for a, b in zip(chain, chain[1:], strict=False))


def test_the_digest_is_of_the_row_as_stored(session, world, head_file):
    audit(session, world, note="密码重置：本人申请")
    seal(session, as_of=NOW, head_file=head_file)
    row = session.execute(sa.select(AuditEvent.__table__).order_by(AuditEvent.id.desc()).limit(1)).mappings().one()
    link = session.execute(sa.select(AuditLink).where(
        AuditLink.table_name == "audit_event", AuditLink.row_id == row["id"])).scalar_one()
    assert link.row_digest == row_digest(dict(row))


def test_an_unfinished_import_run_waits_and_a_voided_signoff_keeps_its_digest(session, world, head_file):
    session.execute(sa.text(
        "INSERT INTO import_run (kind, state, file_name, sha256, size_bytes, source, dry_run, rows,"
        " done, created, updated, duplicates, suppressed, refused, stripped, created_at, updated_at)"
        " VALUES ('warnings', 'running', 'a.xlsx', :h, 1, 'upload', false, 0, 0, 0, 0, 0, 0, 0, 0,"
        " :at, :at)"), {"h": "0" * 64, "at": NOW.replace(tzinfo=None)})
    seal(session, as_of=NOW, head_file=head_file)
    assert not [link for link in links(session) if link.table_name == "import_run"]
    session.execute(sa.text("UPDATE import_run SET state = 'done'"))
    seal(session, as_of=NOW, head_file=head_file)
    assert len([link for link in links(session) if link.table_name == "import_run"]) == 1
