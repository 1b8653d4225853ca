"""What the API's answers share: each is built from the workflows object it describes,
by attribute (`Model.model_validate(obj, from_attributes=True)`), never copied field by
field, so that a field added to a workflows row reaches the answer by naming it once."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


class Answer(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _month_text(value: Any) -> Any:
    return f"{value:%Y-%m}" if isinstance(value, date) else value


def _json_fields(value: Any) -> Any:
    # Money as a string with two decimals, never a float.
    if isinstance(value, dict):
        return {k: (f"{v:.2f}" if isinstance(v, Decimal) else v) for k, v in value.items()}
    return value


# A month as the API writes it: "2026-11" (workflows name months by their first day).
MonthText = Annotated[str, BeforeValidator(_month_text)]
# Form fields as JSON: amounts as "1234.50".
JsonFields = Annotated[dict[str, Any], BeforeValidator(_json_fields)]
