"""How values read in Chinese documents: dates, money in 元 and 万元, masked accounts, labels.

Pure functions, used as Jinja2 filters by the pages and the PDF and directly by the
spreadsheets. A missing value prints as `empty` ("—" unless the caller wants a blank, e.g.
a date line still to be filled in by hand). Money is Decimal end to end; rounding is
half-up to the cent, as in accounting, never the banker's rounding of float or Decimal.
"""

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum
from typing import Any

import jinja2

from models.enums import escalation_words
from workflows.cases.detail import mask_account as masked_account
from workflows.core.calendar import LOCAL_TZ, chinese_date

DASH = "—"
CENT = Decimal("0.01")
TEN_THOUSAND = Decimal(10000)


def to_decimal(value: Any) -> Decimal | None:
    """Decimal from Decimal, int or numeric text; floats go through their shortest repr."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    if isinstance(value, int | str | float):
        try:
            return Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation as error:
            raise ValueError(f"not an amount: {value!r}") from error
    raise TypeError(f"not an amount: {value!r}")


def to_wan(amount: Any) -> Decimal | None:
    """元 → 万元, rounded half-up to two decimals (the number spreadsheets store)."""
    value = to_decimal(amount)
    if value is None:
        return None
    return (value / TEN_THOUSAND).quantize(CENT, rounding=ROUND_HALF_UP)


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def yuan(amount: Any, empty: str = DASH) -> str:
    """12345.675 → "12,345.68" (元, thousands separators, half-up)."""
    value = to_decimal(amount)
    return empty if value is None else _money(value)


def wan_yuan(amount: Any, empty: str = DASH) -> str:
    """12345.67 元 → "1.23" (万元, two decimals, half-up, thousands separators)."""
    value = to_wan(amount)
    return empty if value is None else f"{value:,.2f}"


def _local(dt: datetime) -> datetime:
    # Stored timestamps are UTC by construction; a naive one is taken as UTC too.
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(LOCAL_TZ)


def cn_date(value: date | datetime | None, empty: str = DASH) -> str:
    """date(2026, 11, 23) → "2026年11月23日"; a timestamp gives its date in Shanghai."""
    if value is None:
        return empty
    if isinstance(value, datetime):
        value = _local(value).date()
    return chinese_date(value)


def cn_datetime(value: datetime | None, empty: str = DASH) -> str:
    """A UTC timestamp → "2026年11月23日 09:00" in Asia/Shanghai."""
    if value is None:
        return empty
    if not isinstance(value, datetime):
        return cn_date(value, empty)
    local = _local(value)
    return f"{cn_date(local.date())} {local:%H:%M}"


def mask_account(account: str | None, empty: str = DASH) -> str:
    """"6222020200112233445" → "6222 **** **** 3445": only the first and last four show."""
    masked = masked_account(account)
    return empty if masked is None else masked


def label(value: Any, enum_cls: type[Enum] | None = None, empty: str = DASH) -> str:
    """The Chinese word for an enum member or its stored value; lists join with "、"."""
    if value is None or value == "":
        return empty
    if isinstance(value, list | tuple | set | frozenset):
        words = [label(v, enum_cls, empty="") for v in value]
        return "、".join(w for w in words if w) or empty
    if enum_cls is not None and not isinstance(value, enum_cls):
        try:
            value = enum_cls(value)
        except ValueError:
            return str(value)
    words = getattr(value, "label", None)
    if isinstance(words, str):
        return words
    return str(value.value if isinstance(value, Enum) else value)


def dash(value: Any, empty: str = DASH) -> Any:
    """The value, or "—" when it is missing or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return empty
    return value


FILTERS = {
    "cn_date": cn_date,
    "cn_datetime": cn_datetime,
    "yuan": yuan,
    "wan_yuan": wan_yuan,
    "mask_account": mask_account,
    "label": label,
    "dash": dash,
    "escalation_words": escalation_words,
}


def register_filters(env: jinja2.Environment) -> jinja2.Environment:
    """Make every formatter a filter: {{ case.amount|yuan }}, {{ slip.kind|label }}."""
    env.filters.update(FILTERS)
    return env
