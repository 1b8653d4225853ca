"""The audit viewer's reads: who sees what, the filters, keyset paging.

Sun Hao (administrator) resets Li Na's password; Anxian and Ningxian each get a warning.
Liu Yang audits the whole province; Zhou Qi audits Anxian county only; Gao Jun is the
provincial supervision bureau; Li Na handles cases and may not read the trail.
"""

import base64
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from models import Case
from models.enums import AuditKind, Role
from tests.factories import NOW, PASSWORD, new_case
from workflows.admin.accounts import create_user
from workflows.audit.seal import seal
from workflows.audit.trail import TrailFilter, trail_page
from workflows.core.actors import load_actor
from workflows.core.audit import record
from workflows.core.errors import InvalidInput, RoleNotAllowed


@pytest.fixture
def happened(session, world, head_file):
    record(session, AuditKind.PASSWORD_RESET, as_of=NOW, actor=world.actors["sun_hao"],
           user_id=world.users["li_na"], username="li_na")
    anxian = new_case(session, world, at=NOW + timedelta(minutes=1))
    ningxian = new_case(session, world, region="ningxian", unit="ningxian_agri", assignee="zhao_lei",
                        at=NOW + timedelta(minutes=2))
    zhou = create_user(session, username="zhou_qi", full_name="周琦", role=Role.AUDITOR,
                       org_unit_id=world.units["anxian_budget"].id, password=PASSWORD)
    world.actors["zhou_qi"] = load_actor(session, zhou.id)
    seal(session, as_of=NOW, head_file=head_file)
    return {name: session.get(Case, i).number for name, i in (("anxian", anxian), ("ningxian", ningxian))}


def read(session, world, who, **wanted):
    return trail_page(session, actor=world.actors[who], wanted=TrailFilter(**wanted)).rows


def test_the_administrator_reads_account_acts_but_no_case(session, world, happened):
    rows = read(session, world, "sun_hao")
    assert {r.table_name for r in rows} == {"audit_event"}
    [reset] = [r for r in rows if r.kind == "password_reset"]
    assert reset.person == "孙浩（sun_hao）" and reset.kind_label and reset.seq and len(reset.hash) == 64


def test_an_auditor_reads_everything_in_their_region_only(session, world, happened):
    province = read(session, world, "liu_yang", kind="case_event")
    assert {r.case_number for r in province} == set(happened.values())
    county = read(session, world, "zhou_qi", kind="case_event")
    assert {r.case_number for r in county} == {happened["anxian"]}
    assert read(session, world, "gao_jun", case=happened["ningxian"])


def test_a_handler_may_not_read_the_trail(session, world, happened):
    with pytest.raises(RoleNotAllowed):
        read(session, world, "li_na")


def test_filters_by_person_kind_case_and_period(session, world, happened):
    assert [r.kind for r in read(session, world, "liu_yang", person="sun_hao")] == ["password_reset"]
    assert all(r.kind == "case_event:raise" for r in read(session, world, "liu_yang", kind="case_event:raise"))
    assert {r.case_number for r in read(session, world, "liu_yang", case=happened["anxian"])} == {happened["anxian"]}
    today = NOW.date()
    assert read(session, world, "liu_yang", date_from=today, date_to=today)
    assert read(session, world, "liu_yang", date_from=today + timedelta(days=1)) == []


@pytest.mark.parametrize(("wanted", "field"), [
    ({"person": "nobody"}, "person"), ({"case": "YJ-000000-000000"}, "case"),
    ({"date_from": date(2026, 12, 2), "date_to": date(2026, 12, 1)}, "date_to"),
    ({"kind": "nothing"}, "kind"),
])
def test_bad_filters_name_their_field(session, world, happened, wanted, field):
    with pytest.raises(InvalidInput) as refused:
        read(session, world, "liu_yang", **wanted)
    assert refused.value.errors[0].field == field


def test_keyset_pages_cover_every_row_once_newest_first(session, world, happened):
    everything = read(session, world, "liu_yang")
    seen, cursor = [], None
    while True:
        page = trail_page(session, actor=world.actors["liu_yang"], wanted=TrailFilter(), cursor=cursor, limit=2)
        seen += page.rows
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [(r.table_name, r.id) for r in seen] == [(r.table_name, r.id) for r in everything]
    assert [r.at for r in seen] == sorted((r.at for r in seen), reverse=True)
    for bad in ("%%%", base64.urlsafe_b64encode(f"{NOW.isoformat()}~1~{2**64}".encode()).decode()):
        with pytest.raises(InvalidInput):
            trail_page(session, actor=world.actors["liu_yang"], wanted=TrailFilter(), cursor=bad)
    assert session.execute(sa.text("SELECT 1")).scalar() == 1


def test_steps_are_labelled_in_chinese():
    from workflows.audit.trail import kind_label

    assert kind_label("case_event:raise") == "产生预警"
    assert kind_label("monthly_report_event:draft", "drafting").startswith("月报流转：")
    assert "draft" not in kind_label("monthly_report_event:draft", "drafting")
    assert kind_label("oversight_event:open", "open").startswith("督查约谈：")
    assert kind_label("import_run:done") == "数据导入：已完成"
    assert kind_label("login") == "登录"
