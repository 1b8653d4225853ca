"""Sun Hao enters a year from the State Council's notice: the real 2025 and 2026 notices read
day by day as chinesecalendar (the published schedule) has them, a made-up 2027 one saved
as overrides, and every doubtful text refused in Chinese, naming the line, saving nothing."""

from datetime import date, timedelta

import chinese_calendar
import pytest
from sqlmodel import select

from models import AuditEvent, CalendarDay
from models.enums import AuditKind, DayKind
from tests.factories import NOW
from tests.workflows.admin.notice_texts import NOTICE_2024, NOTICE_2025, NOTICE_2026, NOTICE_2027
from workflows.admin.calendar import set_calendar_day
from workflows.admin.notice import apply_notice, decode_notice, parse_notice
from workflows.core.calendar import load_calendar
from workflows.core.errors import InvalidInput


def official_days(year: int) -> dict[date, DayKind]:
    """What chinesecalendar says differs from Monday–Friday in `year`."""
    days, day = {}, date(year, 1, 1)
    while day.year == year:
        weekend = day.weekday() >= 5
        if chinese_calendar.is_holiday(day) and not weekend:
            days[day] = DayKind.HOLIDAY
        elif chinese_calendar.is_workday(day) and weekend:
            days[day] = DayKind.WORKDAY
        day += timedelta(days=1)
    return days


@pytest.mark.parametrize("text, year", [(NOTICE_2024, 2024), (NOTICE_2025, 2025), (NOTICE_2026, 2026)])
def test_the_real_notice_reads_day_by_day_as_the_published_calendar(text, year):
    notice = parse_notice(text)
    assert notice.year == year
    for entry in notice.holidays:
        assert chinese_calendar.is_holiday(entry.day), entry
    for entry in notice.workdays:
        assert chinese_calendar.is_workday(entry.day) and entry.day.weekday() >= 5, entry
    parsed = notice.by_day()
    for day, kind in official_days(year).items():
        assert day in parsed and parsed[day].kind == kind, (day, kind)
    # Exactly the days chinesecalendar lists for the year (weekend days of a holiday too).
    listed = {d: DayKind.HOLIDAY for d in chinese_calendar.holidays if d.year == year}
    listed |= {d: DayKind.WORKDAY for d in chinese_calendar.workdays if d.year == year}
    assert {d: e.kind for d, e in parsed.items()} == listed
    assert notice.warnings == ()


def test_2025_names_each_day_as_its_item_and_the_combined_national_day():
    notice = parse_notice(NOTICE_2025)
    days = notice.by_day()
    assert notice.items == ("元旦", "春节", "清明节", "劳动节", "端午节", "国庆节、中秋节")
    assert (days[date(2025, 1, 1)].name, days[date(2025, 1, 1)].line) == ("元旦", 6)
    assert days[date(2025, 1, 26)].name == "春节调休上班"
    assert days[date(2025, 2, 4)].kind == DayKind.HOLIDAY  # across the month: 1月28日至2月4日
    assert days[date(2025, 5, 5)].name == "劳动节"  # "至5日": the month of the first date
    assert days[date(2025, 6, 2)].name == "端午节"
    assert days[date(2025, 10, 6)].name == "国庆节、中秋节"
    assert (len(notice.holidays), len(notice.workdays)) == (28, 5)


def test_half_width_punctuation_and_one_long_line_read_the_same():
    half = NOTICE_2025.translate(str.maketrans("（）：，；　", "():,; "))
    one_line = "".join(NOTICE_2025.split())
    expected = [(e.day, e.kind, e.name) for e in parse_notice(NOTICE_2025).entries]
    for text in (half, one_line):
        assert [(e.day, e.kind, e.name) for e in parse_notice(text).entries] == expected


def test_the_year_comes_from_the_body_when_the_title_is_not_pasted():
    body = NOTICE_2026.split("\n", 3)[3]
    assert "关于" not in body
    assert parse_notice(body).year == 2026


def test_new_year_running_across_years_and_advice_that_is_not_a_holiday():
    # The 2023 notice's 元旦 and the 2024 notice's 除夕 advice.
    text = ("国务院办公厅关于2023年部分节假日安排的通知\n"
            "一、元旦：2022年12月31日至2023年1月2日放假调休，共3天。\n"
            "二、春节：1月21日至27日放假调休，共7天。1月28日（星期六）、1月29日（星期日）上班。"
            "鼓励各单位结合带薪年休假等制度落实，安排职工在除夕（1月20日）休息。\n")
    days = parse_notice(text).by_day()
    assert date(2022, 12, 31) in days and days[date(2023, 1, 2)].name == "元旦"
    assert date(2023, 1, 20) not in days
    assert [d for d, e in days.items() if e.kind == DayKind.WORKDAY] == [date(2023, 1, 28), date(2023, 1, 29)]
    assert len(days) == 3 + 7 + 2


