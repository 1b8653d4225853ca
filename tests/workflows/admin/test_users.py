"""Sun Hao, the province's administrator, opens, changes and revokes accounts."""

from datetime import timedelta

import pytest
from sqlmodel import select

from models import AuditEvent, User
from models.enums import AuditKind, Role
from tests.factories import NOW, PASSWORD, id_number
from workflows.admin.accounts import create_user
from workflows.admin.auth import authenticate
from workflows.admin.users import (
    change_user,
    get_user,
    list_users,
    open_user,
    reset_password,
    revoke_user,
    unlock_user,
)
from workflows.core.actors import load_actor
from workflows.core.errors import AlreadyExists, InvalidInput, OutOfScope


def audit(session, kind, user_id):
    return session.exec(
        select(AuditEvent).where(AuditEvent.kind == kind, AuditEvent.user_id == user_id)
    ).all()


def open_handler(session, world, username="zhou_qiang", password="Anxian-2026"):
    return open_user(
        session, actor=world.actors["sun_hao"], username=username, full_name="周强",
        role=Role.HANDLER, org_unit_id=world.units["anxian_agri"].id, password=password,
        as_of=NOW, phone="0371-5550001", id_number=id_number(7),
    )


def county_admin(session, world):
    user = create_user(session, username="anxian_admin", full_name="安县管理员", role=Role.ADMIN,
                       org_unit_id=world.units["anxian_budget"].id, password=PASSWORD)
    return load_actor(session, user.id)


def test_sun_hao_opens_a_handler_account_for_anxian_and_the_handler_can_log_in(session, world):
    row = open_handler(session, world)
    assert (row.username, row.role_label, row.region_name) == ("zhou_qiang", "经办人", "安县")
    outcome = authenticate(session, username="zhou_qiang", password="Anxian-2026", as_of=NOW)
    assert outcome.user is not None and outcome.user.id == row.id
    [event] = audit(session, AuditKind.USER_CREATED, row.id)
    assert event.actor_id == world.users["sun_hao"]
    assert "password" not in str(event.data).lower()


def test_a_taken_username_is_refused_in_chinese_naming_the_field(session, world):
    with pytest.raises(AlreadyExists) as refused:
        open_handler(session, world, username="li_na")
    assert refused.value.status == 409
    assert [e.field for e in refused.value.errors] == ["username"]
    assert "已被使用" in refused.value.errors[0].message


def test_a_weak_password_is_refused(session, world):
    with pytest.raises(InvalidInput) as refused:
        open_handler(session, world, password="abc")
    assert [e.field for e in refused.value.errors] == ["password"]
    assert "密码" in refused.value.errors[0].message


def test_a_revoked_account_can_no_longer_log_in_and_stays_on_record(session, world):
    li_na = world.users["li_na"]
    row = revoke_user(session, actor=world.actors["sun_hao"], user_id=li_na, as_of=NOW)
    assert not row.is_active and row.revoked_at == NOW
    assert authenticate(session, username="li_na", password=PASSWORD, as_of=NOW).user is None
    assert session.get(User, li_na) is not None
    assert len(audit(session, AuditKind.USER_REVOKED, li_na)) == 1


def test_sun_hao_cannot_revoke_or_demote_himself(session, world):
    sun_hao = world.actors["sun_hao"]
    with pytest.raises(InvalidInput):
        revoke_user(session, actor=sun_hao, user_id=sun_hao.user_id, as_of=NOW)
    with pytest.raises(InvalidInput) as refused:
        change_user(session, actor=sun_hao, user_id=sun_hao.user_id,
                    changes={"role": Role.AUDITOR, "is_active": False}, as_of=NOW)
    assert {e.field for e in refused.value.errors} == {"role", "is_active"}
    assert get_user(session, actor=sun_hao, user_id=sun_hao.user_id).role == Role.ADMIN


