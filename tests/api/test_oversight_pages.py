"""The oversight pages: Gao Jun works Anxian's inspection on its page, the streak warnings show
on the list and on the summary, and everyone can read the rule."""

import re

import pytest

from tests.api.test_pages_auth import csrf_of, page_login
from tests.workflows.oversight.test_cases import (
    REPORT,
    counting_month,
    m,
    open_inspection,
    run_job_for,
)


@pytest.fixture
def world(world, session):
    session.commit()
    return world


@pytest.fixture
def inspection(session, world):
    case = open_inspection(session, world)
    session.commit()
    return case


def post_form(client, case, form_id, **data):
    page = client.get(f"/oversight/{case.id}")
    form = page.text[page.text.index(f'id="{form_id}"') :]
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    event = re.search(r'name="event" value="(\w+)"', form).group(1)
    body = {"csrf_token": csrf_of(page.text), "version": version, "event": event, **data}
    return client.post(f"/oversight/{case.id}/transitions", data=body, follow_redirects=False)


def test_gao_jun_sees_the_list_and_the_case_page(client, inspection):
    page_login(client, "gao_jun")
    listed = client.get("/oversight")
    assert listed.status_code == 200
    assert inspection.number in listed.text and "专项督查" in listed.text
    assert "连续3个月存在未整改预警，已达到专项督查条件" in listed.text
    page = client.get(f"/oversight/{inspection.id}")
    assert page.status_code == 200
    assert "开始督查" in page.text and "立案" in page.text and "2026年8月至2026年10月" in page.text


def test_gao_jun_files_the_inspection_slip_on_the_page(client, session, inspection):
    page_login(client, "gao_jun")
    assert post_form(client, inspection, "form-start").status_code == 303
    missing = post_form(client, inspection, "form-submit_report", scope="安县", findings="")
    assert missing.status_code == 422
    assert "请填写督查发现" in missing.text and "请填写督查结论" in missing.text
    assert ">安县</textarea>" in missing.text  # the form comes back as typed
    done = post_form(client, inspection, "form-submit_report", **REPORT)
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "已提交督查报告" in page.text and REPORT["conclusion"] in page.text
    session.refresh(inspection)
    assert inspection.version == 3


def test_ma_lin_records_the_interview_and_its_commitments(client, session, world, inspection):
    from tests.workflows.oversight.test_cases import at, close_inspection, oversight

    close_inspection(session, world, inspection, at(2026, 11, 20))
    for month in (m(2026, 12), m(2027, 1)):
        counting_month(session, world, month)
        run_job_for(session, month)
    (_, interview) = oversight(session)
    session.commit()
    page_login(client, "ma_lin")
    refused = post_form(client, interview, "form-hold", interview_date="2027-02-20", place="省厅",
                        interviewee="王建国", attendees="马林、高军", minutes="纪要")  # fmt: skip
    assert refused.status_code == 422 and "参加人员须包括被约谈人（王建国）" in refused.text
    held = post_form(client, interview, "form-hold", interview_date="2027-02-20", place="省厅",
                     interviewee="王建国", attendees="马林、王建国", minutes="纪要")  # fmt: skip
    assert held.status_code == 303
    committed = post_form(client, interview, "form-record_commitments",
                          commitment_content_0="一个月内完成整改", commitment_due_on_0="2027-03-20")  # fmt: skip
    assert committed.status_code == 303
    page = client.get(f"/oversight/{interview.id}")
    assert "一个月内完成整改" in page.text and "整改跟踪中" in page.text


def test_everyone_reads_the_three_month_rule(client, world):
    page_login(client, "li_na")
    page = client.get("/oversight/rule")
    assert page.status_code == 200
    assert "三个月规则说明" in page.text and "WARNFLOW_STREAK_MONTHS" in page.text
    assert "黄灯或红灯" in page.text
    assert client.get("/oversight").status_code == 403


def test_the_summary_warns_of_two_month_streaks(client, session, world):
    for month in (m(2026, 9), m(2026, 10)):
        counting_month(session, world, month)
        run_job_for(session, month)
    session.commit()
    page_login(client, "zhang_wei")
    page = client.get("/summary")
    assert "连续2个月存在未整改预警" in page.text and "安县" in page.text


def test_an_inspection_past_its_deadline_is_marked_overdue_on_the_list(
    client, inspection, monkeypatch
):
    from datetime import UTC, datetime

    monkeypatch.setattr("api.pages.oversight.now_utc", lambda: datetime(2026, 12, 1, 2, tzinfo=UTC))
    page_login(client, "gao_jun")
    assert "2026年11月30日（已超期）" in client.get("/oversight").text
    monkeypatch.setattr(
        "api.pages.oversight.now_utc", lambda: datetime(2026, 11, 30, 2, tzinfo=UTC)
    )
    assert "已超期" not in client.get("/oversight").text
