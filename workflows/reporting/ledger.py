"""The categorized ledger 分类台账 (DOMAIN.md "Monthly reporting"): for the province (and a
city), warnings by city/county × rule category × level × state, counted and summed in 万元,
each cell a drill-down into the case tracking list.

One GROUP BY over the cases in scope (by case region, rule category and state); the few
hundred groups are then rolled up to the county (or city) they lie in, in Python over the
region tree — never a query per region.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlmodel import Session

from models import Case, Region, Rule
from models.enums import STATE_LEVEL, Level, RegionLevel, RuleCategory, State
from workflows.cases.queries import like_prefix
from workflows.core.actors import Actor
from workflows.core.calendar import LOCAL_TZ
from workflows.core.errors import RoleNotAllowed
from workflows.core.roles import OFFICE_READERS

ZERO = Decimal("0.00")


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

    @property
    def link(self) -> str:
        return "/cases?" + urlencode(
            {
                "region": self.region_code,
                "category": self.category.value,
                "level": self.level.value,
                "state": self.state.value,
            }
        )


@dataclass
class LedgerRegion:
    """One city or county's line of the summary table."""

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

    def link(self, **params: str) -> str:
        return "/cases?" + urlencode({"region": self.code, **params})


@dataclass
class Ledger:
    region: Region
    month: date | None
    regions: list[LedgerRegion]
    cells: list[LedgerCell]

    @property
    def total(self) -> int:
        return sum(r.total for r in self.regions)

    @property
    def amount(self) -> Decimal:
        return sum((r.amount for r in self.regions), ZERO)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """A local (Shanghai) month as UTC instants [start, end)."""
    start = datetime.combine(month.replace(day=1), time(0), LOCAL_TZ)
    following = (month.replace(day=28) + (date(2000, 1, 31) - date(2000, 1, 27))).replace(day=1)
    end = datetime.combine(following, time(0), LOCAL_TZ)
    return start.astimezone(UTC), end.astimezone(UTC)


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
    return Ledger(region=home, month=month, regions=ordered, cells=result_cells)
