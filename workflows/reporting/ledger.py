"""The categorized ledger 分类台账 (DOMAIN.md "Monthly reporting"): for the province (and a
city), warnings by city/county × rule category × level × state, counted and summed in 万元,
each cell a drill-down into the case tracking list that shows exactly the cases counted
(same region — its subtree, or its own level only —, category, level, state and month).
The province's ledger closes each city's counties with the city's subtotal.

One GROUP BY over the cases in scope (by case region, rule category and state); the few
hundred groups are then rolled up to the county (or city) they lie in, in Python over the
region tree — never a query per region.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlmodel import Session

from models import Case, Region, Rule
from models.enums import STATE_LEVEL, Level, RegionLevel, RuleCategory, State
from workflows.cases.queries import like_prefix, month_bounds
from workflows.core.actors import Actor
from workflows.core.errors import RoleNotAllowed
from workflows.core.roles import OFFICE_READERS

ZERO = Decimal("0.00")


def case_list_link(region_code: str, *, own_level: bool, month: date | None, **params) -> str:
    """The tracking list of exactly the cases a ledger number counts."""
    query = {"region": region_code}
    if own_level:
        query["region_only"] = "1"
    if month is not None:
        query["month"] = f"{month:%Y-%m}"
    return "/cases?" + urlencode({**query, **params})


@dataclass(frozen=True)
class LedgerCell:
    region_code: str
    region_name: str
    parent_name: str
    category: RuleCategory
    level: Level
    state: State
    count: int
    amount: Decimal
    own_level: bool = False  # the line counts the region's own cases, not its descendants'
    month: date | None = None

    @property
    def link(self) -> str:
        return case_list_link(
            self.region_code, own_level=self.own_level, month=self.month,
            category=self.category.value, level=self.level.value, state=self.state.value,
        )  # fmt: skip


@dataclass
class LedgerRegion:
    """One city or county's line of the summary table (or a city's subtotal)."""

    code: str
    name: str
    parent_name: str
    level: RegionLevel
    total: int = 0
    open: int = 0
    amount: Decimal = ZERO
    by_level: dict[Level, int] = field(default_factory=lambda: dict.fromkeys(Level, 0))
    by_category: dict[RuleCategory, int] = field(
        default_factory=lambda: dict.fromkeys(RuleCategory, 0)
    )
    own_level: bool = False
    month: date | None = None
    subtotal: bool = False

    def link(self, **params: str) -> str:
        return case_list_link(self.code, own_level=self.own_level, month=self.month, **params)

    def add(self, other: "LedgerRegion") -> None:
        self.total += other.total
        self.open += other.open
        self.amount += other.amount
        for level, n in other.by_level.items():
            self.by_level[level] += n
        for category, n in other.by_category.items():
            self.by_category[category] += n


@dataclass
class Ledger:
    region: Region
    month: date | None
    regions: list[LedgerRegion]
    cells: list[LedgerCell]
    # The summary table's rows: the lines, each city's closed by its subtotal (province).
    rows: list[LedgerRegion] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(r.total for r in self.regions)

    @property
    def amount(self) -> Decimal:
        return sum((r.amount for r in self.regions), ZERO)


def build_ledger(session: Session, *, actor: Actor, month: date | None = None) -> Ledger:
    """The ledger of the actor's region: its cities/counties × category × level × state.

    With `month`, only warnings raised in that local month; otherwise every warning."""
    if actor.role not in OFFICE_READERS:
        raise RoleNotAllowed("分类台账供省、市财政部门查阅，您的角色无权查看")
    home = session.execute(sa.select(Region).where(Region.path == actor.region_path)).scalar_one()
    regions = {
        r.id: r
        for r in session.execute(
            sa.select(Region).where(Region.path.like(like_prefix(home.path), escape="\\"))
        ).scalars()
    }
    cases, rules = Case.__table__, Rule.__table__
    query = (
        sa.select(
            cases.c.region_id,
            rules.c.category,
            cases.c.state,
            sa.func.count().label("n"),
            sa.func.coalesce(sa.func.sum(cases.c.amount), 0),
        )
        .join(rules, rules.c.id == cases.c.rule_id)
        .where(cases.c.region_id.in_(list(regions)))
        .group_by(cases.c.region_id, rules.c.category, cases.c.state)
    )
    if month is not None:
        start, end = month_bounds(month)
        query = query.where(cases.c.raised_at >= start, cases.c.raised_at < end)
    groups = session.execute(query).all()
    return _roll_up(home, regions, groups, month)


def _line_region(home: Region, regions: dict[int, Region], region: Region) -> Region:
    """The ledger line a case region counts under: the county (or city, for the province's
    own level) directly under the viewer's region that contains it."""
    # Walk up the path until the child of `home` (or `home` itself for its own cases).
    node = region
    while node.parent_id is not None and node.id != home.id:
        parent = regions.get(node.parent_id)
        if parent is None or parent.id == home.id:
            break
        if (
            home.level == RegionLevel.PROVINCE
            and parent.level == RegionLevel.CITY
            and node.level == RegionLevel.COUNTY
        ):
            break  # a province reads by county, grouped under its city
        node = parent
    return node


