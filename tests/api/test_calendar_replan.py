"""Sun Hao enters 元旦 2027 over the API and on the calendar page: Li Na's open deadline
moves, the answer and the page say how many cases moved, and a deadline in a year without
holiday data is marked provisional on the case page and in the case JSON."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models import Case
from models.enums import DayKind
from tests.api.test_admin_pages import post_form
from tests.api.test_pages_auth import page_login
from tests.factories import new_case
from workflows.admin.calendar import set_calendar_day
from workflows.core.calendar import load_calendar


def at(y, m, d, hour=9) -> datetime:
    return datetime(y, m, d, hour - 8, 0, tzinfo=UTC)


@pytest.fixture
def numbers(world, session):
    """Two of Li Na's cases: one due in 2026, one (raised on Christmas) due in 2027."""
    inside = new_case(session, world, "yellow", at=at(2026, 11, 23))
    across = new_case(session, world, "yellow", at=at(2026, 12, 25))
    session.commit()
    return {key: session.get(Case, case_id).number for key, case_id in (("inside", inside), ("across", across))}


def test_the_case_json_says_when_a_deadline_is_provisional(numbers, client, login):
    li_na = login("li_na")
    across = client.get(f"/api/v1/cases/{numbers['across']}", headers=li_na).json()
    assert across["due_on"] == "2027-01-01" and across["deadline_provisional"] is True
    assert "2027 年尚无法定节假日安排" in across["deadline_note"]
    inside = client.get(f"/api/v1/cases/{numbers['inside']}", headers=li_na).json()
    assert inside["deadline_provisional"] is False and inside["deadline_note"] is None


def test_sun_hao_enters_yuandan_and_the_answer_counts_the_cases_it_moved(numbers, client, login):
    put = client.put("/api/v1/admin/calendar/2027-01-01", json={"kind": "holiday", "name": "元旦"},
                     headers=login("sun_hao"))  # fmt: skip
    assert put.status_code == 200, put.text
    assert put.json()["cases_replanned"] == 1 and put.json()["escalations_withdrawn"] == 0
    case = client.get(f"/api/v1/cases/{numbers['across']}", headers=login("li_na")).json()
    assert case["due_on"] == "2027-01-04"
    assert case["timeline"][-1]["event_label"] == "节假日调整期限"
    assert case["timeline"][-1]["comment"] == "节假日调整，期限由 2027年1月1日 调整为 2027年1月4日"
    # 2027 still lacks 春节 and the rest: the deadline stays provisional until they are entered.
    assert case["deadline_provisional"] is True


def test_the_calendar_page_names_what_2027_lacks_and_what_a_change_moved(numbers, world, client):
    assert page_login(client, "sun_hao").status_code == 303
    page = client.get("/admin/calendar?year=2027").text
    assert "2027 年尚无国家法定节假日数据" in page
    assert "尚未录入：元旦、春节、清明节、劳动节、端午节、中秋节、国庆节" in page
    assert "尚无国家法定节假日数据" not in client.get("/admin/calendar?year=2026").text

    response = post_form(client, "/admin/calendar?year=2027", "/admin/calendar",
                         {"day": "2027-01-01", "kind": "holiday", "name": "元旦", "year": "2027"})  # fmt: skip
    assert response.status_code == 303
    after = client.get(response.headers["location"]).text
    assert "已按新的工作日历调整 1 件在办案件的办理期限" in after
    assert "尚未录入：春节、清明节" in after

    client.cookies.clear()
    assert page_login(client, "li_na").status_code == 303
    case_page = client.get(f"/cases/{numbers['across']}").text
    assert "2027年1月4日" in case_page and "节假日调整，期限由 2027年1月1日 调整为 2027年1月4日" in case_page
    assert "暂定" in case_page and "2027 年尚无法定节假日安排" in case_page


def test_a_change_committed_by_another_process_applies_at_once(cli_db, world_on_file):
    """Two engines on one database stand for two processes: no 30-second wait."""
    first, second = sa.create_engine(cli_db), sa.create_engine(cli_db)
    try:
        with Session(first) as reader:
            assert load_calendar(reader).is_working_day(date(2027, 1, 1))  # now cached
        with Session(second) as writer:
            set_calendar_day(writer, actor=world_on_file, day=date(2027, 1, 1), kind=DayKind.HOLIDAY,
                             name="元旦", as_of=at(2026, 12, 1))  # fmt: skip
            writer.commit()
        with Session(first) as reader:
            assert not load_calendar(reader).is_working_day(date(2027, 1, 1))
    finally:
        first.dispose()
        second.dispose()


@pytest.fixture
def world_on_file(cli_db):
    from workflows.core.actors import Actor

    return Actor.system()
