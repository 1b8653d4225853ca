"""The monthly summary's figures (Changchun art. 24, Henan art. 17, 19 and 20) and the job
that drafts every region's summary on the first working day of the month.

`compute_figures` answers for one region (with its descendants); `figures_for_all` answers
for every region at once from the same few GROUP BY statements (workflows/reporting/queries.py),
rolling the region tree up in Python. The result is plain JSON (schema "warnflow.monthly/1"):
Decimals as strings, dates ISO, every rate with its numerator and denominator, and the
definitions printed with it.
"""

import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from models import OrgUnit, Region, Rule
from models.enums import STATE_LEVEL, Level, OrgKind, RegionLevel, RuleCategory, State
from models.settings import get_settings
from workflows.core.calendar import (
    LOCAL_TZ,
    WorkingCalendar,
    add_months,
    load_calendar,
    local_date,
    month_start,
)
from workflows.core.errors import InvalidInput, NotFound
from workflows.oversight.cases import oversight_counts
from workflows.oversight.streaks import streaks_for_month
from workflows.reporting.assessment import (
    DEFINITIONS,
    Acc,
    assessment_formula,
    assessment_score,
    assessment_weights,
    headline_of,
)
from workflows.reporting.queries import (
    ClosedCase,
    Window,
    closed_cases,
    group_rows,
    month_end_events,
    overdue_heads,
    slip_amounts,
)

SCHEMA = "warnflow.monthly/1"
# Org units that answer for their own cases and confirm their part of the summary.
DEPARTMENT_KINDS = frozenset({OrgKind.BUDGET, OrgKind.AGRI_FINANCE, OrgKind.TREASURY})
REPORT_LEVELS = (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)


# -- the month ------------------------------------------------------------------------


