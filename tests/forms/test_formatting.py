"""What users read: dates, amounts in 元 and 万元, masked accounts and Chinese labels."""

from datetime import UTC, date, datetime
from decimal import Decimal

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forms.formatting import (
    cn_date,
    cn_datetime,
    dash,
    label,
    mask_account,
    register_filters,
    to_wan,
    wan_yuan,
    yuan,
)
from models.enums import Conclusion, Level, State, VerifyMethod


def test_dates_read_the_chinese_way():
    assert cn_date(date(2026, 11, 23)) == "2026年11月23日"
    assert cn_date(date(2026, 1, 5)) == "2026年1月5日"
    assert cn_date(None) == "—"
    assert cn_date(None, empty="") == ""


def test_timestamps_are_shown_in_shanghai_time():
    at = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert cn_datetime(at) == "2026年11月23日 09:00"
    # 17:30 UTC is already the next day in Shanghai.
    late = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
    assert cn_datetime(late) == "2026年11月23日 01:30"
    assert cn_date(late) == "2026年11月23日"
    # Naive values come from SQLite and are UTC.
    assert cn_datetime(datetime(2026, 11, 23, 1, 0)) == "2026年11月23日 09:00"
    assert cn_datetime(None) == "—"


def test_amounts_in_yuan_have_thousands_separators_and_round_half_up():
    assert yuan(Decimal("12345.67")) == "12,345.67"
    assert yuan(Decimal("1234567.5")) == "1,234,567.50"
    assert yuan(Decimal("0.005")) == "0.01"
    assert yuan(Decimal("2.675")) == "2.68"  # a float would give 2.67
    assert yuan(Decimal("-1234.5")) == "-1,234.50"
    assert yuan(0) == "0.00"
    assert yuan("9876.5") == "9,876.50"
    assert yuan(None) == "—"
    assert yuan(None, empty="") == ""


def test_amounts_in_wan_yuan_are_yuan_over_ten_thousand_rounded_half_up():
    assert wan_yuan(Decimal("12345.67")) == "1.23"
    assert wan_yuan(Decimal("15000")) == "1.50"
    assert wan_yuan(Decimal("125")) == "0.01"  # 0.0125 → 0.01
    assert wan_yuan(Decimal("150")) == "0.02"  # 0.015 → 0.02, half-up not half-even
    assert wan_yuan(Decimal("250")) == "0.03"  # 0.025 → 0.03
    assert wan_yuan(Decimal("123456789.00")) == "12,345.68"
    assert wan_yuan(None) == "—"
    assert to_wan(Decimal("150")) == Decimal("0.02")
    assert to_wan(None) is None


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_wan_yuan_is_never_more_than_half_a_cent_off(amount):
    wan = to_wan(amount)
    assert abs(wan * 10000 - amount) <= Decimal("50")
    assert wan_yuan(amount) == f"{wan:,.2f}"


def test_not_an_amount_is_refused():
    with pytest.raises(ValueError):
        yuan("abc")
    with pytest.raises(TypeError):
        yuan(True)


def test_accounts_show_only_their_first_and_last_four_digits():
    assert mask_account("6222020200112233445") == "6222 **** **** 3445"
    assert mask_account("6222 0202 0011 2233") == "6222 **** **** 2233"
    assert mask_account("41001-5020-1100-9988") == "4100 **** **** 9988"
    assert mask_account("12345678") == "**** 5678"
    assert mask_account("123") == "***"
    assert mask_account("") == "—"
    assert mask_account(None) == "—"


def test_enum_values_read_as_their_chinese_label():
    assert label(Level.RED_LIGHT) == "红灯"
    assert label("violation", Conclusion) == "违规"
    assert label(State.GREEN) == "绿灯（已办结）"
    assert label(["phone", "documents"], VerifyMethod) == "电话核实、调阅材料"
    assert label([], VerifyMethod) == "—"
    assert label("unknown", VerifyMethod) == "unknown"
    assert label(None) == "—"
    assert label("plain text") == "plain text"


def test_blank_values_read_as_a_dash():
    assert dash(None) == "—"
    assert dash("  ") == "—"
    assert dash("x") == "x"
    assert dash(0) == 0


def test_templates_use_the_formatters_as_filters_with_escaping_on():
    env = register_filters(jinja2.Environment(autoescape=True))
    out = env.from_string(
        "{{ d|cn_date }} {{ a|yuan }} {{ a|wan_yuan }} {{ acct|mask_account }} "
        "{{ lv|label }} {{ c|label }} {{ s|dash }}"
    ).render(
        d=date(2026, 11, 23),
        a=Decimal("12345.67"),
        acct="6222020200112233445",
        lv=Level.YELLOW_BELL,
        c=Conclusion.NORMAL,
        s="<b>",
    )
    assert out == "2026年11月23日 12,345.67 1.23 6222 **** **** 3445 黄色警铃 正常 &lt;b&gt;"
