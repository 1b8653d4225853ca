"""平川市's summary of November 2026 compiles its departments and its counties' sent reports
(Changchun art. 24(二)). 安县 goes the whole way (Li Na, Chen Jie and Qian Li confirm, Qian
Li compiles, He Min countersigns, Qian Li sends it to the city: 报送市局); 宁县 and 平川市本级
have not sent. Wu Gang (平川市国库科) may compile early only by naming both as 未报区县, and
the city's line for 安县 is 安县's frozen report; the city sends to the province (报送省厅)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from forms.report_tables import printable
from models import MonthlyReport, OrgUnit
from models.enums import OrgKind, Role
from models.reports import ReportStatus
from tests.factories import PASSWORD
from tests.monthly_scenario import DRAFT_AT, MONTH, build_november
from workflows.admin.accounts import create_user
from workflows.core.actors import load_actor
from workflows.core.errors import InvalidInput
from workflows.reporting.chain import ReportEvent, report_transition
from workflows.reporting.chain_reads import report_chain
from workflows.reporting.drafts import draft_monthly_reports
from workflows.reporting.reads import read_report

AT = DRAFT_AT + timedelta(hours=2)


def report_of(session, world, key) -> MonthlyReport:
    return session.execute(sa.select(MonthlyReport).where(
        MonthlyReport.region_id == world.regions[key].id, MonthlyReport.month == MONTH,
        MonthlyReport.version == 1)).scalar_one()  # fmt: skip


def act(session, world, report, event, who, **kw):
    session.refresh(report)
    return report_transition(session, report_id=report.id, event=event, actor=world.actors[who],
                             version=report.lock_version, as_of=AT, **kw)  # fmt: skip


@pytest.fixture
def city_offices(session, world):
    """吴刚 (国库科) and 郑洁 (脱贫办) at 平川市财政局."""
    for key, code, name, kind, username, full_name, role in [
        ("city_treasury", "410100-GK", "平川市财政局国库科", OrgKind.TREASURY, "wu_gang", "吴刚",
         Role.TREASURY),
        ("city_poverty", "410100-TP", "平川市财政局脱贫办", OrgKind.POVERTY_OFFICE, "zheng_jie",
         "郑洁", Role.POVERTY_OFFICE),
    ]:  # fmt: skip
        unit = OrgUnit(code=code, name=name, kind=kind, region_id=world.regions["city"].id)
        session.add(unit)
        session.flush()
        world.units[key] = unit
        user = create_user(session, username=username, full_name=full_name, role=role,
                           org_unit_id=unit.id, password=PASSWORD)  # fmt: skip
        world.users[username] = user.id
        world.actors[username] = load_actor(session, user.id)


@pytest.fixture
def anxian_sent(session, world, city_offices):
    build_november(session, world)
    draft_monthly_reports(session, as_of=DRAFT_AT)
    anxian = report_of(session, world, "anxian")
    for who in ("li_na", "chen_jie", "qian_li"):
        act(session, world, anxian, ReportEvent.CONFIRM_PART, who)
    act(session, world, anxian, ReportEvent.COMPILE, "qian_li")
    act(session, world, anxian, ReportEvent.COUNTERSIGN, "he_min")
    chain = report_chain(session, actor=world.actors["qian_li"], report_id=anxian.id)
    assert [a.label for a in chain.actions if a.event == ReportEvent.SEND] == ["报送市局"]
    act(session, world, anxian, ReportEvent.SEND, "qian_li")
    session.refresh(anxian)
    return anxian


def test_compiling_before_the_counties_sent_needs_the_unreported_list(session, world, anxian_sent):
    city = report_of(session, world, "city")
    act(session, world, city, ReportEvent.CONFIRM_PART, "wu_gang")  # 国库科's own part
    chain = report_chain(session, actor=world.actors["wu_gang"], report_id=city.id)
    compile_action = next(a for a in chain.actions if a.event == ReportEvent.COMPILE)
    assert compile_action.unreported == (("410101", "平川市本级"), ("410122", "宁县"))
    for named in (None, ["410122"], ["410122", "410101", "410121"]):
        with pytest.raises(InvalidInput) as refused:
            act(session, world, city, ReportEvent.COMPILE, "wu_gang", unreported=named)
        assert refused.value.errors[0].field == "unreported"
        assert "平川市本级、宁县" in refused.value.message
    session.refresh(city)
    assert city.status == ReportStatus.DRAFTING and city.compiled_at is None

    act(session, world, city, ReportEvent.COMPILE, "wu_gang", unreported=["410122", "410101"])
    session.refresh(city)
    assert city.status == ReportStatus.COMPILED
    assert city.figures["unreported"] == [{"code": "410101", "name": "平川市本级"},
                                          {"code": "410122", "name": "宁县"}]  # fmt: skip
    lines = {c["region"]["code"]: c for c in city.figures["children"]}
    assert lines["410121"]["report"] == {
        "status": "sent", "version": 1, "sent_at": lines["410121"]["report"]["sent_at"],
        "figures_sha256": anxian_sent.figures_sha256}  # fmt: skip
    assert lines["410121"]["headline"] == anxian_sent.figures["headline"]
    assert lines["410122"]["report"] == {"status": "unreported"}
    # The printed report names them.
    view = read_report(session, region=world.regions["city"], month=MONTH, as_of=AT)
    tables = printable(view.figures)
    assert tables["unreported"] == "平川市本级、宁县" and tables["child_word"] == "区县"
    assert tables["children_status"] == ["未报（系统数据）", "已报送（第1版）", "未报（系统数据）"]


def test_once_every_county_sent_no_list_is_needed_and_the_city_reports_to_the_province(
    session, world, anxian_sent
):
    for key in ("ningxian", "city_own"):
        report = report_of(session, world, key)
        session.execute(sa.update(MonthlyReport).where(MonthlyReport.id == report.id).values(
            status=ReportStatus.SENT, sent_at=AT, figures_sha256="0" * 64))  # fmt: skip
    city = report_of(session, world, "city")
    act(session, world, city, ReportEvent.CONFIRM_PART, "wu_gang")
    chain = report_chain(session, actor=world.actors["wu_gang"], report_id=city.id)
    assert next(a for a in chain.actions if a.event == ReportEvent.COMPILE).unreported == ()
    act(session, world, city, ReportEvent.COMPILE, "wu_gang")
    act(session, world, city, ReportEvent.COUNTERSIGN, "zheng_jie")
    session.refresh(city)
    assert "unreported" not in city.figures or city.figures["unreported"] == []
    chain = report_chain(session, actor=world.actors["wu_gang"], report_id=city.id)
    assert [a.label for a in chain.actions if a.event == ReportEvent.SEND] == ["报送省厅"]
    act(session, world, city, ReportEvent.SEND, "wu_gang")
    chain = report_chain(session, actor=world.actors["wu_gang"], report_id=city.id)
    assert chain.events[-1].label == "报送省厅"
