"""The monthly summary's tables as data: Chinese headers and cells, once for every rendering.

The page and the PDF print the text of each cell; the XLSX writes the raw value (counts as
integers, rates as percentages, amounts in 万元 as numbers). Everything comes from the
figures dict (workflows/reporting/figures.py), never from the database again.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

DASH = "—"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "text"  # text | count | rate | wan | days | date | score

    @property
    def numeric(self) -> bool:
        return self.kind != "text" and self.kind != "date"


HEADLINE = [
    Column("cases", "本月在办预警（件）", "count"),
    Column("raised", "本月产生（件）", "count"),
    Column("resolved", "本月办结（件）", "count"),
    Column("open_at_end", "月末未办结（件）", "count"),
    Column("overdue", "月末超期（件）", "count"),
    Column("rectified", "本月整改完成（件）", "count"),
    Column("on_time_rate", "按期办结率", "rate"),
    Column("overdue_rate", "超期率", "rate"),
    Column("rectification_rate", "整改率", "rate"),
    Column("amount_paid_wan", "预警支付金额（万元）", "wan"),
    Column("amount_involved_wan", "涉及金额（万元）", "wan"),
    Column("amount_recovered_wan", "收回金额（万元）", "wan"),
    Column("median_verify_days", "核实用时中位数（工作日）", "days"),
    Column("median_rectify_days", "整改用时中位数（工作日）", "days"),
]
# The short form used per child region and per department.
HEADLINE_SHORT = [
    Column("cases", "在办", "count"),
    Column("raised", "产生", "count"),
    Column("resolved", "办结", "count"),
    Column("open_at_end", "未办结", "count"),
    Column("overdue", "超期", "count"),
    Column("on_time_rate", "按期办结率", "rate"),
    Column("overdue_rate", "超期率", "rate"),
    Column("rectification_rate", "整改率", "rate"),
    Column("amount_paid_wan", "支付金额（万元）", "wan"),
    Column("amount_involved_wan", "涉及金额（万元）", "wan"),
    Column("amount_recovered_wan", "收回金额（万元）", "wan"),
]
MATRIX = [
    Column("level_label", "预警级别"),
    Column("category_label", "规则分类"),
    Column("state_label", "月末状态"),
    Column("cases", "件数", "count"),
]
RULES = [
    Column("code", "规则编码"),
    Column("name", "规则名称"),
    Column("category_label", "规则分类"),
    Column("level_label", "预警级别"),
    Column("raised", "本月产生", "count"),
    Column("resolved", "本月办结", "count"),
    Column("open", "月末未办结", "count"),
    Column("overdue", "月末超期", "count"),
]
RULE_SUMS = ("raised", "resolved", "open", "overdue")
OVERDUE = [
    Column("number", "预警编号"),
    Column("rule_code", "规则编码"),
    Column("rule_name", "规则名称"),
    Column("region", "区划"),
    Column("department", "责任部门"),
    Column("due_on", "办理期限", "date"),
    Column("days_overdue", "超期（工作日）", "count"),
    Column("level_label", "预警级别"),
    Column("state_label", "月末状态"),
]


# Who a city's or the province's department lines also count (section 八).
BELOW_WORD = {"city": "区县", "province": "市县"}

def value(column: Column, raw: Any) -> Any:
    """The cell's value for a spreadsheet: int, Decimal (percent / 万元 / days), date or text."""
    if column.kind == "rate":
        percent = raw["percent"] if raw else None
        return None if percent is None else Decimal(percent)
    if column.kind in ("wan", "days", "score"):
        return None if raw is None else Decimal(raw)
    if column.kind == "count":
        return int(raw or 0)
    if column.kind == "date":
        return date.fromisoformat(raw) if raw else None
    return "" if raw is None else str(raw)


def text(column: Column, raw: Any) -> str:
    """The cell as printed."""
    if column.kind == "rate":
        percent = raw["percent"] if raw else None
        return DASH if percent is None else f"{percent}%"
    if column.kind == "date":
        d = date.fromisoformat(raw) if raw else None
        return DASH if d is None else f"{d.year}年{d.month}月{d.day}日"
    if raw is None or raw == "":
        return DASH
    if column.kind == "wan":
        return f"{Decimal(raw):,.2f}"
    return str(raw)


def rate_detail(raw: dict) -> str:
    """ "2/3" under a rate: what it was computed from."""
    return f"{raw['numerator']}/{raw['denominator']}"


def rule_totals(figures: dict) -> dict[str, int]:
    return {key: sum(int(r[key]) for r in figures["rules"]) for key in RULE_SUMS}


