"""What a file can hold (数据导入的类别): a kind names its columns, their synonyms, and the
workflow that takes its rows. The kinds themselves are in warnings.py and users.py; the
registry the import page, the API, the CLI and the template read is catalog.py.

A kind turns one row into the item its workflow takes (for warnings: the JSON shape of
POST /api/v1/warnings/import), so a file and a JSON batch go through the same checks.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from models.enums import Level, WarningType
from workflows.core.actors import Actor
from workflows.imports.files import (
    CellError,
    cell_amount,
    cell_date,
    cell_datetime,
    cell_text,
    header_key,
)

# Columns of our own error report: a report re-uploaded as it is imports its fixed rows.
REPORT_COLUMNS = ("原行号", "出错列", "错误值", "错误原因")


@dataclass(frozen=True)
class Column:
    field: str  # where the value goes in the item, dotted ("facts.amount")
    label: str  # the template's header
    synonyms: tuple[str, ...] = ()
    required: bool = False
    parse: str = "text"  # text | amount | datetime | date | level | warning_type
    example: Any = None
    help: str = ""
    # Header key -> scale, for amounts whose header says 万元.
    scales: dict[str, int] = field(default_factory=dict)


@dataclass
class BatchOutcome:
    """What the kind's workflow did with one chunk of items."""

    created: int = 0
    updated: int = 0
    duplicates: int = 0
    suppressed: int = 0
    stripped: int = 0
    # (index in the chunk, field, message)
    errors: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    columns: tuple[Column, ...]
    roles_note: str
    write: Callable[[Session, Actor, list[dict], datetime, str], BatchOutcome]
    # Accounts go by application (workflows/admin/applications.py); in bulk only as the go-live
    # roster loaded on the server (`warnflow import users`, like the `warnflow users add`
    # bootstrap), never by an administrator or the integration account.
    system_only: bool = False
    # Rows per committed chunk: small enough that progress moves about every second,
    # large enough that each chunk's fixed lookups (rules, regions, loads) stay a few percent.
    chunk: int = 1_000

    def column_index(self) -> dict[str, tuple[Column, int]]:
        """Header key -> (column, scale) for every name and synonym."""
        index: dict[str, tuple[Column, int]] = {}
        for column in self.columns:
            for name in (column.label, *column.synonyms):
                key = header_key(name)
                index[key] = (column, column.scales.get(key, 1))
        return index

    def label_of(self, field_name: str) -> str | None:
        for column in self.columns:
            if column.field == field_name:
                return column.label
        return None


def _level(value: Any) -> str | None:
    text = cell_text(value)
    if text is None:
        return None
    for level in (Level.YELLOW_BELL, Level.YELLOW_LIGHT, Level.RED_LIGHT):
        if text in (level.label, level.value):
            return level.value
    raise CellError("应为 黄色警铃、黄灯 或 红灯")


def _warning_type(value: Any) -> str | None:
    text = cell_text(value)
    if text is None:
        return None
    for kind in WarningType:
        if text in (kind.label, kind.value):
            return kind.value
    raise CellError("不是可选的预警类型")


def _parser(column: Column, scale: int) -> Callable[[Any], Any]:
    """What reads this column's cells. Values go to the workflow as Python objects
    (datetime, date, Decimal), which its validation takes as they are."""
    match column.parse:
        case "amount":
            return lambda value: cell_amount(value, scale)
        case "datetime":
            return cell_datetime
        case "date":
            return cell_date
        case "level":
            return _level
        case "warning_type":
            return _warning_type
        case _:
            return cell_text


class RowReader:
    """Turns the rows of one file into the items its kind's workflow takes; built once per
    file from its header, so each row is one pass over prepared (position, parser) pairs."""

    def __init__(self, kind: "Kind", header: list[str]):
        index = kind.column_index()
        self.header = header
        self.known: list[tuple[int, str, str | None, str, Callable[[Any], Any]]] = []
        self.other: list[tuple[int, str]] = []
        for position, name in enumerate(header):
            mapped = index.get(header_key(name))
            if mapped is None:
                if name and name not in REPORT_COLUMNS:
                    self.other.append((position, name))
                continue
            column, scale = mapped
            parent, _, leaf = column.field.rpartition(".")
            self.known.append((position, name, parent or None, leaf, _parser(column, scale)))
        self.unknown = [name for _, name in self.other]
        # Which header of this file a field came from, to name it in the error report.
        self.header_of = {}
        for _, name, parent, leaf, _ in self.known:
            self.header_of.setdefault(f"{parent}.{leaf}" if parent else leaf, name)

    def item(self, cells: list[Any]) -> tuple[dict, list[tuple[str, str, str]]]:
        """One row as an item, and its cell errors (header, value, message). Columns the
        kind does not know go into the item's payload under their header."""
        item: dict[str, Any] = {}
        errors: list[tuple[str, str, str]] = []
        width = len(cells)
        for position, name, parent, leaf, parse in self.known:
            value = cells[position] if position < width else None
            if value is None or value == "":
                continue
            try:
                parsed = parse(value)
            except CellError as error:
                errors.append((name, str(value), f"{name}：{error}"))
                continue
            if parsed is None:
                continue
            if parent is None:
                item[leaf] = parsed
            else:
                item.setdefault(parent, {})[leaf] = parsed
        if self.other:
            payload = {}
            for position, name in self.other:
                text = cell_text(cells[position]) if position < width else None
                if text is not None:
                    payload[name] = text
            if payload:
                item["payload"] = payload
        return item, errors
