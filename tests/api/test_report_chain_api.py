"""The chain over HTTP: Li Na confirms her section's part on the report page, Qian Li
compiles, He Min countersigns, Qian Li sends, all through forms with CSRF tokens; the JSON
API answers the same steps; a stale page and a resubmission without a reason are refused."""

import re

import pytest
import sqlalchemy as sa

from models import MonthlyReport
from tests.api.test_pages_auth import csrf_of, page_login
from tests.monthly_scenario import DRAFT_AT, MONTH, build_november
from workflows.reporting.drafts import draft_monthly_reports


@pytest.fixture
def report_id(session, world, monkeypatch):
    for module in ("api.pages.report_chain", "api.routes.report_chain"):
        monkeypatch.setattr(f"{module}.now_utc", lambda: DRAFT_AT)
    build_november(session, world)
    draft_monthly_reports(session, as_of=DRAFT_AT)
    session.commit()
    return session.execute(sa.select(MonthlyReport.id).where(
        MonthlyReport.region_id == world.regions["anxian"].id, MonthlyReport.month == MONTH
    )).scalar_one()  # fmt: skip


def act_on_page(client, who, report_id, event, comment="", version=None):
    page_login(client, who)
    page = client.get(f"/reports/{report_id}/chain")
    assert page.status_code == 200, page.text
    if version is None:
        version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    return client.post(f"/reports/{report_id}/chain", follow_redirects=False, data={
        "csrf_token": csrf_of(page.text), "event": event, "version": version, "comment": comment})  # fmt: skip


def test_the_chain_through_the_pages(client, world, report_id):
    page_login(client, "qian_li")
    waiting = client.get(f"/reports/{report_id}/chain").text
    compile_form = waiting[waiting.index('id="compile-form"'):]
    assert "disabled" in compile_form[:compile_form.index("</form>")]
    assert "各主管处室确认后方可汇总（已确认 0 / 3）" in waiting
    for who in ("li_na", "chen_jie", "qian_li"):
        answer = act_on_page(client, who, report_id, "confirm_part", comment="已核对")
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/reports/{report_id}/chain?done=confirm_part"
    page_login(client, "he_min")
    assert 'id="countersign-form"' not in client.get(f"/reports/{report_id}/chain").text
    page_login(client, "qian_li")
    ready = client.get(f"/reports/{report_id}/chain").text
    compile_form = ready[ready.index('id="compile-form"'):]
    assert "disabled" not in compile_form[:compile_form.index("</form>")]
    assert act_on_page(client, "qian_li", report_id, "compile").status_code == 303
    page_login(client, "he_min")
    page = client.get(f"/reports/{report_id}/chain")
    assert 'id="countersign-form"' in page.text and 'id="return-form"' in page.text
    assert act_on_page(client, "he_min", report_id, "countersign", "同意报送").status_code == 303
    assert act_on_page(client, "qian_li", report_id, "send").status_code == 303
    page = client.get(f"/reports/{report_id}/chain?done=send")
    assert "已办理：报送市局" in page.text and "已报送" in page.text
    assert "数据已冻结" in page.text and "钱丽" in page.text and "何敏" in page.text
    assert 'href="/reports/monthly/410121/2026-11/report.pdf?version=1"' in page.text
    # Xu Qing at the province finds it in 我的月报 and reads the chain, without buttons.
    page_login(client, "xu_qing")
    listing = client.get("/reports?month=2026-11")
    assert f'href="/reports/{report_id}/chain"' in listing.text and "已报送" in listing.text
    assert 'id="actions"' not in client.get(f"/reports/{report_id}/chain").text


def test_a_stale_page_is_refused_with_a_message(client, world, report_id):
    act_on_page(client, "li_na", report_id, "confirm_part")
    stale = act_on_page(client, "chen_jie", report_id, "confirm_part", version="1")
    assert stale.status_code == 409 and "刷新" in stale.text


