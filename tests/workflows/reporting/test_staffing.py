"""Every region that reports has the people its monthly report's chain needs: in the demo,
all 11 (province, 2 cities, 8 counties) do; in the test world 宁县 has no treasury or
poverty-office account (tests/api/test_chain_staffing.py, where the admin page and the
jobs list say so)."""

import pytest
import sqlalchemy as sa

from models import OrgUnit, Region, User
from models.enums import RegionLevel, Role
from tests.demo_province import demo_session
from workflows.reporting.staffing import chain_gaps


@pytest.fixture(scope="module")
def demo(engine):
    yield from demo_session(engine)


def test_every_reporting_region_of_the_demo_can_move_its_report(demo):
    assert chain_gaps(demo) == []
    reporting = demo.execute(sa.select(sa.func.count()).where(
        Region.level.in_([RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY]))).scalar_one()
    assert reporting == 11
    for role in (Role.TREASURY, Role.POVERTY_OFFICE):
        regions = demo.execute(sa.select(sa.func.count(sa.distinct(OrgUnit.region_id)))
                               .join(User, User.org_unit_id == OrgUnit.id)
                               .where(User.role == role, User.is_active.is_(True))).scalar_one()
        assert regions == 11, role


def test_revoking_a_county_treasurer_names_the_county(demo):
    nested = demo.begin_nested()
    try:
        demo.execute(sa.update(User).where(User.username == "gk419122").values(is_active=False))
        gaps = chain_gaps(demo)
        assert [(g.region_name, g.missing) for g in gaps] == [("宁县", ("无国库账户（汇总、报送）",))]
    finally:
        nested.rollback()


def test_the_city_report_has_departments_with_cases(demo):
    """Section 各部门情况 of 平川市's report: its own departments handle its own-level cases."""
    from models import MonthlyReport

    city = demo.execute(sa.select(Region.id).where(Region.code == "419100")).scalar_one()
    figures = demo.execute(sa.select(MonthlyReport.figures).where(
        MonthlyReport.region_id == city)).scalar_one()  # fmt: skip
    assert sum(d["headline"]["cases"] for d in figures["departments"]) > 0
