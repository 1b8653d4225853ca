"""Regions that handle warnings slowly (issue 14 §3; Changchun art. 18, 23): in November Anxian
closed its warning on time, Ningxian closed one late and let another pass its deadline; Xu Qing
of the province issues the 通报, which reaches Ningxian's section head."""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlmodel import select

from models import Case, CaseEvent
from models.enums import Event, Resolution, State
from models.notifications import Notification
from models.oversight import CirculatedNotice
from tests.api.test_pages_auth import csrf_of, page_login
from tests.factories import new_case

NOVEMBER = date(2026, 11, 1)


def closed_case(session, world, *, region, unit, who, due, done):
    case_id = new_case(session, world, region=region, unit=unit, assignee=who,
                       at=datetime(2026, 11, 2, 1, tzinfo=UTC))
    session.execute(sa.update(CaseEvent).where(CaseEvent.case_id == case_id).values(due_on=due))
    session.add(CaseEvent(case_id=case_id, seq=2, event=Event.COMPLETE_DUTY, from_state=State.YELLOW_BELL,
                          to_state=State.GREEN, actor_id=world.users[who], actor_role="handler", at=done))
    session.execute(sa.update(Case).where(Case.id == case_id).values(
        state=State.GREEN, resolution=Resolution.NORMAL, closed_at=done, updated_at=done, version=2, due_on=None))
    return case_id


def november(session, world):
    closed_case(session, world, region="anxian", unit="anxian_agri", who="li_na",
                due=date(2026, 11, 10), done=datetime(2026, 11, 9, 2, tzinfo=UTC))
    closed_case(session, world, region="ningxian", unit="ningxian_agri", who="zhao_lei",
                due=date(2026, 11, 10), done=datetime(2026, 11, 16, 2, tzinfo=UTC))
    overdue = new_case(session, world, region="ningxian", unit="ningxian_agri", assignee="zhao_lei",
                       at=datetime(2026, 11, 3, 1, tzinfo=UTC))
    session.execute(sa.update(Case).where(Case.id == overdue).values(due_on=date(2026, 11, 20)))
    session.commit()


def test_ningxian_is_listed_below_the_rate_and_anxian_is_not(world, client, login, session):
    november(session, world)
    rows = client.get("/api/v1/oversight/slow-regions", params={"month": "2026-11-01"},
                      headers=login("gao_jun")).json()
    assert [(r["region_name"], r["closed"], r["on_time"], r["overdue_open"], r["rate"]) for r in rows] == [
        ("宁县", 1, 0, 1, 0.0)]


def test_xu_qing_issues_the_notice_once_and_ningxian_reads_it(world, client, login, session, tmp_path):
    november(session, world)
    assert client.post("/api/v1/oversight/notices", json={"month": "2026-11-01"},
                       headers=login("ma_lin")).status_code == 403
    issued = client.post("/api/v1/oversight/notices", json={"month": "2026-11-01"}, headers=login("xu_qing"))
    assert issued.status_code == 201, issued.text
    assert [r["region_name"] for r in issued.json()["regions"]] == ["宁县"]
    again = client.post("/api/v1/oversight/notices", json={"month": "2026-11-01"}, headers=login("xu_qing"))
    assert again.status_code == 409
    told = session.exec(select(Notification.user_id).where(
        Notification.link == f"/oversight/notices/{issued.json()['id']}")).all()
    assert set(told) == {world.users["ningxian_boss"]}
    pdf = client.get(f"/api/v1/oversight/notices/{issued.json()['id']}/pdf", headers=login("qian_li"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    import subprocess
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
    for words in ("通报", "2026年11月", "宁县", "0.0%", "中原省财政厅（盖章）"):
        assert words in text, words


def test_an_unfinished_month_or_a_month_without_slow_regions_is_not_circulated(world, client, login, session):
    assert client.post("/api/v1/oversight/notices", json={"month": "2026-11-01"},
                       headers=login("xu_qing")).json()["errors"][0]["code"] == "none_slow"
    assert client.post("/api/v1/oversight/notices", json={"month": "2099-01-01"},
                       headers=login("xu_qing")).json()["errors"][0]["code"] == "not_over"
    assert session.exec(select(CirculatedNotice)).first() is None


def test_the_slow_regions_page_issues_the_notice(world, client, session):
    november(session, world)
    page_login(client, "xu_qing")
    page = client.get("/oversight/slow", params={"month": "2026-11"})
    assert "宁县" in page.text and 'id="issue-notice-form"' in page.text
    done = client.post("/oversight/notices", data={"csrf_token": csrf_of(page.text), "month": "2026-11"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert client.get(done.headers["location"]).headers["content-type"] == "application/pdf"
