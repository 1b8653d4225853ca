"""Verify finds what was done to the audited rows behind the product's back, in plain SQL.

Sun Hao resets three passwords and Anxian gets a warning; everything is sealed; then someone
with database access changes, removes or slips in rows, or trims the chain's newest end.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import AuditEvent, AuditLink, CaseEvent
from models.audit import AUDITED_TABLES
from models.enums import AuditKind
from tests.factories import NOW, new_case
from workflows.audit.chain import digest_rows, link_hash
from workflows.audit.seal import seal
from workflows.audit.verify import last_checks, record_check, verify
from workflows.core.audit import record


def sql(session, text: str, **params):
    return session.execute(sa.text(text), params)


@pytest.fixture
def sealed(session, world, head_file):
    for name in ("li_na", "wang_fang", "zhang_wei"):
        record(session, AuditKind.PASSWORD_RESET, as_of=NOW, actor=world.actors["sun_hao"],
               user_id=world.users[name], username=name)
    new_case(session, world)
    seal(session, as_of=NOW, head_file=head_file)
    return sorted(session.execute(sa.select(AuditEvent.id)).scalars())


def problem(session, head_file):
    result = verify(session, head_file=head_file)
    assert not result.passed, result.summary
    return result.problem


def test_an_untouched_chain_passes(session, sealed, head_file):
    result = verify(session, head_file=head_file)
    assert result.passed, result.summary
    assert result.links == session.execute(sa.select(sa.func.count()).select_from(AuditLink)).scalar()
    assert "审计链校验通过" in result.summary


def test_a_row_changed_in_sql_is_found(session, sealed, head_file):
    sql(session, "UPDATE audit_event SET username = 'nobody' WHERE id = :id", id=sealed[1])
    found = problem(session, head_file)
    assert (found.kind, found.table, found.row_id) == ("changed", "audit_event", sealed[1])
    assert "审计日志（audit_event）" in found.message and "被改动" in found.message


def test_a_json_field_changed_in_a_case_event_is_found(session, sealed, head_file):
    event = session.execute(sa.select(CaseEvent.id).limit(1)).scalar()
    sql(session, "UPDATE case_event SET comment = '已核实' WHERE id = :id", id=event)
    found = problem(session, head_file)
    assert (found.kind, found.table, found.row_id) == ("changed", "case_event", event)


def test_a_row_removed_in_sql_is_found(session, sealed, head_file):
    sql(session, "DELETE FROM audit_event WHERE id = :id", id=sealed[0])
    found = problem(session, head_file)
    assert (found.kind, found.row_id) == ("removed", sealed[0])
    assert "已被删除" in found.message


def test_the_first_broken_link_is_reported(session, sealed, head_file):
    sql(session, "UPDATE audit_event SET client = 'x' WHERE id = :id", id=sealed[2])
    sql(session, "DELETE FROM audit_event WHERE id = :id", id=sealed[1])
    assert problem(session, head_file).row_id == sealed[1]


def test_a_row_inserted_below_the_chain_is_found(session, world, head_file):
    for name in ("li_na", "wang_fang", "zhang_wei"):
        record(session, AuditKind.LOGIN, as_of=NOW, user_id=world.users[name], username=name)
    ids = sorted(session.execute(sa.select(AuditEvent.id)).scalars())
    # A gap, as a rolled-back transaction leaves one on PostgreSQL.
    sql(session, "DELETE FROM audit_event WHERE id = :id", id=ids[1])
    seal(session, as_of=NOW, head_file=head_file)
    assert verify(session, head_file=head_file).passed
    sql(session, "INSERT INTO audit_event (id, at, kind, username, client, data)"
                 " VALUES (:id, :at, 'login', 'li_na', '', '{}')", id=ids[1], at=NOW.replace(tzinfo=None))
    found = problem(session, head_file)
    assert (found.kind, found.table, found.row_id) == ("inserted", "audit_event", ids[1])
    assert "绕过系统直接写入数据库" in found.message
    # The next seal does not take it into the chain: it stays reported.
    record(session, AuditKind.LOGIN, as_of=NOW, user_id=world.users["li_na"], username="li_na")
    assert seal(session, as_of=NOW, head_file=head_file).linked == 1
    assert problem(session, head_file).row_id == ids[1]


def test_the_newest_rows_deleted_with_their_links_are_found_by_the_head_file(session, sealed, head_file):
    last = session.execute(sa.select(sa.func.max(AuditLink.seq))).scalar()
    newest = session.execute(sa.select(AuditLink).where(AuditLink.seq == last)).scalar_one()
    sql(session, "DELETE FROM audit_link WHERE seq = :seq", seq=last)
    sql(session, f"DELETE FROM {newest.table_name} WHERE id = :id", id=newest.row_id)
    found = problem(session, head_file)
    assert found.kind == "head"
    assert f"链尾文件记录到第 {last} 环，数据库中只有 {last - 1} 环" in found.message


def test_a_middle_link_removed_breaks_the_chain(session, sealed, head_file):
    sql(session, "DELETE FROM audit_link WHERE seq = 2")
    found = problem(session, head_file)
    assert (found.kind, found.seq) == ("broken", 3)
    assert "缺少第 2 环" in found.message


def test_a_row_changed_and_its_last_link_rewritten_is_found_by_the_head_file(session, sealed, head_file):
    last = session.execute(sa.select(AuditLink).order_by(AuditLink.seq.desc()).limit(1)).scalar_one()
    if last.table_name != "case_event":
        pytest.fail("the warning's event is sealed last")
    sql(session, "UPDATE case_event SET comment = 'x' WHERE id = :id", id=last.row_id)
    digest = digest_rows(session, AUDITED_TABLES["case_event"], [last.row_id])[last.row_id]
    sql(session, "UPDATE audit_link SET row_digest = :d, hash = :h WHERE seq = :seq", d=digest,
        h=link_hash(last.prev_hash, last.table_name, last.row_id, digest), seq=last.seq)
    session.expire_all()
    found = problem(session, head_file)
    assert found.kind == "head" and "审计链被重写" in found.message


def test_a_link_edited_in_place_is_found(session, sealed, head_file):
    sql(session, "UPDATE audit_link SET row_id = row_id WHERE seq = 1")
    sql(session, "UPDATE audit_link SET hash = :h WHERE seq = 1", h="f" * 64)
    found = problem(session, head_file)
    assert found.kind == "broken" and found.seq in (1, 2)


def test_a_missing_head_file_with_links_fails_and_an_empty_chain_passes(session, world, head_file):
    assert verify(session, head_file=head_file).passed
    record(session, AuditKind.LOGIN, as_of=NOW, user_id=world.users["li_na"], username="li_na")
    seal(session, as_of=NOW, head_file=head_file)
    head_file.unlink()
    assert "不存在" in problem(session, head_file).message


def test_a_head_file_behind_the_chain_passes(session, sealed, head_file, world):
    behind = head_file.read_text()
    record(session, AuditKind.LOGIN, as_of=NOW, user_id=world.users["li_na"], username="li_na")
    seal(session, as_of=NOW, head_file=head_file)
    head_file.write_text(behind)  # the process died between the commit and the head write
    assert verify(session, head_file=head_file).passed


def test_checks_are_kept_for_health(session, sealed, head_file):
    record_check(session, verify(session, head_file=head_file), as_of=NOW)
    sql(session, "UPDATE audit_event SET username = 'nobody' WHERE id = :id", id=sealed[0])
    record_check(session, verify(session, head_file=head_file), as_of=NOW + timedelta(days=1))
    checks = last_checks(session)
    assert checks.last.passed is False and "被改动" in checks.last.message
    assert checks.last_passed_at == NOW
