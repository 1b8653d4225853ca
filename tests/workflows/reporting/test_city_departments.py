"""Section 八 (各部门情况) of 平川市's November report counts its counties' departments too: the
city's 农业科 answers for 安县's and 宁县's 农财股 (Li Na's six cases, Zhao Lei's G), its 预算科
for 安县预算股 (Chen Jie's F), not zeros. Checked against counts written in plain SQL."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from forms.report_tables import printable
from models import Case, MonthlyReport, OrgUnit, Region
from models.enums import OrgKind
from tests.monthly_scenario import DRAFT_AT, MONTH, build_november
from workflows.reporting.chain_reads import report_chain
from workflows.reporting.drafts import draft_monthly_reports
from workflows.reporting.figures import compute_figures

# November 2026 in Shanghai, as UTC.
START, END = datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC)


@pytest.fixture
def city_departments(session, world):
    for key, code, name, kind in [("city_agri", "410100-NC", "平川市财政局农业科", OrgKind.AGRI_FINANCE),
                                  ("city_budget", "410100-YS", "平川市财政局预算科", OrgKind.BUDGET)]:
        unit = OrgUnit(code=code, name=name, kind=kind, region_id=world.regions["city"].id)
        session.add(unit)
        session.flush()
        world.units[key] = unit
    build_november(session, world)
    return world


def sql_counts(session, city_path: str, kind: OrgKind) -> tuple[int, int]:
    """(in scope, raised) for this kind of department in the city and below, by hand."""
    base = (sa.select(sa.func.count()).select_from(Case)
            .join(OrgUnit, OrgUnit.id == Case.org_unit_id).join(Region, Region.id == Case.region_id)
            .where(Region.path.like(city_path + "%"), OrgUnit.kind == kind))
    in_scope = session.execute(base.where(
        Case.raised_at < END, sa.or_(Case.closed_at.is_(None), Case.closed_at >= START))).scalar_one()
    raised = session.execute(base.where(Case.raised_at >= START, Case.raised_at < END)).scalar_one()
    return in_scope, raised


def test_the_city_s_departments_count_their_counties_departments(session, city_departments):
    world = city_departments
    city = world.regions["city"]
    figures = compute_figures(session, region_id=city.id, month=MONTH, as_of=DRAFT_AT)
    rows = {d["org_unit"]["code"]: d for d in figures["departments"]}
    assert list(rows) == ["410100-NC", "410100-YS"]
    for code, kind in (("410100-NC", OrgKind.AGRI_FINANCE), ("410100-YS", OrgKind.BUDGET)):
        in_scope, raised = sql_counts(session, city.path, kind)
        headline = rows[code]["headline"]
        assert (headline["cases"], headline["raised"]) == (in_scope, raised), code
        assert rows[code]["includes_below"] is True
        # The city's own departments hold none themselves: what their heads confirm.
        assert rows[code]["own"]["cases"] == 0
    assert rows["410100-NC"]["headline"]["cases"] == 7  # A B C D H I (安县) and G (宁县)
    assert rows["410100-YS"]["headline"]["cases"] == 1  # F
    # A county's lines stay its own departments'.
    county = compute_figures(session, region_id=world.regions["anxian"].id, month=MONTH, as_of=DRAFT_AT)
    agri = next(d for d in county["departments"] if d["org_unit"]["code"] == "410121-NC")
    assert agri["includes_below"] is False and agri["headline"] == agri["own"]
    tables = printable(figures)
    assert tables["departments_note"] == "各部门数据含所辖区县同类部门。"
    assert [row[0] for row in tables["departments"]] == ["平川市财政局农业科", "平川市财政局预算科"]


def test_the_drafted_city_report_keeps_them_and_the_confirm_step_shows_the_own_part(session, city_departments):
    world = city_departments
    draft_monthly_reports(session, as_of=DRAFT_AT)

    report = session.execute(sa.select(MonthlyReport).where(
        MonthlyReport.region_id == world.regions["city"].id, MonthlyReport.month == MONTH)).scalar_one()
    agri = next(d for d in report.figures["departments"] if d["org_unit"]["code"] == "410100-NC")
    assert agri["headline"]["cases"] == sql_counts(session, world.regions["city"].path, OrgKind.AGRI_FINANCE)[0]
    chain = report_chain(session, actor=world.actors["xu_qing"], report_id=report.id)
    part = next(p for p in chain.parts if p.org_unit_code == "410100-NC")
    assert part.headline["cases"] == 0
