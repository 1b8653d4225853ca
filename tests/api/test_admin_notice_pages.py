"""Sun Hao pastes (or uploads) the State Council's notice on 工作日历, checks the month grid
and saves; a text that cannot be read comes back with the Chinese message and what he typed,
and saving reads the text again rather than trusting the preview."""

import html as html_lib
import re
from datetime import date

import pytest
from sqlmodel import select

from models import AuditEvent, CalendarDay
from models.enums import AuditKind, DayKind
from tests.api.test_admin_pages import field_error, post_form
from tests.api.test_pages_auth import csrf_of, page_login
from tests.workflows.admin.notice_texts import NOTICE_2025, NOTICE_2027


@pytest.fixture
def world(world, session):
    session.commit()  # a refused request rolls the shared session back; the world stays
    return world


@pytest.fixture
def sun_hao(world, client):
    assert page_login(client, "sun_hao").status_code == 303
    return client


def overrides(session) -> dict[date, tuple[DayKind, str]]:
    session.expire_all()
    return {r.day: (DayKind(r.kind), r.name) for r in session.exec(select(CalendarDay)).all()}


def hidden_text(html: str) -> str:
    match = re.search(r'<textarea name="notice" hidden aria-hidden="true">(.*?)</textarea>', html, re.S)
    return html_lib.unescape(match.group(1))


def cell(html: str, day: str) -> str:
    match = re.search(rf'<td class="([^"]*)" data-day="{day}" data-kind="([^"]*)"', html)
    return match.group(2) if match else ""


def test_the_calendar_page_offers_the_notice_form(world, sun_hao):
    page = sun_hao.get("/admin/calendar").text
    assert "按国务院办公厅通知录入" in page
    assert 'action="/admin/calendar/notice" enctype="multipart/form-data"' in page