def _window(month: date, as_of: datetime) -> Window:
    first = month_start(month)
    following = add_months(first, 1)
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
        self.session = session
        self.window = _window(month, as_of)
        # Region → consecutive counting months at this month (workflows/oversight/streaks.py), as the
        # three-month rule's job evaluated them; empty until that job has run for the month.
        self.streaks = streaks_for_month(session, month=self.window.first_day)
        self.streak_months = get_settings().streak_months
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

        own: dict[int, Acc] = defaultdict(Acc)
        by_unit: dict[int, Acc] = defaultdict(Acc)
        self.heads: dict[int, list] = defaultdict(list)
        with month_end_events(session, self.window, path) as last:
            for row in group_rows(session, self.window, path, last):
                category = self.rules[row.rule_id].category
                own[row.region_id].add_group(row, category)
                by_unit[row.org_unit_id].add_group(row, category)
            for row in overdue_heads(session, self.window, path, self.limit, last):
                self.heads[row.region_id].append(row)
        closed = closed_cases(session, self.window, path)
        self._durations(session, closed, own, by_unit)
        for amount in slip_amounts(session, self.window, path):
            for acc in (own[amount.region_id], by_unit[amount.org_unit_id]):
                acc.involved += amount.involved
                acc.recovered += amount.recovered
        self.by_unit = by_unit
        # Roll up: deepest regions first, each adds its subtree to its parent's.
        self.subtree: dict[int, Acc] = {rid: Acc() for rid in self.regions}
        for region in sorted(self.regions.values(), key=lambda r: -r.path.count("/")):
            acc = self.subtree[region.id]
            acc.merge(own.get(region.id, Acc()))
            if region.parent_id in self.subtree:
                self.subtree[region.parent_id].merge(acc)
        # Working days overdue for every listed case, by subtraction over one span.
        earliest = min((row.due_on for rows in self.heads.values() for row in rows), default=None)
        self.overdue_index = None
        if earliest is not None:
            ref_day = self.window.ref_day
            self.overdue_index = _WorkdayIndex(load_calendar(session), earliest, ref_day)

    def _durations(self, session: Session, closed: list[ClosedCase], own, by_unit) -> None:
        if not closed:
            return
        epoch = date(1970, 1, 1)
        first = min(c.raised_day for c in closed)
        last = (self.window.last_day - epoch).days
        index = _WorkdayIndex(load_calendar(session), epoch + timedelta(days=first),
                              epoch + timedelta(days=last))  # fmt: skip
        cumulative = index.cumulative
        for case in closed:
            verify = rectify = None
            if case.verified_day is not None:
                verify = cumulative[case.verified_day - first] - cumulative[case.raised_day - first]
            if case.rectified and case.red_day is not None:
                rectify = cumulative[case.closed_day - first] - cumulative[case.red_day - first]
            for acc in (own[case.region_id], by_unit[case.org_unit_id]):
                acc.on_time += case.on_time
                if verify is not None:
                    acc.verify_days.append(verify)
                if rectify is not None:
                    acc.rectify_days.append(rectify)

    # -- one region's dict ----------------------------------------------------------

    def figures(self, region_id: int) -> dict:
        region = self.regions[region_id]
        acc = self.subtree[region_id]
        headline = headline_of(acc)
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
            "streaks": self._streaks(region),
            "oversight": oversight_counts(
                self.session,
                region_ids=self._subtree_ids(region_id),
                start=self.window.start,
                end=self.window.cut,
            ),
        }

    def _subtree_ids(self, region_id: int) -> list[int]:
        ids, stack = [], [region_id]
        while stack:
            rid = stack.pop()
            ids.append(rid)
            stack.extend(self.children.get(rid, ()))
        return ids

    def _streaks(self, region: _RegionInfo) -> dict:
        """Cities and counties of the subtree two months short of, or on, the rule."""
        threshold = self.streak_months
        rows = []
        for rid in self._subtree_ids(region.id):
            streak = self.streaks.get(rid, 0)
            if streak >= max(threshold - 1, 1):
                info = self.regions[rid]
                rows.append({"region": info.as_dict(), "streak": streak,
                             "on_rule": streak >= threshold})  # fmt: skip
        rows.sort(key=lambda r: (-r["streak"], r["region"]["code"]))
        return {
            "evaluated": bool(self.streaks),
            "threshold": threshold,
            "warning": [r for r in rows if not r["on_rule"]],
            "on_rule": [r for r in rows if r["on_rule"]],
        }

    def _month_end(self) -> datetime:
        following = add_months(self.window.first_day, 1)
        return datetime(following.year, following.month, 1, tzinfo=LOCAL_TZ).astimezone(UTC)

    @staticmethod
    def _matrix(acc: Acc) -> list[dict]:
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
    def _by(acc: Acc, position: int, enum) -> list[dict]:
        totals = Counter()
        for key, count in acc.matrix.items():
            totals[key[position]] += count
        return [{"key": m.value, "label": m.label, "cases": totals[m.value]} for m in enum]

    def _rules(self, acc: Acc) -> list[dict]:
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
        items = []
        for r in heapq.nsmallest(self.limit, rows, key=lambda r: (r.due_on, r.id)):
            region = self.regions[r.region_id]
            state = State(r.state)
            items.append({
                "number": r.number, "rule_code": r.rule_code, "rule_name": r.rule_name,
                "department": r.unit_name, "region": region.name, "due_on": r.due_on.isoformat(),
                "days_overdue": self.overdue_index.between(r.due_on, self.window.ref_day),
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
            headline = headline_of(self.subtree[child_id])
            rows.append({"region": child.as_dict(), "headline": headline,
                         "score": assessment_score(headline, self.weights)})  # fmt: skip
        return rows

    def _departments(self, region_id: int) -> list[dict]:
        """Section 八: each department of the region. A city's (and the province's) line for a
        department also counts the same kind of department in every region below it (its
        counties' 农财股 under the city's 农业科), since that is the line it answers for (Changchun
        art. 24(二)); `own` keeps the department's own cases, the part its head confirms."""
        region = self.regions[region_id]
        below: dict[str, Acc] = defaultdict(Acc)
        if region.level in (RegionLevel.PROVINCE, RegionLevel.CITY):
            subtree = set(self._subtree_ids(region_id)) - {region_id}
            for unit in self.units.values():
                if unit.region_id in subtree and unit.id in self.by_unit:
                    below[OrgKind(unit.kind)].merge(self.by_unit[unit.id])
        rows = []
        for unit in self.units.values():
            if unit.region_id != region_id:
                continue
            kind = OrgKind(unit.kind)
            own = self.by_unit.get(unit.id)
            if own is None and kind not in DEPARTMENT_KINDS and kind not in below:
                continue
            total = Acc()
            total.merge(own or Acc())
            total.merge(below.get(kind, Acc()))
            rows.append({
                "org_unit": {"id": unit.id, "code": unit.code, "name": unit.name,
                             "kind": unit.kind, "kind_label": kind.label},
                "headline": headline_of(total),
                "own": headline_of(own or Acc()),
                "includes_below": kind in below,
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