def test_a_resubmission_needs_a_reason(client, world, login, report_id):
    headers = login("qian_li")
    for who, event in [("li_na", "confirm_part"), ("chen_jie", "confirm_part"),
                       ("qian_li", "confirm_part"), ("qian_li", "compile"),
                       ("he_min", "countersign")]:  # fmt: skip
        h = login(who)
        version = client.get(f"/api/v1/reports/{report_id}/chain", headers=h).json()["lock_version"]
        answer = client.post(f"/api/v1/reports/{report_id}/transitions", headers=h,
                             json={"event": event, "version": version})  # fmt: skip
        assert answer.status_code == 200, answer.text
    chain = client.get(f"/api/v1/reports/{report_id}/chain", headers=headers).json()
    assert chain["status"] == "countersigned" and chain["actions"] == ["send", "resubmit"]
    empty = client.post(f"/api/v1/reports/{report_id}/resubmit", headers=headers,
                        json={"version": chain["lock_version"], "reason": " "})  # fmt: skip
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "reason"
    page = act_on_page(client, "qian_li", report_id, "resubmit", comment="")
    assert page.status_code == 422 and "请填写原因" in page.text
    done = client.post(f"/api/v1/reports/{report_id}/resubmit", headers=headers,
                       json={"version": chain["lock_version"], "reason": "补报宁县移交数据"})  # fmt: skip
    assert done.status_code == 201 and done.json()["to_status"] == "superseded"
    listing = client.get("/api/v1/reports?month=2026-11", headers=headers).json()
    anxian = [r for r in listing if r["region_code"] == "410121"]
    assert [(r["version"], r["status"]) for r in anxian] == [(2, "drafting"), (1, "superseded")]


def test_out_of_scope_reports_are_not_found(client, world, login, report_id):
    assert (
        client.get(f"/api/v1/reports/{report_id}/chain", headers=login("zhao_lei")).status_code
        == 404
    )
    assert client.get("/api/v1/reports", headers=login("sun_hao")).status_code == 403


def test_li_na_confirms_figures_she_can_see_and_open(client, world, report_id, session):
    """The confirm step shows 安县农财股's own part of the report and links to its cases."""
    page_login(client, "li_na")
    page = client.get(f"/reports/{report_id}/chain").text
    row = page[page.index('id="part-410121-NC"'):]
    row = row[:row.index("</tr>")]
    part = session.get(MonthlyReport, report_id).figures["departments"]
    mine = next(d["headline"] for d in part if d["org_unit"]["code"] == "410121-NC")
    assert mine["raised"] > 0
    link = re.search(r'<a href="([^"]+)" title="查看本处室本月产生的预警">(\d+)</a>', row)
    assert int(link.group(2)) == mine["raised"]
    listed = client.get(link.group(1).replace("&amp;", "&")).text
    assert f"符合条件的预警共 <strong>{mine['raised']}</strong> 条" in listed


def test_wu_gang_compiles_the_city_early_over_json_naming_the_unreported_counties(
    client, login, world, report_id, session, app
):
    """No county of 平川市 has sent: compiling without the 未报区县 list is refused (422,
    field unreported); naming all three compiles, and the OpenAPI schema says the field."""
    from models import OrgUnit
    from models.enums import OrgKind, Role
    from tests.factories import PASSWORD
    from workflows.admin.accounts import create_user

    unit = OrgUnit(code="410100-GK", name="平川市财政局国库科", kind=OrgKind.TREASURY,
                   region_id=world.regions["city"].id)  # fmt: skip
    session.add(unit)
    session.flush()
    create_user(session, username="wu_gang", full_name="吴刚", role=Role.TREASURY,
                org_unit_id=unit.id, password=PASSWORD)  # fmt: skip
    city = session.execute(sa.select(MonthlyReport.id).where(
        MonthlyReport.region_id == world.regions["city"].id)).scalar_one()  # fmt: skip
    session.commit()
    headers = login("wu_gang")

    def post(body):
        version = client.get(f"/api/v1/reports/{city}/chain", headers=headers).json()["lock_version"]
        return client.post(f"/api/v1/reports/{city}/transitions", headers=headers,
                           json={"version": version, **body})  # fmt: skip

    refused = post({"event": "compile"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "unreported"
    assert "平川市本级、安县、宁县" in refused.json()["message"]
    done = post({"event": "compile", "unreported": ["410101", "410121", "410122"]})
    assert done.status_code == 200, done.text
    assert done.json()["to_status"] == "compiled"
    schema = app.openapi()["components"]["schemas"]["ActionIn"]["properties"]["unreported"]
    assert "未报区县" in schema["description"]
