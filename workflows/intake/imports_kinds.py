"""What a file can hold (数据导入的类别): its columns, their synonyms, and the workflow that
takes its rows. The import page, the API, the CLI and the template all read this registry.

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
from workflows.intake.files import (
    CellError,
    cell_amount,
    cell_date,
    cell_datetime,
    cell_text,
    header_key,
)
from workflows.intake.imports import import_warnings

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
    # Accounts are opened by administrators only (不得混岗), not the integration account.
    admins_only: bool = False
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


def _write_warnings(session: Session, actor: Actor, items: list[dict], as_of: datetime,
                    source: str) -> BatchOutcome:
    for item in items:
        item.setdefault("source", source)
    result = import_warnings(session, actor=actor, items=items, as_of=as_of)
    return BatchOutcome(
        created=result.created, duplicates=result.duplicates, suppressed=result.whitelisted,
        stripped=result.stripped,
        errors=[(e["index"], e["field"], e["message"]) for e in result.errors],
    )


WARNINGS = Kind(
    name="warnings",
    label="预警",
    roles_note="其他列原样保存在预警的其他要素中。按（来源系统, 预警编号）去重：同一文件再次导入不会重复建档。",
    write=_write_warnings,
    columns=(
        Column("external_id", "预警编号", ("外部编号", "预警单号", "预警ID"), required=True,
               example="W-20261123-0001", help="监控平台给出的预警编号，同一来源内唯一"),
        Column("rule_code", "规则编码", ("规则代码", "预警规则编码", "规则编号"), required=True,
               example="ZC-001", help="监控规则的编码，须为系统中已有的规则"),
        Column("region_code", "区划代码", ("行政区划", "行政区划代码", "区划编码"), required=True,
               example="410121", help="预警发生地的行政区划代码"),
        Column("raised_at", "预警产生时间", ("预警时间", "产生时间", "预警日期"), required=True,
               parse="datetime", example="2026-11-23 08:30:00",
               help="北京时间；可写 2026-11-23、2026/11/23、2026年11月23日 或 20261123"),
        Column("level", "预警级别", ("级别",), parse="level", example="黄灯",
               help="黄色警铃、黄灯 或 红灯；不填则取规则的级别"),
        Column("department_code", "处室编码", ("主管处室编码",), example="",
               help="不填则按预警类型分派到区划内负责的处室"),
        Column("warning_type", "预警类型", (), parse="warning_type", example="",
               help="不填则取规则的类型；可选：" + "、".join(t.label for t in WarningType)),
        Column("source", "来源系统", ("来源",), example="",
               help="不填则为导入时选择的来源"),
        Column("duty_due_on", "履职截止日期", (), parse="date", example="",
               help="黄色警铃的履职截止日期；不填则按规则的提前天数计算"),
        Column("facts.fund_name", "资金名称", (), example="中央财政衔接推进乡村振兴补助资金"),
        Column("facts.indicator_doc_no", "指标文件号", ("指标文号", "指标文件"), example="豫财农〔2026〕12号"),
        Column("facts.payer_name", "付款人名称", ("付款人", "付款单位"), example="安县财政局"),
        Column("facts.payee_name", "收款人名称", ("收款人", "收款单位", "受款人"), example="安县城关镇农民专业合作社"),
        Column("facts.payee_account", "收款人账户", ("收款人账号", "收款账号", "收款账户"), example="6222020200112233445",
               help="请设为文本格式，以免 Excel 把长数字改成科学计数法"),
        Column("facts.amount", "金额（元）", ("金额", "支付金额", "支付金额（元）", "金额（万元）", "支付金额（万元）"),
               parse="amount", example="50000.00",
               help="以元为单位；表头写“万元”的列按万元换算；可带千分位逗号",
               scales={header_key("金额（万元）"): 10_000, header_key("支付金额（万元）"): 10_000}),
        Column("facts.payment_date", "支付日期", ("支付时间",), parse="date", example="2026-11-18"),
        Column("facts.purpose", "用途", ("支付用途", "资金用途"), example="产业扶持资金"),
    ),
)

def _users() -> Kind:
    # Imported here, not at the top: imports_users builds on this module's Column and
    # BatchOutcome, so the registry at the bottom is the one place that joins the two.
    from workflows.intake.imports_users import COLUMNS, write_users

    return Kind(name="users", label="账户", columns=COLUMNS, write=write_users, chunk=500,
                roles_note="其他列不导入。用户名已存在的行按本行变更该账户；新开通的账户须由管理员重置密码后交给本人。",
                admins_only=True)


KINDS: dict[str, Kind] = {WARNINGS.name: WARNINGS}
KINDS["users"] = _users()