def _own_level(home: Region, line_region: Region) -> bool:
    """Does the line count only its region's own cases? The viewer's own line does, and in
    the province's ledger a city's line (its counties have lines of their own)."""
    return line_region.id == home.id or (
        home.level == RegionLevel.PROVINCE and line_region.level == RegionLevel.CITY
    )


def _roll_up(home: Region, regions: dict[int, Region], groups, month: date | None) -> Ledger:
    lines: dict[int, LedgerRegion] = {}
    cells: dict[tuple, list] = defaultdict(lambda: [0, ZERO])
    for region_id, category, state, n, amount in groups:
        line_region = _line_region(home, regions, regions[region_id])
        parent = regions.get(line_region.parent_id) if line_region.id != home.id else None
        line = lines.get(line_region.id)
        if line is None:
            line = lines[line_region.id] = LedgerRegion(
                code=line_region.code,
                name=line_region.name,
                parent_name=parent.name if parent else "",
                level=RegionLevel(line_region.level),
                own_level=_own_level(home, line_region),
                month=month,
            )
        state, category = State(state), RuleCategory(category)
        amount = Decimal(str(amount or 0))
        line.total += n
        line.open += n if state.is_open else 0
        line.amount += amount
        line.by_level[STATE_LEVEL[state]] += n
        line.by_category[category] += n
        cell = cells[(line_region.id, category, STATE_LEVEL[state], state)]
        cell[0] += n
        cell[1] += amount
    order = {r.id: r.path for r in regions.values()}
    category_order = list(RuleCategory)
    state_order = list(State)
    result_cells = [
        LedgerCell(
            region_code=regions[rid].code,
            region_name=regions[rid].name,
            parent_name=lines[rid].parent_name,
            category=category,
            level=level,
            state=state,
            count=n,
            amount=amount,
            own_level=lines[rid].own_level,
            month=month,
        )
        for (rid, category, level, state), (n, amount) in sorted(
            cells.items(),
            key=lambda kv: (
                order[kv[0][0]],
                category_order.index(kv[0][1]),
                state_order.index(kv[0][3]),
            ),
        )
    ]
    ordered = [lines[rid] for rid in sorted(lines, key=lambda rid: order[rid])]
    ledger = Ledger(region=home, month=month, regions=ordered, cells=result_cells)
    ledger.rows = _with_subtotals(home, regions, lines, order, month)
    return ledger


def _with_subtotals(home, regions, lines, order, month) -> list[LedgerRegion]:
    """The lines in region order; in the province's ledger each city's lines (its own level
    and its counties) are followed by the city's subtotal, which links to its whole subtree."""
    if home.level != RegionLevel.PROVINCE:
        return [lines[rid] for rid in sorted(lines, key=lambda rid: order[rid])]
    city_of: dict[int, Region | None] = {}
    for rid in lines:
        region = regions[rid]
        if region.level == RegionLevel.CITY:
            city_of[rid] = region
        else:
            parent = regions.get(region.parent_id)
            city_of[rid] = parent if parent and parent.level == RegionLevel.CITY else None
    rows: list[LedgerRegion] = []
    cities = sorted({c.id: c for c in city_of.values() if c}.values(), key=lambda c: c.path)
    for rid in sorted((r for r, c in city_of.items() if c is None), key=lambda r: order[r]):
        rows.append(lines[rid])
    for city in cities:
        subtotal = LedgerRegion(code=city.code, name=f"{city.name}小计", parent_name=city.name,
                                level=RegionLevel.CITY, month=month, subtotal=True)  # fmt: skip
        for rid in sorted((r for r, c in city_of.items() if c and c.id == city.id),
                          key=lambda r: order[r]):  # fmt: skip
            rows.append(lines[rid])
            subtotal.add(lines[rid])
        rows.append(subtotal)
    return rows
