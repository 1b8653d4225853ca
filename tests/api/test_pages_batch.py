"""One slip for many cases from the batch page: all of them, or none; and the summary page."""

import re

import pytest

from models import Case
from models.enums import Event
from tests.api.test_pages_auth import csrf_of, page_login
from tests.api.test_pages_cases import VIOLATION
from tests.factories import NOW, new_case
from workflows.cases.transition import transition


@pytest.fixture
def world(world, session):
    # A refused request rolls the shared session back; commit the world so that it stays.
    session.commit()
    return world


def test_li_na_files_one_verification_slip_for_two_cases(world, session, client):
    ids = [new_case(session, world, "yellow") for _ in range(2)]
    session.commit()
    page_login(client, "li_na")
    page = client.get("/batch")
    assert page.status_code == 200
    boxes = re.findall(r'name="case" value="(\d+:\d+)"', page.text)
    assert len(boxes) == 2
    response = client.post("/batch", data={"csrf_token": csrf_of(page.text), "kind": "verification",
                                           "case": boxes, **VIOLATION, "amount_basis": "per_case"},
                           follow_redirects=False)
    assert response.status_code == 303
    assert "已为 2 条预警提交一张核实处理单" in client.get(response.headers["location"]).text
    for case_id in ids:
        session.expire_all()
        assert session.get(Case, case_id).state == "red_light"


def test_one_blocked_case_stops_the_whole_batch_and_is_named(world, session, client):
    ready = new_case(session, world, "yellow")
    blocked = new_case(session, world, "red")  # a red light cannot take a verification slip
    numbers = {cid: session.get(Case, cid).number for cid in (ready, blocked)}
    session.commit()
    page_login(client, "li_na")
    page = client.get("/batch")
    response = client.post("/batch", data={
        "csrf_token": csrf_of(page.text), "kind": "verification",
        "case": [f"{ready}:1", f"{blocked}:1"], **VIOLATION,
    })
    assert response.status_code == 409
    assert "全部未提交" in response.text
    refused = response.text[response.text.index('id="refused"'):]
    assert numbers[blocked] in refused[:600] and numbers[ready] not in refused[:600]
    # What she typed is still there, and her choice too.
    assert "经电话核实并调阅拨付凭证" in response.text
    assert f'value="{ready}:1" aria-label="选择 {numbers[ready]}" checked' in response.text
    session.expire_all()
    assert session.get(Case, ready).state == "yellow_light"
    assert session.get(Case, ready).version == 1


def test_a_batch_with_nothing_ticked_says_so(world, session, client):
    new_case(session, world, "yellow")
    session.commit()
    page_login(client, "li_na")
    page = client.get("/batch")
    response = client.post("/batch", data={"csrf_token": csrf_of(page.text), "kind": "verification",
                                           **VIOLATION})
    assert response.status_code == 422 and "请至少选择一条预警" in response.text


def test_the_rule_summary_counts_the_cases_in_scope_and_exports(world, session, client):
    case_id = new_case(session, world, "yellow")
    transition(session, case_id=case_id, event=Event.START_VERIFY, actor=world.actors["li_na"],
               version=1, as_of=NOW)
    new_case(session, world, "red")
    session.commit()
    page_login(client, "liu_yang")
    page = client.get("/summary")
    assert page.status_code == 200
    assert "支付用途可疑" in page.text and "单笔提现金额超限" in page.text and "合计" in page.text
    assert "2.47" in page.text  # two cases of 12,345.67 元 in 万元
    export = client.get("/summary/export.xlsx")
    assert export.status_code == 200 and export.content[:2] == b"PK"
