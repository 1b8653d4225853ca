"""The letterhead of an export names the province at the root of the exporter's scope."""

from models import Region
from models.enums import RegionLevel, Role
from tests.factories import NOW
from workflows.core.actors import Actor
from workflows.core.letterhead import letterhead_for


def _second_province(session) -> Region:
    # Added after 中原省, and with a smaller code: neither "first row" nor "lowest code" is right.
    region = Region(code="400000", name="江汉省", level=RegionLevel.PROVINCE, path="/400000/")
    session.add(region)
    session.flush()
    return region


def test_li_nas_letterhead_names_her_province_and_unit(session, world):
    _second_province(session)
    head = letterhead_for(session, world.actors["li_na"], as_of=NOW)
    assert (head.province, head.unit) == ("中原省", "安县财政局农财股")
    assert head.title("财政扶贫资金动态监控预警跟踪表") == "中原省财政扶贫资金动态监控预警跟踪表"
    assert head.made_on.isoformat() == "2026-11-23"


def test_a_user_of_the_second_province_gets_that_province(session, world):
    _second_province(session)
    actor = Actor(user_id=None, role=Role.PROVINCE, org_unit_id=None, region_path="/400000/", name="省厅")
    assert letterhead_for(session, actor, as_of=NOW).province == "江汉省"


def test_a_scope_over_several_provinces_names_none(session, world):
    operator = Actor.operator("ops")
    assert letterhead_for(session, operator, as_of=NOW).province == "中原省"  # the only one
    _second_province(session)
    assert letterhead_for(session, operator, as_of=NOW).province == ""