def test_sun_hao_previews_the_2027_notice_on_a_month_grid_then_saves_it(world, sun_hao, session):
    preview = post_form(sun_hao, "/admin/calendar", "/admin/calendar/notice", {"notice": NOTICE_2027})
    assert preview.status_code == 200
    html = preview.text
    assert "核对 2027 年节假日安排" in html
    assert "放假 <strong>29</strong> 天、调休上班 <strong>6</strong> 天" in html
    assert html.count('<table class="month"') == 12
    assert (cell(html, "2027-02-08"), cell(html, "2027-02-20"), cell(html, "2027-02-27"),
            cell(html, "2027-02-26")) == ("holiday", "workday", "weekend", "")
    assert 'title="国庆节"' in html and "内置的国家日历没有 2027 年的数据" in html
    assert overrides(session) == {}  # nothing saved before confirming
    assert hidden_text(html).strip() == NOTICE_2027.strip()

    saved = sun_hao.post("/admin/calendar/notice/save",
                         data={"notice": hidden_text(html), "csrf_token": csrf_of(html)},
                         follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/calendar?year=2027&done=notice_saved&moved=0"
    page = sun_hao.get(saved.headers["location"]).text
    assert "已按国务院办公厅通知保存全年节假日和调休上班日" in page and "春节调休上班" in page
    days = overrides(session)
    assert len(days) == 35 and days[date(2027, 10, 7)] == (DayKind.HOLIDAY, "国庆节")
    [summary] = [e for e in session.exec(select(AuditEvent).where(
        AuditEvent.kind == AuditKind.CALENDAR_CHANGED)).all() if e.data["action"] == "import_notice"]
    assert summary.actor_id == world.users["sun_hao"] and summary.data["holidays"] == 29


def test_an_uploaded_gbk_file_is_read_and_the_preview_names_what_it_replaces(world, sun_hao, session):
    post_form(sun_hao, "/admin/calendar", "/admin/calendar",
              {"day": "2027-10-01", "kind": "holiday", "name": "国庆", "year": "2027"})
    post_form(sun_hao, "/admin/calendar", "/admin/calendar",
              {"day": "2027-12-31", "kind": "holiday", "name": "县庆放假", "year": "2027"})
    files = {"notice_file": ("2027年节假日安排.txt", NOTICE_2027.encode("gbk"), "text/plain")}
    preview = post_form(sun_hao, "/admin/calendar", "/admin/calendar/notice", {"notice": ""}, files=files)
    assert preview.status_code == 200, preview.text
    assert "以下 1 天已有管理员调整，保存后按通知替换：2027年10月1日（原为节假日：国庆）" in preview.text
    assert "本年另有 1 天管理员调整不在通知中，保存后保留不变：2027年12月31日 县庆放假" in preview.text


def test_the_real_2025_notice_agrees_with_the_built_in_calendar(world, sun_hao):
    preview = post_form(sun_hao, "/admin/calendar", "/admin/calendar/notice", {"notice": NOTICE_2025})
    assert preview.status_code == 200 and "与内置的国家日历逐日一致" in preview.text
    assert cell(preview.text, "2025-10-06") == "holiday"


def test_a_notice_that_disagrees_with_the_built_in_calendar_says_where(world, sun_hao):
    moved = NOTICE_2025.replace("10月11日（周六）上班", "10月12日（周日）上班")
    preview = post_form(sun_hao, "/admin/calendar", "/admin/calendar/notice", {"notice": moved})
    assert preview.status_code == 200
    assert ("与内置的国家日历有 2 天不一致，请核对通知原文：2025年10月11日（国家日历：工作日（调休上班），"
            "通知：普通日）；2025年10月12日（国家日历：普通日，通知：工作日（调休上班））") in preview.text


def test_saving_reads_the_text_again_and_a_changed_text_is_refused(world, sun_hao, session):
    wrong = NOTICE_2027.replace("5月8日（周六）", "5月8日（周五）")
    refused = post_form(sun_hao, "/admin/calendar", "/admin/calendar/notice/save", {"notice": wrong})
    assert refused.status_code == 422
    assert "2027年5月8日是周六，通知中写的是周五" in field_error(refused.text, "notice")
    assert overrides(session) == {}


@pytest.mark.parametrize("text, message", [
    ("", "请粘贴国务院办公厅节假日安排通知的全文，或上传通知的文本文件"),
    ("一、元旦：1月1日（周五）至3日（周日）放假，共3天。", "未找到年份"),
    ("国务院办公厅关于2027年部分节假日安排的通知\n节假日期间，各地区要妥善安排好值班。", "未识别到放假安排"),
    (NOTICE_2027.replace("1月31日（周日）", "1月31日（周一）"), "第 6 行“二、春节"),
])
def test_a_text_that_cannot_be_read_comes_back_with_the_message_and_the_text_kept(
        world, sun_hao, session, text, message):
    response = post_form(sun_hao, "/admin/calendar", "/admin/calendar/notice", {"notice": text})
    assert response.status_code == 422
    assert message in field_error(response.text, "notice")
    if text:
        kept = re.search(r'<textarea name="notice"[^>]*>(.*?)</textarea>', response.text, re.S).group(1)
        assert kept.strip()[:20] == text.strip()[:20]
    assert overrides(session) == {}


def test_a_binary_upload_is_refused_next_to_the_file_field(world, sun_hao, session):
    files = {"notice_file": ("通知.pdf", b"%PDF-1.7\n\x00\xff\xfe\x00binary", "application/pdf")}
    response = post_form(sun_hao, "/admin/calendar", "/admin/calendar/notice", {"notice": "打字的内容"},
                         files=files)
    assert response.status_code == 422
    assert "编码既不是 UTF-8 也不是 GB18030/GBK" in field_error(response.text, "notice_file")
    assert "打字的内容" in response.text
    assert overrides(session) == {}


def test_back_from_the_preview_keeps_the_text_and_a_post_without_csrf_is_refused(world, sun_hao, session):
    back = post_form(sun_hao, "/admin/calendar", "/admin/calendar/notice/edit", {"notice": NOTICE_2027})
    assert back.status_code == 200 and "一、元旦：1月1日（周五）至3日（周日）放假" in back.text
    forged = sun_hao.post("/admin/calendar/notice/save", data={"notice": NOTICE_2027}, follow_redirects=False)
    assert forged.status_code == 403
    assert overrides(session) == {}


def test_a_handler_cannot_save_a_notice(world, client, session):
    page_login(client, "li_na")
    response = client.post("/admin/calendar/notice/save", data={"notice": NOTICE_2027,
                                                                "csrf_token": "x"}, follow_redirects=False)
    assert response.status_code == 403
    assert overrides(session) == {}
