"""The administrator Sun Hao and `warnflow jobs list` name the reporting regions whose
monthly report nobody can move (workflows/reporting/staffing.py)."""

import pytest
from typer.testing import CliRunner

from api.cli import app
from models import OrgUnit, Region, User
from models.db import get_engine, session_scope
from models.enums import OrgKind, RegionLevel, Role
from tests.api.account_flow import APPS, through_application
from tests.api.test_pages_auth import csrf_of, page_login
from tests.factories import PASSWORD
from workflows.admin.accounts import create_user
from workflows.reporting.staffing import chain_gaps


def test_the_world_names_every_region_whose_chain_has_nobody(session, world):
    gaps = {g.region_code: g for g in chain_gaps(session)}
    anxian = world.regions["anxian"].code
    assert anxian not in gaps  # 钱丽 compiles, 何敏 countersigns, each department has someone
    ningxian = gaps[world.regions["ningxian"].code]
    assert "无国库账户（汇总、报送）" in ningxian.missing
    assert "无脱贫办账户（会签）" in ningxian.missing


def test_sun_hao_sees_the_regions_on_the_admin_page(session, world, client):
    session.commit()
    assert page_login(client, "sun_hao").status_code == 303
    html = client.get("/admin").text
    assert 'id="chain-gaps"' in html
    ningxian = world.regions["ningxian"]
    assert f"{ningxian.name}（{ningxian.code}）" in html
    assert f"{world.regions['anxian'].name}（" not in html.split('id="chain-gaps"')[1].split("</section>")[0]


def test_jobs_list_names_a_county_whose_chain_has_nobody(cli_db):
    with session_scope(get_engine(cli_db)) as session:
        county = Region(code="410121", name="安县", level=RegionLevel.COUNTY, path="/410121/")
        session.add(county)
        session.flush()
        session.add(OrgUnit(code="410121-NC", name="安县财政局农财股", kind=OrgKind.AGRI_FINANCE,
                            region_id=county.id))
    result = CliRunner().invoke(app, ["jobs", "list"])
    assert result.exit_code == 0, result.output
    assert "1 个报送月报的区划缺少办理人员" in result.output
    assert "安县（410121）：无国库账户（汇总、报送）；无脱贫办账户（会签）；安县财政局农财股无人确认本处室部分" in result.output


@pytest.fixture
def wu_jun(session, world):
    """安县's finance bureau head (局长): he reviews applications about the county's one-person
    treasury and poverty office, whose only heads are the very people applied for."""
    unit = OrgUnit(code="410121-LD", name="安县财政局领导", kind=OrgKind.LEADERSHIP,
                   region_id=world.regions["anxian"].id)
    session.add(unit)
    session.flush()
    create_user(session, username="wu_jun", full_name="吴军", role=Role.LEADER, org_unit_id=unit.id,
                password=PASSWORD)
    session.commit()
    return "wu_jun"


def test_sun_hao_cannot_revoke_the_only_treasurer_of_a_county_that_reports(
    session, world, client, login, wu_jun
):
    """安县's chain can move (钱丽 compiles and sends); revoking her or making her a handler
    would stop it, so both applications are refused when approved and nothing changes; 李娜
    can go (王芳 and 张伟 remain)."""
    session.commit()
    qian_li = world.users["qian_li"]
    # 钱丽's unit has nobody else: she hands it in and the bureau head reviews.
    refused = through_application(client, login, world, {"kind": "revoke", "user_id": qian_li},
                                  submitter="qian_li", head=wu_jun)
    assert refused.status_code == 409, refused.text
    assert "安县（410121）：无国库账户（汇总、报送）" in refused.json()["message"]
    changed = through_application(client, login, world, {"kind": "change", "user_id": qian_li, "role": "handler"},
                                  submitter="qian_li", head=wu_jun)
    assert changed.status_code == 409
    session.expire_all()
    assert session.get(User, qian_li).is_active and session.get(User, qian_li).role == "treasury"
    assert through_application(client, login, world, {"kind": "revoke", "user_id": world.users["li_na"]},
                               submitter="wang_fang").status_code == 200


def test_the_application_page_refuses_it_too(session, world, client, login, wu_jun):
    he_min = world.users["he_min"]
    app = client.post(APPS, json={"kind": "revoke", "user_id": he_min}, headers=login("he_min")).json()
    # Nobody reviews an application about themselves.
    assert client.post(f"{APPS}/{app['id']}/head-decision", json={"version": 1, "approve": True},
                       headers=login("he_min")).status_code == 403
    assert client.post(f"{APPS}/{app['id']}/head-decision", json={"version": 1, "approve": True},
                       headers=login(wu_jun)).status_code == 200
    assert page_login(client, "sun_hao").status_code == 303
    detail = f"/account-applications/{app['id']}"
    token = csrf_of(client.get(detail).text)
    answer = client.post(detail + "/admin-decision", data={"csrf_token": token, "version": "2", "approve": "1"},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 409
    assert "无脱贫办账户（会签）" in answer.text
    session.expire_all()
    assert session.get(User, he_min).is_active
