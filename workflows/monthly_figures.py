"""The monthly summary's figures (Changchun art. 24, Henan art. 17, 19 and 20) and the job
that drafts every region's summary on the first working day of the month.

`compute_figures` answers for one region (with its descendants); `figures_for_all` answers
for every region at once from the same few GROUP BY statements (workflows/monthly_queries.py),
rolling the region tree up in Python. The result is plain JSON (schema "warnflow.monthly/1"):
Decimals as strings, dates ISO, every rate with its numerator and denominator, and the
definitions printed with it.
"""

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlmodel import Session

from models import OrgUnit, Region, Rule
from models.enums import STATE_LEVEL, Level, OrgKind, RegionLevel, Resolution, RuleCategory, State
from models.settings import get_settings

from .calendar import LOCAL_TZ, WorkingCalendar, load_calendar, local_date
from .errors import InvalidInput, NotFound
from .monthly_queries import (
    ClosedCase,
    GroupRow,
    Window,
    closed_cases,
    group_rows,
    overdue_heads,
    slip_amounts,
)

SCHEMA = "warnflow.monthly/1"
RED_OPEN = frozenset({State.RED_LIGHT, State.RECTIFYING, State.RECTIFICATION_REVIEW})
# Org units that answer for their own cases and confirm their part of the summary.
DEPARTMENT_KINDS = frozenset({OrgKind.BUDGET, OrgKind.AGRI_FINANCE, OrgKind.TREASURY})
REPORT_LEVELS = (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)
WEIGHT_KEYS = ("on_time", "rectification", "overdue")
TEN_THOUSAND = Decimal(10000)
CENT = Decimal("0.01")

DEFINITIONS = {
    "scope": "统计范围：月初仍未办结或本月产生的预警，按月末（北京时间月末 24:00）的状态统计。",
    "raised": "本月产生：产生时间在本月内的预警。",
    "resolved": "本月办结：本月内办结（认定正常、整改完成、警铃解除或移交）的预警。",
    "overdue": "月末超期：月末仍未办结，且当前环节办理期限早于月末最后一天的预警。",
    "on_time_rate": "按期办结率 = 本月办结且从未因逾期升级督办的预警数 ÷ 本月办结的预警数。",
    "overdue_rate": "超期率 = 月末超期未办结的预警数 ÷ 月末未办结的预警数。",
    "rectification_rate": (
        "整改率 = 本月整改完成的预警数 ÷（本月整改完成的预警数 + 月末仍处于红灯待整改、"
        "整改中、整改待审核的预警数）。"
    ),
    "amounts": (
        "涉及金额：本月填报、结论为违规的核实处理单所列涉及金额；收回金额：本月填报的整改处理单"
        "所列收回金额。批量处理单只计一次。单位万元，保留两位小数。"
    ),
    "durations": (
        "核实用时：本月办结的预警自产生至首次提交核实处理单的工作日数；整改用时：本月整改完成的"
        "预警自转为红灯至整改审核通过的工作日数；均取中位数，按工作日历（含调休）计算。"
    ),
    "empty_rate": "分母为零时该比率记为“—”，计算考核得分时按 100% 计。",
}


# -- the month ------------------------------------------------------------------------