def test_sun_hao_moves_wang_fang_to_the_budget_section_and_the_change_is_audited(session, world):
    wang = world.users["wang_fang"]
    row = change_user(session, actor=world.actors["sun_hao"], user_id=wang, as_of=NOW,
                      changes={"org_unit_id": world.units["anxian_budget"].id, "full_name": "王芳芳"})
    assert (row.org_unit_name, row.full_name) == ("安县财政局预算股", "王芳芳")
    [event] = audit(session, AuditKind.USER_CHANGED, wang)
    assert event.data["changes"]["full_name"] == ["王芳", "王芳芳"]


def test_a_reset_password_works_and_a_generated_one_is_returned_once(session, world):
    sun_hao, li_na = world.actors["sun_hao"], world.users["li_na"]
    assert reset_password(session, actor=sun_hao, user_id=li_na, password="NewPass-2027", as_of=NOW) is None
    assert authenticate(session, username="li_na", password="NewPass-2027", as_of=NOW).user is not None
    generated = reset_password(session, actor=sun_hao, user_id=li_na, as_of=NOW)
    assert generated and authenticate(session, username="li_na", password=generated, as_of=NOW).user
    assert len(audit(session, AuditKind.PASSWORD_RESET, li_na)) == 2
    with pytest.raises(InvalidInput):
        reset_password(session, actor=sun_hao, user_id=li_na, password="short", as_of=NOW)


def test_a_locked_account_is_unlocked_by_the_admin(session, world):
    for _ in range(5):
        authenticate(session, username="li_na", password="wrong-1", as_of=NOW)
    assert authenticate(session, username="li_na", password=PASSWORD, as_of=NOW).user is None
    unlock_user(session, actor=world.actors["sun_hao"], user_id=world.users["li_na"], as_of=NOW)
    later = NOW + timedelta(minutes=1)
    assert authenticate(session, username="li_na", password=PASSWORD, as_of=later).user is not None


def test_a_county_admin_manages_only_the_county(session, world):
    anxian_admin = county_admin(session, world)
    names = {r.username for r in list_users(session, actor=anxian_admin)}
    assert {"li_na", "chen_jie", "anxian_admin"} <= names
    assert not names & {"zhao_lei", "sun_hao"}
    with pytest.raises(OutOfScope):
        revoke_user(session, actor=anxian_admin, user_id=world.users["zhao_lei"], as_of=NOW)
    with pytest.raises(InvalidInput) as refused:
        open_user(session, actor=anxian_admin, username="new_one", full_name="新人", role=Role.HANDLER,
                  org_unit_id=world.units["ningxian_agri"].id, password=PASSWORD, as_of=NOW)
    assert refused.value.errors[0].field == "org_unit_id"


def test_users_are_listed_by_region_role_and_active_flag(session, world):
    sun_hao = world.actors["sun_hao"]
    handlers = list_users(session, actor=sun_hao, region="410121", role=Role.HANDLER)
    assert {r.username for r in handlers} == {"li_na", "wang_fang", "chen_jie"}
    revoke_user(session, actor=sun_hao, user_id=world.users["chen_jie"], as_of=NOW)
    inactive = list_users(session, actor=sun_hao, active=False)
    assert [r.username for r in inactive] == ["chen_jie"]


def test_form_strings_are_accepted_when_changing_an_account(session, world):
    row = change_user(session, actor=world.actors["sun_hao"], user_id=world.users["wang_fang"], as_of=NOW,
                      changes={"org_unit_id": str(world.units["anxian_budget"].id), "is_active": "false",
                               "role": "supervisor"})
    assert (row.org_unit_name, row.is_active, row.role) == ("安县财政局预算股", False, Role.SUPERVISOR)
    assert len(audit(session, AuditKind.USER_REVOKED, world.users["wang_fang"])) == 1
    with pytest.raises(InvalidInput) as refused:
        change_user(session, actor=world.actors["sun_hao"], user_id=world.users["li_na"], as_of=NOW,
                    changes={"org_unit_id": None})
    assert refused.value.errors[0].field == "org_unit_id"
