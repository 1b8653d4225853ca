"""Constrained types for path, query and body values the database stores.

A value the database cannot hold (an id ≥ 2^63) or a date written as a number must be refused
as input (422 naming the field), not reach the database and come back as a 5xx."""

import re
from datetime import date
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import BeforeValidator, StrictBool
from pydantic_core import PydanticCustomError

# The largest value of a signed 64-bit column (BIGINT on PostgreSQL, INTEGER on SQLite).
MAX_INT = 2**63 - 1

# A record's id or version: positive and within a 64-bit column.
Id = Annotated[int, Ge(1), Le(MAX_INT)]
# A count or page size that may be zero.
Count = Annotated[int, Ge(0), Le(MAX_INT)]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    # Pydantic reads a bare number as a Unix timestamp: /calendar/0 would mean 1970-01-01.
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise PydanticCustomError("date_parsing", "Input should be a date in YYYY-MM-DD")
    return value


# A calendar date written YYYY-MM-DD, nothing else.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
# A calendar year the working calendar can cover.
Year = Annotated[int, Ge(1900), Le(2100)]
# true/false only: 0, 1, "yes" are not booleans in a JSON body.
Bool = StrictBool