def pivot(figures: dict) -> dict:
    """Cases at month end as level/state rows × rule category columns, with totals."""
    categories = [(c["key"], c["label"]) for c in figures["by_category"]]
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for cell in figures["matrix"]:
        row = rows.setdefault((cell["level_label"], cell["state_label"]), {})
        row[cell["category"]] = row.get(cell["category"], 0) + int(cell["cases"])
    return {
        "headers": ["预警级别", "月末状态", *(label for _, label in categories), "合计"],
        "rows": [
            [level, state, *(row.get(key, 0) for key, _ in categories), sum(row.values())]
            for (level, state), row in rows.items()
        ],
        "totals": [
            *(sum(r.get(key, 0) for r in rows.values()) for key, _ in categories),
            sum(sum(r.values()) for r in rows.values()),
        ],
    }


OVERSIGHT = [
    ("inspections_opened", "本月开启专项督查（件）"),
    ("inspections_closed", "本月办结专项督查（件）"),
    ("interviews_opened", "本月开启约谈（件）"),
    ("interviews_closed", "本月办结约谈（件）"),
]


def streak_rows(figures: dict) -> list[list]:
    """[地区, 区划代码, 连续计入月数, 情形] for regions on the rule, then those one month short."""
    streaks = figures.get("streaks") or {}
    threshold = streaks.get("threshold", 3)
    rows = []
    for row in streaks.get("on_rule", []):
        rows.append([row["region"]["name"], row["region"]["code"], row["streak"],
                     f"连续{row['streak']}个月计入，达到{threshold}个月规则（专项督查）"])  # fmt: skip
    for row in streaks.get("warning", []):
        rows.append([row["region"]["name"], row["region"]["code"], row["streak"],
                     f"连续{row['streak']}个月计入，预警提示"])  # fmt: skip
    return rows


def child_status(child: dict) -> str:
    """How a child region's line came in (workflows/reporting/children.py)."""
    report = child.get("report") or {}
    status = report.get("status")
    if status == "sent":
        return f"已报送（第{report['version']}版）"
    if status == "received":
        return "下级系统报送"
    if status == "unreported":
        return "未报（系统数据）"
    return "系统数据"


def printable(figures: dict) -> dict:
    """Rows of text for the page and the PDF."""

    def rows(columns, records, source=lambda r: r):
        return [[text(c, source(r).get(c.key)) for c in columns] for r in records]

    headline = figures["headline"]
    return {
        "headline": [
            (
                c.header,
                text(c, headline.get(c.key)),
                rate_detail(headline[c.key]) if c.kind == "rate" else "",
            )
            for c in HEADLINE
        ],  # fmt: skip
        "matrix": rows(MATRIX, figures["matrix"]),
        "pivot": pivot(figures),
        "streaks": streak_rows(figures),
        "streaks_evaluated": bool((figures.get("streaks") or {}).get("evaluated")),
        "oversight": [
            (label, (figures.get("oversight") or {}).get(key)) for key, label in OVERSIGHT
        ],
        "matrix_total": sum(int(r["cases"]) for r in figures["matrix"]),
        "rules": rows(RULES, figures["rules"]),
        "rule_totals": rule_totals(figures),
        "overdue": rows(OVERDUE, figures["overdue_list"]["items"]),
        "children": [
            [
                c["region"]["name"],
                *(text(col, c["headline"].get(col.key)) for col in HEADLINE_SHORT),
                c["score"],
            ]
            for c in figures["children"]
        ],  # fmt: skip
        "children_status": [child_status(c) for c in figures["children"]],
        # Compiled before every child had sent: the 未报区县 (or 未报地市) named in the report.
        "unreported": "、".join(c["name"] for c in figures.get("unreported") or []),
        "child_word": figures.get("child_word") or "下级",
        "departments": [
            [
                d["org_unit"]["name"],
                *(text(col, d["headline"].get(col.key)) for col in HEADLINE_SHORT),
            ]
            for d in figures["departments"]
        ],  # fmt: skip
        "departments_note": (f"各部门数据含所辖{BELOW_WORD.get(figures['region']['level'], '下级')}同类部门。"
                             if any(d.get("includes_below") for d in figures["departments"]) else ""),
        "headers": {
            "matrix": [c.header for c in MATRIX],
            "rules": [c.header for c in RULES],
            "overdue": [c.header for c in OVERDUE],
            "short": [c.header for c in HEADLINE_SHORT],
            "numeric_matrix": [c.numeric for c in MATRIX],
            "numeric_rules": [c.numeric for c in RULES],
            "numeric_overdue": [c.numeric for c in OVERDUE],
        },
    }
