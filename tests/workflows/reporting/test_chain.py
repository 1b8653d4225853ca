"""The monthly report's chain on November 2026 in 安县 (tests/monthly_scenario.py):
Li Na (农财股) and Chen Jie (预算股) confirm their departments' parts, Qian Li (国库股) confirms
the treasury's own, compiles and sends, He Min (脱贫办) countersigns; Xu Qing and Gao Jun at
the province are told. Late reports escalate; a resubmission keeps both versions."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import MonthlyReport, MonthlyReportEvent, OrgUnit, Region
from models.enums import OrgKind, Role
from models.federation import FederationPeer, FederationPush, PeerRelation, PushStatus
from models.notifications import Channel, Notification
from models.reports import ReportStatus
from models.settings import Settings
from tests.factories import PASSWORD, new_case
from tests.monthly_scenario import DRAFT_AT, MONTH, build_november, shanghai
from workflows.admin.accounts import create_user
from workflows.core.actors import Actor, load_actor
from workflows.core.errors import (
    InvalidInput,
    InvalidState,
    OutOfScope,
    RoleNotAllowed,
    StaleVersion,
)
from workflows.federation import exchange as federation
from workflows.reporting import effects as report_effects
from workflows.reporting.chain import ReportEvent, report_transition, resubmit
from workflows.reporting.chain_reads import list_reports
from workflows.reporting.chain_reads import report_chain as read_chain
from workflows.reporting.drafts import draft_monthly_reports
from workflows.reporting.figures import compute_figures
from workflows.reporting.late_reports import escalate_late_reports

OPERATOR = Actor.operator("测试操作员")

AT = DRAFT_AT + timedelta(hours=1)


@pytest.fixture
def drafted(session, world):
    build_november(session, world)
    draft_monthly_reports(session, as_of=DRAFT_AT)
    return {key: _report_of(session, world, key) for key in ("anxian", "ningxian", "city")}


def _report_of(session, world, region, version=1) -> MonthlyReport:
    return session.execute(sa.select(MonthlyReport).where(
        MonthlyReport.region_id == world.regions[region].id, MonthlyReport.month == MONTH,
        MonthlyReport.version == version)).scalar_one()  # fmt: skip


def act(session, world, report_id, event, who, *, comment=None, at=AT, unreported=None):
    version = session.get(MonthlyReport, report_id).lock_version
    return report_transition(session, report_id=report_id, event=event,
                             actor=world.actors[who], version=version, as_of=at, comment=comment,
                             unreported=unreported)  # fmt: skip


def confirm_all(session, world, report_id):
    for who in ("li_na", "chen_jie", "qian_li"):
        act(session, world, report_id, ReportEvent.CONFIRM_PART, who, comment="本处室数据已核对")


def countersigned(session, world, report_id):
    confirm_all(session, world, report_id)
    act(session, world, report_id, ReportEvent.COMPILE, "qian_li")
    act(session, world, report_id, ReportEvent.COUNTERSIGN, "he_min", comment="同意报送")


def city_treasurer(session, world) -> int:
    """吴刚, 平川市财政局国库科: receives the counties' reports and compiles the city's."""
    unit = OrgUnit(code="410100-GK", name="平川市财政局国库科", kind=OrgKind.TREASURY,
                   region_id=world.regions["city"].id)  # fmt: skip
    session.add(unit)
    session.flush()
    user = create_user(session, username="wu_gang", full_name="吴刚", role=Role.TREASURY,
                       org_unit_id=unit.id, password=PASSWORD)  # fmt: skip
    world.users["wu_gang"] = user.id
    world.actors["wu_gang"] = load_actor(session, user.id)
    return user.id


def inbox(session, world, who):
    """The user's inbox messages about monthly reports (the scenario's cases send others)."""
    return session.execute(sa.select(Notification.subject, Notification.link).where(
        Notification.user_id == world.users[who], Notification.channel == Channel.INBOX,
        Notification.link.like("/reports/%")).order_by(Notification.id)).all()  # fmt: skip


def test_the_whole_chain_from_departments_to_the_province(session, world, drafted, monkeypatch):
    monkeypatch.setattr(report_effects, "get_settings",
                        lambda: Settings(_env_file=None, report_email_to=["gkc@czt.example.cn"]))  # fmt: skip
    report = drafted["anxian"]
    wu_gang = city_treasurer(session, world)
    # The draft job gave 安县 its departments: 农财股, 预算股 and the treasury itself.
    chain = read_chain(session, actor=world.actors["qian_li"], report_id=report.id)
    assert sorted(p.org_unit_name for p in chain.parts) == [
        "安县财政局农财股", "安县财政局国库股", "安县财政局预算股"]  # fmt: skip
    confirm_all(session, world, report.id)
    compiled = act(session, world, report.id, ReportEvent.COMPILE, "qian_li")
    assert compiled.to_status == ReportStatus.COMPILED
    signed = act(session, world, report.id, ReportEvent.COUNTERSIGN, "he_min", comment="同意报送")
    assert signed.to_status == ReportStatus.COUNTERSIGNED
    sent = act(session, world, report.id, ReportEvent.SEND, "qian_li")
    assert sent.to_status == ReportStatus.SENT and sent.lock_version == 7
    session.refresh(report)
    assert (report.compiled_by, report.countersigned_by, report.sent_by) == (
        world.users["qian_li"], world.users["he_min"], world.users["qian_li"])  # fmt: skip
    # A county reports to its city (报送市局): Wu Gang (平川市财政局国库科) finds it in his
    # inbox; the province (Xu Qing) reads it in the city's report, and Li Na is not told.
    subject = "安县2026年11月预警情况月报已报送市局（第1版）"
    told = session.execute(sa.select(Notification.subject, Notification.link).where(
        Notification.user_id == wu_gang, Notification.channel == Channel.INBOX)).all()  # fmt: skip
    assert told == [(subject, f"/reports/{report.id}/chain")]
    assert inbox(session, world, "xu_qing") == []
    assert inbox(session, world, "li_na") == []
    assert [e.label for e in read_chain(session, actor=world.actors["qian_li"],
                                        report_id=report.id).events][-1] == "报送市局"
    # One e-mail to the configured address, the PDF and XLSX to be attached when it goes.
    mail = session.execute(sa.select(Notification).where(
        Notification.channel == Channel.EMAIL)).scalar_one()  # fmt: skip
    assert mail.payload["to"] == "gkc@czt.example.cn"
    assert [a["format"] for a in mail.payload["attachments"]] == ["pdf", "xlsx"]
    # Every step is on the timeline, with who did it.
    events = session.execute(sa.select(MonthlyReportEvent.seq, MonthlyReportEvent.event).where(
        MonthlyReportEvent.report_id == report.id).order_by(MonthlyReportEvent.seq)).all()  # fmt: skip
    assert [e for _, e in events] == ["draft", "confirm_part", "confirm_part", "confirm_part",
                                      "compile", "countersign", "send"]  # fmt: skip
    assert [s for s, _ in events] == list(range(1, 8))
    # 我的月报: Xu Qing at the province sees it; Chen Jie sees it as his department has a part.
    assert report.id in {r.id for r in list_reports(session, actor=world.actors["xu_qing"])}
    assert report.id in {r.id for r in list_reports(session, actor=world.actors["chen_jie"])}


def test_sending_queues_a_push_for_each_active_parent_in_the_same_transaction(
    session, world, drafted
):
    parent = FederationPeer(deployment_id="zhongyuan-province", name="中原省财政厅",
                            relation=PeerRelation.PARENT, kid="k", public_pem="-",
                            base_url="https://yj.czt.example.cn")  # fmt: skip
    retired = FederationPeer(deployment_id="old-province", name="旧系统", relation=PeerRelation.PARENT,
                             kid="k", public_pem="-", base_url="https://old.example.cn", active=False)  # fmt: skip
    child = FederationPeer(deployment_id="ningxian", name="宁县", relation=PeerRelation.CHILD,
                           kid="k", public_pem="-")  # fmt: skip
    session.add_all([parent, retired, child])
    session.flush()
    report = drafted["anxian"]
    countersigned(session, world, report.id)
    assert act(session, world, report.id, ReportEvent.SEND, "qian_li").data["pushes"] == 1
    push = session.execute(sa.select(FederationPush)).scalar_one()
    assert (push.peer_id, push.report_id, push.status) == (parent.id, report.id, PushStatus.PENDING)
    payload = federation.report_payload(session, session.get(MonthlyReport, report.id))
    assert payload["region"]["code"] == "410121" and payload["month"] == "2026-11"
    assert payload["figures_sha256"] == session.get(MonthlyReport, report.id).figures_sha256


def test_compiling_waits_for_every_department(session, world, drafted):
    report = drafted["anxian"]
    act(session, world, report.id, ReportEvent.CONFIRM_PART, "li_na")
    with pytest.raises(InvalidState) as refused:
        act(session, world, report.id, ReportEvent.COMPILE, "qian_li")
    assert "安县财政局预算股" in refused.value.message and "国库股" in refused.value.message
    with pytest.raises(InvalidState, match="已确认"):
        act(session, world, report.id, ReportEvent.CONFIRM_PART, "wang_fang")  # same section


def test_figures_are_frozen_from_countersigning_on_while_drafts_follow_the_data(
    session, world, drafted
):
    anxian, ningxian = drafted["anxian"], drafted["ningxian"]
    countersigned(session, world, anxian.id)
    session.refresh(anxian)
    frozen, digest = anxian.figures, anxian.figures_sha256
    assert digest == federation.sha256_of(frozen)
    assert frozen["headline"]["cases"] == 7
    ningxian_before = session.get(MonthlyReport, ningxian.id).figures["headline"]["cases"]
    # Late-filed November warnings in both counties; the draft job runs again.
    new_case(session, world, "red", at=shanghai(11, 30))
    new_case(session, world, "red", region="ningxian", unit="ningxian_agri", assignee="zhao_lei",
             at=shanghai(11, 30))  # fmt: skip
    draft_monthly_reports(session, as_of=AT)
    now = compute_figures(session, region_id=anxian.region_id, month=MONTH, as_of=AT)
    assert now["headline"]["cases"] == 8  # the data did change …
    session.refresh(anxian)
    assert anxian.figures == frozen and anxian.figures_sha256 == digest  # … the report did not
    # Sending does not recompute either.
    act(session, world, anxian.id, ReportEvent.SEND, "qian_li")
    session.refresh(anxian)
    assert anxian.figures_sha256 == digest and anxian.figures["headline"]["cases"] == 7
    # 宁县's report is still a draft: it follows the data.
    assert (
        session.get(MonthlyReport, ningxian.id).figures["headline"]["cases"] == ningxian_before + 1
    )


def test_a_resubmission_is_a_new_version_with_a_reason_and_keeps_the_old(session, world, drafted):
    report = drafted["anxian"]
    countersigned(session, world, report.id)
    act(session, world, report.id, ReportEvent.SEND, "qian_li")
    version = session.get(MonthlyReport, report.id).lock_version
    with pytest.raises(InvalidInput) as empty:
        resubmit(session, report_id=report.id, actor=world.actors["qian_li"], version=version,
                 reason="  ", as_of=AT)  # fmt: skip
    assert empty.value.errors[0].field == "reason" and "原因" in empty.value.message
    result = resubmit(session, report_id=report.id, actor=world.actors["qian_li"],
                      version=version, reason="宁县移交案件统计口径更正", as_of=AT)  # fmt: skip
    old, new = _report_of(session, world, "anxian", 1), _report_of(session, world, "anxian", 2)
    assert result.new_report_id == new.id
    assert (old.status, old.sent_at is not None) == (ReportStatus.SUPERSEDED, True)
    assert (new.status, new.reason, new.lock_version) == (
        ReportStatus.DRAFTING, "宁县移交案件统计口径更正", 1)  # fmt: skip
    assert old.figures_sha256  # the superseded version keeps its frozen figures
    chain = read_chain(session, actor=world.actors["qian_li"], report_id=new.id)
    assert [v.version for v in chain.versions] == [1, 2]
    assert all(p.confirmed_by is None for p in chain.parts)  # departments confirm again
    with pytest.raises(InvalidState):
        act(session, world, old.id, ReportEvent.RESUBMIT, "qian_li", comment="再来一次")


def test_a_stale_version_is_refused_and_nothing_is_written(session, world, drafted):
    report = drafted["anxian"]
    stale = session.get(MonthlyReport, report.id).lock_version
    act(session, world, report.id, ReportEvent.CONFIRM_PART, "li_na")
    with pytest.raises(StaleVersion, match="刷新"):
        report_transition(session, report_id=report.id, event=ReportEvent.CONFIRM_PART,
                          actor=world.actors["chen_jie"], version=stale, as_of=AT)  # fmt: skip
    chain = read_chain(session, actor=world.actors["qian_li"], report_id=report.id)
    assert [p.confirmed_by for p in chain.parts if p.confirmed_by] == ["李娜"]


def test_roles_and_scope_are_checked(session, world, drafted):
    anxian, ningxian = drafted["anxian"], drafted["ningxian"]
    confirm_all(session, world, anxian.id)
    with pytest.raises(RoleNotAllowed, match="国库处"):
        act(session, world, anxian.id, ReportEvent.COMPILE, "he_min")
    with pytest.raises(RoleNotAllowed, match="不得混岗"):
        act(session, world, anxian.id, ReportEvent.COMPILE, "sun_hao")
    # Zhao Lei (宁县) and Qian Li acting on the other county's report.
    with pytest.raises(OutOfScope):
        act(session, world, anxian.id, ReportEvent.COMPILE, "zhao_lei")
    with pytest.raises(OutOfScope):
        act(session, world, ningxian.id, ReportEvent.CONFIRM_PART, "qian_li")
    # Xu Qing at the province may read the county's chain but not compile it.
    assert read_chain(session, actor=world.actors["xu_qing"], report_id=anxian.id).actions == []
    with pytest.raises(RoleNotAllowed):
        act(session, world, anxian.id, ReportEvent.COMPILE, "xu_qing")
    with pytest.raises(InvalidInput):
        act(session, world, anxian.id, "freeze_forever", "qian_li")
    actions = read_chain(session, actor=world.actors["qian_li"], report_id=anxian.id).actions
    assert [a.event for a in actions] == [ReportEvent.COMPILE]


def test_the_poverty_office_may_return_a_compiled_report_with_a_reason(session, world, drafted):
    report = drafted["anxian"]
    confirm_all(session, world, report.id)
    act(session, world, report.id, ReportEvent.COMPILE, "qian_li")
    with pytest.raises(InvalidInput):
        act(session, world, report.id, ReportEvent.RETURN, "he_min")
    back = act(session, world, report.id, ReportEvent.RETURN, "he_min", comment="整改金额需核对")
    assert back.to_status == ReportStatus.DRAFTING


def test_a_late_report_escalates_to_level_1_then_2_each_once(session, world, drafted):
    report = drafted["anxian"]
    assert report.due_on.isoformat() == "2026-12-07"  # the 5th working day
    assert escalate_late_reports(session, as_of=shanghai(12, 7, 18)).level1 == []
    first = escalate_late_reports(session, as_of=shanghai(12, 8))
    assert report.id in first.level1 and first.level2 == []
    assert escalate_late_reports(session, as_of=shanghai(12, 8, 15)).level1 == []  # once
    told = [s for s, _ in inbox(session, world, "qian_li")]
    assert told == ["安县2026年11月月报逾期未报（1级督办）"]
    assert inbox(session, world, "li_na") == []
    second = escalate_late_reports(session, as_of=shanghai(12, 10))
    assert report.id in second.level2 and second.level1 == []
    assert escalate_late_reports(session, as_of=shanghai(12, 11)).level2 == []
    session.refresh(report)
    assert report.escalation_level == 2
    chain = read_chain(session, actor=world.actors["qian_li"], report_id=report.id)
    assert [e.label for e in chain.events][-2:] == ["逾期未报督办（1级）", "逾期未报督办（2级）"]


def test_a_sent_report_does_not_escalate(session, world, drafted):
    report = drafted["anxian"]
    countersigned(session, world, report.id)
    act(session, world, report.id, ReportEvent.SEND, "qian_li")
    assert report.id not in escalate_late_reports(session, as_of=shanghai(12, 8)).level1


def test_province_recipients_are_province_level_offices(session, world):
    path = session.get(Region, world.regions["anxian"].id).path
    ids = set(federation.province_recipients(session, region_path=path))
    assert ids == {world.users[u] for u in ("xu_qing", "gao_jun")}


def test_the_provinces_own_report_is_built_from_what_its_children_sent(session, world, drafted):
    """中原省 compiles its report to the Ministry with 安县's signed report (received from the
    county's own deployment) beside its own figures; Zhou Hua is the province's treasurer."""
    from models import OrgUnit
    from models.enums import OrgKind, Role
    from tests.factories import PASSWORD
    from tests.workflows.federation.test_exchange import PROVINCE, Pair, claims
    from workflows.admin.accounts import create_user
    from workflows.core.actors import load_actor
    from workflows.federation.keys import PeerInput, generate_key, register_peer

    generate_key(session, actor=OPERATOR, as_of=AT)
    county = Pair()
    register_peer(session, actor=OPERATOR, data=PeerInput(
        deployment_id="anxian-county", name="安县财政局", relation=PeerRelation.CHILD,
        public_pem=county.public_pem, region_code="410121"), as_of=AT)  # fmt: skip
    figures = drafted["anxian"].figures
    for version in (1, 2):  # 安县 sent a second version: the latest one counts
        body = claims(jti=f"{version:032d}", iat=int(AT.timestamp()), exp=int(AT.timestamp()) + 300)
        body["report"] = {**body["report"], "version": version, "figures": figures,
                          "figures_sha256": federation.sha256_of(figures)}  # fmt: skip
        federation.receive_report(session, token=county.sign(body), as_of=AT, settings=PROVINCE)
    province = _report_of(session, world, "province")
    poverty = OrgUnit(code="410000-TP", name="中原省财政厅脱贫办", kind=OrgKind.POVERTY_OFFICE,
                      region_id=world.regions["province"].id)  # fmt: skip
    session.add(poverty)
    session.flush()
    for username, name, role, unit_id in [
        ("zhou_hua", "周华", Role.TREASURY, world.units["province_treasury"].id),
        ("wu_yan", "吴燕", Role.POVERTY_OFFICE, poverty.id),
    ]:
        user = create_user(session, username=username, full_name=name, role=role,
                           org_unit_id=unit_id, password=PASSWORD)  # fmt: skip
        world.actors[username] = load_actor(session, user.id)
    act(session, world, province.id, ReportEvent.CONFIRM_PART, "zhou_hua")
    # 平川市 has not sent its own report: compiling now names it as 未报.
    act(session, world, province.id, ReportEvent.COMPILE, "zhou_hua", unreported=["410100"])
    act(session, world, province.id, ReportEvent.COUNTERSIGN, "wu_yan")
    session.refresh(province)
    assert province.figures["unreported"] == [{"code": "410100", "name": "平川市"}]
    received = province.figures["received"]
    assert [(r["region"]["code"], r["version"]) for r in received["reports"]] == [("410121", 2)]
    assert received["totals"]["cases"] == figures["headline"]["cases"] == 7
    assert received["totals"]["amount_involved_yuan"] == "12345.67"
    assert province.figures_sha256 == federation.sha256_of(province.figures)
    # A county's report without children has no such section.
    assert "received" not in drafted["ningxian"].figures


PERSONAS = ("li_na", "chen_jie", "qian_li", "he_min", "xu_qing", "zhao_lei", "sun_hao")


def _expected(status, event, who, confirmed) -> ReportStatus | None:
    """The chain table read by hand: where (status, event) by this persona leads, or None."""
    role = {"li_na": "dept", "chen_jie": "dept", "qian_li": "treasury", "he_min": "poverty"}.get(
        who
    )
    table = {
        (ReportStatus.DRAFTING, ReportEvent.CONFIRM_PART): ("dept", "treasury"),
        (ReportStatus.DRAFTING, ReportEvent.COMPILE): ("treasury",),
        (ReportStatus.COMPILED, ReportEvent.RETURN): ("poverty", "treasury"),
        (ReportStatus.COMPILED, ReportEvent.COUNTERSIGN): ("poverty",),
        (ReportStatus.COUNTERSIGNED, ReportEvent.SEND): ("treasury",),
    }
    if role not in table.get((status, event), ()):
        return None
    if event == ReportEvent.CONFIRM_PART:
        return None if who in confirmed else ReportStatus.DRAFTING
    if event == ReportEvent.COMPILE and len(confirmed) < 3:
        return None
    return {ReportEvent.CONFIRM_PART: ReportStatus.DRAFTING, ReportEvent.COMPILE: ReportStatus.COMPILED,
            ReportEvent.RETURN: ReportStatus.DRAFTING, ReportEvent.COUNTERSIGN: ReportStatus.COUNTERSIGNED,
            ReportEvent.SEND: ReportStatus.SENT}[event]  # fmt: skip


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.tuples(st.sampled_from(PERSONAS),
                                st.sampled_from([e for e in ReportEvent if e not in (
                                    ReportEvent.ESCALATE, ReportEvent.CREATED, ReportEvent.RESUBMIT)])),
                      max_size=14))  # fmt: skip
def test_any_sequence_of_actions_follows_the_table_and_refusals_write_nothing(
    session, world, drafted, steps
):
    report_id = drafted["anxian"].id
    with session.begin_nested() as savepoint:
        status, version, confirmed = ReportStatus.DRAFTING, 1, set()
        for who, event in steps:
            expected = _expected(status, event, who, confirmed)
            try:
                act(session, world, report_id, event, who, comment="理由")
            except (InvalidState, RoleNotAllowed, OutOfScope, InvalidInput):
                assert expected is None, (who, event, status)
            else:
                assert expected is not None, (who, event, status)
                status, version = expected, version + 1
                if event == ReportEvent.CONFIRM_PART:
                    confirmed.add(who)
            report = session.get(MonthlyReport, report_id)
            session.refresh(report)
            assert (report.status, report.lock_version) == (status, version)
        events = session.execute(sa.select(sa.func.count()).where(
            MonthlyReportEvent.report_id == report_id)).scalar()  # fmt: skip
        assert events == version
        savepoint.rollback()
    # The chain writes with Core UPDATEs: loaded rows are not expired by the rollback.
    session.expire_all()