def refusal(text) -> str:
    with pytest.raises(InvalidInput) as refused:
        parse_notice(text)
    [error] = refused.value.errors
    assert error.field == "notice"
    return error.message


def test_a_weekday_that_contradicts_its_date_is_refused_naming_the_line():
    wrong = NOTICE_2025.replace("4月27日（周日）", "4月27日（周六）")
    message = refusal(wrong)
    assert message == ("第 9 行“四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周六）上班。”："
                       "2025年4月27日是周日，通知中写的是周六，请核对年份和日期")
    # The 2026 notice pasted under a 2025 title: the weekdays give it away.
    assert "是周" in refusal(NOTICE_2026.replace("2026年", "2025年"))


def test_text_without_a_year_or_without_holidays_or_empty_is_refused_in_chinese():
    no_year = "一、元旦：1月1日（周三）放假1天，不调休。"
    assert refusal(no_year).startswith("未找到年份")
    assert refusal("国务院办公厅关于2027年部分节假日安排的通知\n各地区要妥善安排值班。").startswith("未识别到放假安排")
    assert refusal("   ").startswith("请粘贴")
    assert refusal(None).startswith("请粘贴")


def test_a_total_that_does_not_match_the_dates_is_refused():
    message = refusal(NOTICE_2025.replace("共8天。1月26日", "共7天。1月26日"))
    assert "春节放假日期共 8 天，与通知中的“共7天”不符" in message


def test_a_day_given_twice_and_a_date_without_a_month_are_refused():
    twice = NOTICE_2027.replace("4月25日（周日）", "2月20日（周六）")
    assert "已在第 6 行出现（春节调休上班）" in refusal(twice)
    assert "没有写月份" in refusal("关于2027年部分节假日安排的通知\n一、元旦：1日至3日放假，共3天。")
    assert "不是有效日期" in refusal("关于2027年部分节假日安排的通知\n一、元旦：2月30日放假1天。")


def test_a_title_and_a_body_of_different_years_are_refused():
    mixed = NOTICE_2026.replace("现将2026年", "现将2025年")
    assert "通知标题写的是 2026 年，正文写的是 2025 年" in refusal(mixed)


def test_a_day_an_item_repeats_counts_once():
    text = ("关于2027年部分节假日安排的通知\n"
            "一、国庆节：10月1日（周五）至3日（周日）放假，共3天。其中，10月1日（周五）放假。\n")
    assert [e.day.day for e in parse_notice(text).entries] == [1, 2, 3]


def test_a_working_day_that_is_already_one_is_read_with_a_warning():
    text = NOTICE_2027.replace("4月25日（周日）", "4月26日（周一）")
    [warning] = parse_notice(text).warnings
    assert "4月26日（周一）本来就是工作日" in warning


def test_an_upload_is_read_as_utf8_or_gb18030_and_anything_else_is_refused():
    assert decode_notice(NOTICE_2027.encode("utf-8-sig")) == NOTICE_2027
    assert decode_notice(NOTICE_2027.encode("gb18030")) == NOTICE_2027
    with pytest.raises(InvalidInput) as refused:
        decode_notice(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    assert refused.value.errors[0].field == "notice_file"
    assert "UTF-8" in refused.value.message


def test_sun_hao_applies_the_2027_notice_and_every_day_becomes_an_override(session, world):
    sun_hao = world.actors["sun_hao"]
    set_calendar_day(session, actor=sun_hao, day="2027-10-01", kind="holiday", name="国庆", as_of=NOW)
    notice = parse_notice(NOTICE_2027)
    result = apply_notice(session, actor=sun_hao, notice=notice, as_of=NOW)
    assert (result.year, result.holidays, result.workdays, result.replaced) == (2027, 29, 6, 1)
    rows = {r.day: r for r in session.exec(select(CalendarDay)).all()}
    assert {d: (r.kind, r.name) for d, r in rows.items()} == {
        e.day: (e.kind, e.name) for e in notice.entries}
    calendar = load_calendar(session)
    assert not calendar.is_working_day(date(2027, 2, 8))  # a Monday of 春节
    assert calendar.is_working_day(date(2027, 2, 20))  # a Saturday: 春节调休上班
    # The case: raised 2026-12-25 with 5 days was due on 元旦 (2027-01-01).
    assert calendar.add_working_days(date(2026, 12, 25), 5) == date(2027, 1, 4)
    summary = [e for e in session.exec(select(AuditEvent).where(
        AuditEvent.kind == AuditKind.CALENDAR_CHANGED)).all() if e.data["action"] == "import_notice"]
    assert [(e.data["year"], e.data["holidays"], e.data["workdays"], e.data["replaced"]) for e in summary] == [
        (2027, 29, 6, 1)]
    assert summary[0].actor_id == world.users["sun_hao"]