def month_start(month: date) -> date:
    return date(month.year, month.month, 1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return (month_start(month) - timedelta(days=1)).replace(day=1)


def _window(month: date, as_of: datetime) -> Window:
    first = month_start(month)
    following = next_month(first)
    start = datetime(first.year, first.month, 1, tzinfo=LOCAL_TZ).astimezone(UTC)
    end = datetime(following.year, following.month, 1, tzinfo=LOCAL_TZ).astimezone(UTC)
    if start >= as_of:
        raise InvalidInput.single(
            "month", "month_not_started", f"{first:%Y年%m月}尚未开始，不能生成该月的月报"
        )
    cut = min(end, as_of)
    last_day = following - timedelta(days=1)
    return Window(
        start, cut, first, last_day, min(last_day, local_date(cut - timedelta(microseconds=1)))
    )


def first_working_day(calendar: WorkingCalendar, month: date) -> date:
    return calendar.next_working_day(month_start(month))


def is_first_working_day(calendar: WorkingCalendar, day: date) -> bool:
    return day == first_working_day(calendar, day)


def fifth_working_day(calendar: WorkingCalendar, month: date) -> date:
    return calendar.add_working_days(month_start(month) - timedelta(days=1), 5)


class _WorkdayIndex:
    """Working days between two dates by subtraction: one pass over the span, no loop per case."""

    def __init__(self, calendar: WorkingCalendar, first: date, last: date):
        self.first = first
        self.cumulative = []
        running = 0
        for offset in range((last - first).days + 1):
            running += calendar.is_working_day(first + timedelta(days=offset))
            self.cumulative.append(running)

    def between(self, a: date, b: date) -> int:
        """Working days in (a, b]."""
        return self.cumulative[(b - self.first).days] - self.cumulative[(a - self.first).days]


# -- accumulating ---------------------------------------------------------------------


@dataclass
class _Acc:
    in_scope: int = 0
    open: int = 0
    raised: int = 0
    resolved: int = 0
    overdue: int = 0
    rectified: int = 0
    red_open: int = 0
    on_time: int = 0
    involved: Decimal = Decimal(0)
    recovered: Decimal = Decimal(0)
    verify_days: list[int] = field(default_factory=list)
    rectify_days: list[int] = field(default_factory=list)
    matrix: Counter = field(default_factory=Counter)  # (level, category, state) → cases
    rules: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0]))

    def add_group(self, row: GroupRow, category: str) -> None:
        self.in_scope += row.in_scope
        self.raised += row.raised
        self.resolved += row.resolved
        self.overdue += row.overdue
        self.rectified += row.rectified
        is_open = row.state.is_open
        if is_open:
            self.open += row.in_scope
        if row.state in RED_OPEN:
            self.red_open += row.in_scope
        self.matrix[(STATE_LEVEL[row.state].value, category, row.state.value)] += row.in_scope
        counts = self.rules[row.rule_id]
        counts[0] += row.raised
        counts[1] += row.resolved
        counts[2] += row.in_scope if is_open else 0
        counts[3] += row.overdue

    def merge(self, other: "_Acc") -> None:
        for name in ("in_scope", "open", "raised", "resolved", "overdue", "rectified", "red_open",
                     "on_time", "involved", "recovered"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.verify_days.extend(other.verify_days)
        self.rectify_days.extend(other.rectify_days)
        self.matrix.update(other.matrix)
        for rule_id, counts in other.rules.items():
            mine = self.rules[rule_id]
            for i, n in enumerate(counts):
                mine[i] += n


def _rate(numerator: int, denominator: int) -> dict:
    percent = None
    if denominator:
        value = Decimal(numerator) * 100 / Decimal(denominator)
        percent = str(value.quantize(CENT, ROUND_HALF_UP))
    return {"numerator": numerator, "denominator": denominator, "percent": percent}


def _wan(amount: Decimal) -> str:
    return str((amount / TEN_THOUSAND).quantize(CENT, ROUND_HALF_UP))


def _median(values: list[int]) -> str | None:
    if not values:
        return None
    return str(Decimal(str(statistics.median(values))).quantize(Decimal("0.1"), ROUND_HALF_UP))


def _headline(acc: _Acc) -> dict:
    return {
        "cases": acc.in_scope,
        "open_at_end": acc.open,
        "raised": acc.raised,
        "resolved": acc.resolved,
        "overdue": acc.overdue,
        "rectified": acc.rectified,
        "on_time_rate": _rate(acc.on_time, acc.resolved),
        "overdue_rate": _rate(acc.overdue, acc.open),
        "rectification_rate": _rate(acc.rectified, acc.rectified + acc.red_open),
        "amount_involved_wan": _wan(acc.involved),
        "amount_recovered_wan": _wan(acc.recovered),
        "amount_involved_yuan": str(acc.involved.quantize(CENT)),
        "amount_recovered_yuan": str(acc.recovered.quantize(CENT)),
        "median_verify_days": _median(acc.verify_days),
        "median_rectify_days": _median(acc.rectify_days),
        "verify_samples": len(acc.verify_days),
        "rectify_samples": len(acc.rectify_days),
    }


def assessment_weights() -> dict[str, int]:
    weights = get_settings().assessment_weights
    return {key: int(weights.get(key, 0)) for key in WEIGHT_KEYS}


def assessment_formula(weights: dict[str, int]) -> str:
    return (
        f"考核得分 = {weights['on_time']} × 按期办结率 + {weights['rectification']} × 整改率"
        f" + {weights['overdue']} × (1 − 超期率)；分母为零的比率按 100% 计；满分"
        f" {sum(weights.values())} 分（权重见系统设置 assessment_weights）。"
    )


def assessment_score(headline: dict, weights: dict[str, int]) -> str:
    def fraction(rate: dict, *, inverse: bool = False) -> Decimal:
        if not rate["denominator"]:
            return Decimal(1)
        value = Decimal(rate["numerator"]) / Decimal(rate["denominator"])
        return 1 - value if inverse else value

    score = (
        weights["on_time"] * fraction(headline["on_time_rate"])
        + weights["rectification"] * fraction(headline["rectification_rate"])
        + weights["overdue"] * fraction(headline["overdue_rate"], inverse=True)
    )
    return str(score.quantize(CENT, ROUND_HALF_UP))


# -- the whole computation --------------------------------------------------------------


@dataclass(frozen=True)
class _RegionInfo:
    id: int
    code: str
    name: str
    level: RegionLevel
    parent_id: int | None
    path: str

    def as_dict(self) -> dict:
        return {"id": self.id, "code": self.code, "name": self.name, "level": self.level.value,
                "level_label": self.level.label}  # fmt: skip


class _Computation:
    """Everything needed to write any region's figures of one month (within `path`)."""

    def __init__(self, session: Session, *, month: date, as_of: datetime, path: str | None):
        self.window = _window(month, as_of)
        self.as_of = as_of
        self.weights = assessment_weights()
        self.limit = get_settings().report_overdue_limit
        connection = session.connection()
        region_query = sa.select(Region.id, Region.code, Region.name, Region.level,
                                 Region.parent_id, Region.path)  # fmt: skip
        unit_query = sa.select(
            OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.kind, OrgUnit.region_id
        ).join(Region, Region.id == OrgUnit.region_id)
        if path is not None:
            region_query = region_query.where(Region.path.startswith(path, autoescape=True))
            unit_query = unit_query.where(Region.path.startswith(path, autoescape=True))
        self.regions = {
            r.id: _RegionInfo(r.id, r.code, r.name, RegionLevel(r.level), r.parent_id, r.path)
            for r in connection.execute(region_query)
        }
        self.units = {u.id: u for u in connection.execute(unit_query.order_by(OrgUnit.code))}
        self.rules = {
            r.id: r
            for r in connection.execute(
                sa.select(Rule.id, Rule.code, Rule.name, Rule.category, Rule.level, Rule.is_active)
            )
        }
        self.children: dict[int, list[int]] = defaultdict(list)
        for region in sorted(self.regions.values(), key=lambda r: r.code):
            if region.parent_id in self.regions:
                self.children[region.parent_id].append(region.id)

        own: dict[int, _Acc] = defaultdict(_Acc)
        by_unit: dict[int, _Acc] = defaultdict(_Acc)
        for row in group_rows(session, self.window, path):
            category = self.rules[row.rule_id].category
            own[row.region_id].add_group(row, category)
            by_unit[row.org_unit_id].add_group(row, category)
        closed = closed_cases(session, self.window, path)
        self._durations(session, closed, own, by_unit)
        for amount in slip_amounts(session, self.window, path):
            for acc in (own[amount.region_id], by_unit[amount.org_unit_id]):
                acc.involved += amount.involved
                acc.recovered += amount.recovered
        self.by_unit = by_unit
        # Roll up: deepest regions first, each adds its subtree to its parent's.
        self.subtree: dict[int, _Acc] = {rid: _Acc() for rid in self.regions}
        for region in sorted(self.regions.values(), key=lambda r: -r.path.count("/")):
            acc = self.subtree[region.id]
            acc.merge(own.get(region.id, _Acc()))
            if region.parent_id in self.subtree:
                self.subtree[region.parent_id].merge(acc)
        self.heads: dict[int, list] = defaultdict(list)
        for row in overdue_heads(session, self.window, path, self.limit):
            self.heads[row.region_id].append(row)
        self.calendar = load_calendar(session)

    def _durations(self, session: Session, closed: list[ClosedCase], own, by_unit) -> None:
        if not closed:
            return
        first = min(local_date(c.raised_at) for c in closed)
        index = _WorkdayIndex(load_calendar(session), first, self.window.last_day)
        for case in closed:
            accs = (own[case.region_id], by_unit[case.org_unit_id])
            verify = rectify = None
            if case.verified_at is not None:
                verify = index.between(local_date(case.raised_at), local_date(case.verified_at))
            if case.resolution == Resolution.RECTIFIED and case.red_at is not None:
                rectify = index.between(local_date(case.red_at), local_date(case.closed_at))
            for acc in accs:
                acc.on_time += not case.escalated
                if verify is not None:
                    acc.verify_days.append(verify)
                if rectify is not None:
                    acc.rectify_days.append(rectify)

    # -- one region's dict ----------------------------------------------------------

    def figures(self, region_id: int) -> dict:
        region = self.regions[region_id]
        acc = self.subtree[region_id]
        headline = _headline(acc)
        return {
            "schema": SCHEMA,
            "region": region.as_dict(),
            "month": f"{self.window.first_day:%Y-%m}",
            "period": {
                "first_day": self.window.first_day.isoformat(),
                "last_day": self.window.last_day.isoformat(),
                "overdue_reference_day": self.window.ref_day.isoformat(),
                "complete": self.window.cut >= self._month_end(),
            },
            "generated_at": self.as_of.astimezone(UTC).isoformat(),
            "headline": headline,
            "definitions": DEFINITIONS,
            "matrix": self._matrix(acc),
            "by_level": self._by(acc, 0, Level),
            "by_category": self._by(acc, 1, RuleCategory),
            "rules": self._rules(acc),
            "overdue_list": self._overdue(region_id, acc.overdue),
            "assessment": {
                "weights": self.weights,
                "formula": assessment_formula(self.weights),
                "score": assessment_score(headline, self.weights),
            },
            "children": self._children(region),
            "departments": self._departments(region_id),
        }

    def _month_end(self) -> datetime:
        following = next_month(self.window.first_day)
        return datetime(following.year, following.month, 1, tzinfo=LOCAL_TZ).astimezone(UTC)

    @staticmethod
    def _matrix(acc: _Acc) -> list[dict]:
        level_order = {lv.value: i for i, lv in enumerate(Level)}
        state_order = {st.value: i for i, st in enumerate(State)}
        category_order = {c.value: i for i, c in enumerate(RuleCategory)}
        rows = []
        for (level, category, state), count in acc.matrix.items():
            if count:
                rows.append({
                    "level": level, "level_label": Level(level).label,
                    "category": category, "category_label": RuleCategory(category).label,
                    "state": state, "state_label": State(state).label, "cases": count,
                })  # fmt: skip
        return sorted(rows, key=lambda r: (level_order[r["level"]], category_order[r["category"]],
                                           state_order[r["state"]]))  # fmt: skip

    @staticmethod
    def _by(acc: _Acc, position: int, enum) -> list[dict]:
        totals = Counter()
        for key, count in acc.matrix.items():
            totals[key[position]] += count
        return [{"key": m.value, "label": m.label, "cases": totals[m.value]} for m in enum]

    def _rules(self, acc: _Acc) -> list[dict]:
        rows = []
        for rule_id, rule in self.rules.items():
            counts = acc.rules.get(rule_id)
            if counts is None and not rule.is_active:
                continue
            raised, resolved, open_, overdue = counts or (0, 0, 0, 0)
            rows.append({
                "code": rule.code, "name": rule.name,
                "category": rule.category, "category_label": RuleCategory(rule.category).label,
                "level": rule.level, "level_label": Level(rule.level).label,
                "raised": raised, "resolved": resolved, "open": open_, "overdue": overdue,
            })  # fmt: skip
        return sorted(rows, key=lambda r: r["code"])

    def _overdue(self, region_id: int, total: int) -> dict:
        rows = []
        stack = [region_id]
        while stack:
            rid = stack.pop()
            rows.extend(self.heads.get(rid, ()))
            stack.extend(self.children.get(rid, ()))
        rows.sort(key=lambda r: (r.due_on, r.id))
        items = []
        for r in rows[: self.limit]:
            region = self.regions[r.region_id]
            state = State(r.state)
            items.append({
                "number": r.number, "rule_code": r.rule_code, "rule_name": r.rule_name,
                "department": r.unit_name, "region": region.name, "due_on": r.due_on.isoformat(),
                "days_overdue": self.calendar.working_days_between(r.due_on, self.window.ref_day),
                "level": STATE_LEVEL[state].value, "level_label": STATE_LEVEL[state].label,
                "state": state.value, "state_label": state.label,
            })  # fmt: skip
        return {"total": total, "shown": len(items), "limit": self.limit, "items": items}

    def _children(self, region: _RegionInfo) -> list[dict]:
        if region.level not in (RegionLevel.PROVINCE, RegionLevel.CITY):
            return []
        rows = []
        for child_id in self.children.get(region.id, ()):
            child = self.regions[child_id]
            if child.level == RegionLevel.TOWNSHIP:
                continue
            headline = _headline(self.subtree[child_id])
            rows.append({"region": child.as_dict(), "headline": headline,
                         "score": assessment_score(headline, self.weights)})  # fmt: skip
        return rows

    def _departments(self, region_id: int) -> list[dict]:
        rows = []
        for unit in self.units.values():
            if unit.region_id != region_id:
                continue
            acc = self.by_unit.get(unit.id)
            if acc is None and OrgKind(unit.kind) not in DEPARTMENT_KINDS:
                continue
            rows.append({
                "org_unit": {"id": unit.id, "code": unit.code, "name": unit.name,
                             "kind": unit.kind, "kind_label": OrgKind(unit.kind).label},
                "headline": _headline(acc or _Acc()),
            })  # fmt: skip
        return rows


def _region_path(session: Session, region_id: int) -> str:
    path = (
        session.connection()
        .execute(sa.select(Region.path).where(Region.id == region_id))
        .scalar_one_or_none()
    )
    if path is None:
        raise NotFound(f"区划 {region_id} 不存在")
    return path


def compute_figures(session: Session, *, region_id: int, month: date, as_of: datetime) -> dict:
    """The month's figures for one region and its descendants, as of `as_of`."""
    path = _region_path(session, region_id)
    return _Computation(session, month=month, as_of=as_of, path=path).figures(region_id)


def figures_for_all(
    session: Session, *, month: date, as_of: datetime, levels=REPORT_LEVELS
) -> dict[int, dict]:
    """Every region's figures (of the given levels) from one pass over the month's cases."""
    computation = _Computation(session, month=month, as_of=as_of, path=None)
    return {
        rid: computation.figures(rid)
        for rid, region in computation.regions.items()
        if region.level in levels
    }


def draft_monthly_reports(
    session: Session, *, as_of: datetime, only_first_working_day: bool = True
):
    """The job: draft (or refresh) last month's summary of every county, city and province
    on the first working day of the month; see workflows/monthly_drafts.py."""
    from .monthly_drafts import draft_reports

    return draft_reports(session, as_of=as_of, only_first_working_day=only_first_working_day)
