"""Spot checks (issue 14 §3; Henan art. 13): Gao Jun draws two of Anxian's four rectified red
lights with a recorded seed; anyone can redo the draw; a failed check sends a case back
to Li Na for rectification (the draw is read by the province that made it)."""

import random
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import select

from models import Case, CaseEvent
from models.enums import Event, Resolution, State
from tests.factories import new_case

CLOSED = datetime(2026, 11, 16, 2, tzinfo=UTC)


def rectified_red_lights(session, world, n=4):
    ids = []
    for _ in range(n):
        case_id = new_case(session, world, "red")
        session.execute(sa.update(Case).where(Case.id == case_id).values(
            state=State.GREEN, resolution=Resolution.RECTIFIED, closed_at=CLOSED, updated_at=CLOSED,
            due_on=None))
        ids.append(case_id)
    # Not eligible: a yellow light closed as normal.
    other = new_case(session, world, "yellow")
    session.execute(sa.update(Case).where(Case.id == other).values(
        state=State.GREEN, resolution=Resolution.NORMAL, closed_at=CLOSED))
    session.commit()
    return ids


DRAW = {"sample_size": 2, "closed_from": "2026-11-01", "closed_until": "2026-11-30", "seed": "见证人-张三-20261201"}


def test_the_draw_is_recorded_and_can_be_redone(world, client, login, session):
    population = rectified_red_lights(session, world)
    assert client.post("/api/v1/spot-checks", json=DRAW, headers=login("li_na")).status_code == 403
    drawn = client.post("/api/v1/spot-checks", json=DRAW, headers=login("gao_jun"))
    assert drawn.status_code == 201, drawn.text
    body = drawn.json()
    assert body["population"] == sorted(population) and body["seed"] == DRAW["seed"]
    assert body["picked"] == sorted(random.Random(DRAW["seed"]).sample(sorted(population), 2))
    assert body["replays"] is True and len(body["checks"]) == 2
    assert {c["result"] for c in body["checks"]} == {"pending"}
    # Without a seed the system chooses one, and keeps it.
    unseeded = client.post("/api/v1/spot-checks", json={**DRAW, "seed": None}, headers=login("gao_jun")).json()
    assert len(unseeded["seed"]) == 32 and unseeded["replays"] is True
    read = client.get(f"/api/v1/spot-checks/{body['id']}", headers=login("xu_qing"))
    assert read.status_code == 200 and read.json()["picked"] == body["picked"]


def test_a_failed_check_reopens_the_case(world, client, login, session):
    rectified_red_lights(session, world)
    body = client.post("/api/v1/spot-checks", json=DRAW, headers=login("gao_jun")).json()
    passed, failed = body["checks"]
    empty = client.post(f"/api/v1/spot-checks/checks/{passed['id']}", headers=login("gao_jun"),
                        json={"version": 1, "passed": True, "findings": " "})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "findings"
    ok = client.post(f"/api/v1/spot-checks/checks/{passed['id']}", headers=login("gao_jun"),
                     json={"version": 1, "passed": True, "findings": "整改资料齐全，资金已收回"})
    assert ok.status_code == 200
    stale = client.post(f"/api/v1/spot-checks/checks/{failed['id']}", headers=login("gao_jun"),
                        json={"version": 0, "passed": False, "findings": "x"})
    assert stale.status_code == 409
    bad = client.post(f"/api/v1/spot-checks/checks/{failed['id']}", headers=login("gao_jun"),
                      json={"version": 1, "passed": False, "findings": "收回资金未入账，整改不实"})
    assert bad.status_code == 200, bad.text
    results = {c["case_id"]: c["result"] for c in bad.json()["checks"]}
    assert results == {passed["case_id"]: "passed", failed["case_id"]: "failed"}
    session.expire_all()
    reopened = session.get(Case, failed["case_id"])
    assert (reopened.state, reopened.resolution, reopened.closed_at) == (State.RECTIFYING, None, None)
    assert reopened.due_on is not None and reopened.assignee_id == world.users["li_na"]
    event = session.exec(select(CaseEvent).where(CaseEvent.case_id == reopened.id,
                                                 CaseEvent.seq == reopened.version)).one()
    assert event.event == Event.REOPEN and "整改不实" in event.comment
    assert session.get(Case, passed["case_id"]).state == State.GREEN
    again = client.post(f"/api/v1/spot-checks/checks/{failed['id']}", headers=login("gao_jun"),
                        json={"version": 2, "passed": True, "findings": "再次"})
    assert again.status_code == 409
    # Li Na sees it back in her work.
    case = client.get(f"/api/v1/cases/{reopened.number}", headers=login("li_na")).json()
    assert case["state"] == "rectifying"


def test_a_draw_needs_a_finished_period_with_cases(world, client, login, session):
    assert client.post("/api/v1/spot-checks", json=DRAW, headers=login("gao_jun")).json()["errors"][0]["code"] == \
        "nothing_to_draw"
    future = client.post("/api/v1/spot-checks", json={**DRAW, "closed_until": "2099-01-01"}, headers=login("gao_jun"))
    assert future.json()["errors"][0]["code"] == "not_over"
    zero = client.post("/api/v1/spot-checks", json={**DRAW, "sample_size": 0}, headers=login("gao_jun"))
    assert zero.json()["errors"][0]["field"] == "sample_size"


def test_the_spot_check_pages_draw_and_record(world, client, session):
    from tests.api.test_pages_auth import csrf_of, page_login

    rectified_red_lights(session, world)
    page_login(client, "gao_jun")
    page = client.get("/oversight/spot-checks")
    assert 'id="draw-form"' in page.text
    drawn = client.post("/oversight/spot-checks", follow_redirects=False, data={
        "csrf_token": csrf_of(page.text), "closed_from": "2026-11-01", "closed_until": "2026-11-30",
        "sample_size": "1", "seed": "公开抽取"})
    assert drawn.status_code == 303
    detail = client.get(drawn.headers["location"])
    assert "用同一种子重新抽取，结果一致" in detail.text and "公开抽取" in detail.text
    action = next(part.split('"', 1)[0] for part in detail.text.split('action="')[1:] if "/checks/" in part)
    done = client.post(action, follow_redirects=False, data={
        "csrf_token": csrf_of(detail.text), "version": "1", "passed": "0", "findings": "整改不实"})
    assert done.status_code == 303
    assert "抽查未通过" in client.get(drawn.headers["location"]).text
