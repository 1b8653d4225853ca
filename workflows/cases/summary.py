"""The per-rule summary table (DOMAIN.md "What the real monitoring platforms show"), one query.

Each case is counted on the track it came in on, because the platforms' table does:
a red light raised as red is a "red light"; a yellow light ruled a violation stays a
"yellow light, violation" even though it is red now; a yellow bell is a "bell" until its
deadline passes undone, then it joins the track its rule says it becomes.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from models.enums import Level, Resolution, RuleCategory, State
from models.types import ZERO
from workflows.cases.queries import CASES, REGIONS, RULES, like_prefix, scope_clause
from workflows.core.actors import Actor
from workflows.core.errors import InvalidInput

RED_OPEN_STATES = (State.RED_LIGHT, State.RECTIFYING, State.RECTIFICATION_REVIEW, State.REVERIFY_REVIEW)


@dataclass(frozen=True)
class RuleSummaryRow:
    """One rule's counts within the actor's scope."""

    rule_code: str
    rule_name: str
    category: RuleCategory
    red_open: int
    red_rectified: int
    yellow_suspicious: int  # yellow light not yet concluded (yellow_light, verifying)
    yellow_normal: int  # concluded normal (green, resolution normal)
    yellow_violation_open: int
    yellow_violation_rectified: int
    bell_open: int
    bell_rectified: int  # cleared: the duty was done in time
    amount_total: Decimal  # sum of case amounts (元)
    transferred: int = 0  # handed to other authorities (移交), from either track
    total: int = 0  # every case of the rule in scope


def rule_summary(
    session: Session, *, actor: Actor, as_of: datetime, region: str | None = None
) -> list[RuleSummaryRow]:
    """Counts per rule for the actor's scope (optionally one region's subtree); every active
    rule appears, with zeros when it raised nothing. `as_of` is the moment the table describes;
    states are read as they are now."""
    del as_of  # states are current; kept for the interface (a later snapshot table may use it)
    clauses = [scope_clause(actor)]
    if region:
        path = (
            session.connection()
            .execute(sa.select(REGIONS.c.path).where(REGIONS.c.code == region))
            .scalar_one_or_none()
        )
        if path is None:
            raise InvalidInput.single("region", "unknown_region", f"区划代码 {region} 不存在")
        clauses.append(REGIONS.c.path.like(like_prefix(path), escape="\\"))

    state, raised = CASES.c.state, CASES.c.raised_level
    in_bell = state.in_([State.YELLOW_BELL, State.CLEARED])
    track = sa.case(
        (sa.and_(raised == Level.YELLOW_BELL, in_bell), "bell"),
        (raised == Level.RED_LIGHT, "red"),
        (sa.and_(raised == Level.YELLOW_BELL, RULES.c.bell_becomes == Level.RED_LIGHT), "red"),
        else_="yellow",
    )

    def count(*conditions) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(*conditions), 1), else_=0)), 0)

    green = state == State.GREEN
    counts = (
        sa.select(
            CASES.c.rule_id,
            count(track == "red", state.in_(RED_OPEN_STATES)).label("red_open"),
            count(track == "red", green).label("red_rectified"),
            count(track == "yellow", state.in_([State.YELLOW_LIGHT, State.VERIFYING, State.NORMAL_REVIEW])).label(
                "yellow_suspicious"
            ),
            count(track == "yellow", green, CASES.c.resolution == Resolution.NORMAL).label(
                "yellow_normal"
            ),
            count(track == "yellow", state.in_(RED_OPEN_STATES)).label("yellow_violation_open"),
            count(track == "yellow", green, CASES.c.resolution == Resolution.RECTIFIED).label(
                "yellow_violation_rectified"
            ),
            count(state == State.YELLOW_BELL).label("bell_open"),
            count(state == State.CLEARED).label("bell_rectified"),
            count(state == State.TRANSFERRED).label("transferred"),
            sa.func.count().label("total"),
            sa.func.sum(CASES.c.amount).label("amount_total"),
        )
        .select_from(CASES)
        .join(RULES, RULES.c.id == CASES.c.rule_id)
        .join(REGIONS, REGIONS.c.id == CASES.c.region_id)
        .where(*clauses)
        .group_by(CASES.c.rule_id)
        .subquery()
    )
    names = [
        "red_open", "red_rectified", "yellow_suspicious", "yellow_normal",
        "yellow_violation_open", "yellow_violation_rectified", "bell_open", "bell_rectified",
        "transferred", "total",
    ]  # fmt: skip
    query = (
        sa.select(
            RULES.c.code,
            RULES.c.name,
            RULES.c.category,
            counts.c.amount_total,
            *(sa.func.coalesce(counts.c[n], 0).label(n) for n in names),
        )
        .select_from(RULES)
        .outerjoin(counts, counts.c.rule_id == RULES.c.id)
        .where(sa.or_(RULES.c.is_active.is_(True), counts.c.rule_id.is_not(None)))
        .order_by(RULES.c.code)
    )
    return [
        RuleSummaryRow(
            rule_code=r.code,
            rule_name=r.name,
            category=RuleCategory(r.category),
            amount_total=Decimal(r.amount_total or ZERO).quantize(Decimal("0.01")),
            **{n: int(getattr(r, n)) for n in names},
        )
        for r in session.connection().execute(query)
    ]


def totals(rows: list[RuleSummaryRow]) -> dict:
    """The table's 合计 line: every count and the amount summed over the rules."""
    if not rows:
        return {}
    numeric = [
        f
        for f in RuleSummaryRow.__dataclass_fields__
        if f not in ("rule_code", "rule_name", "category")
    ]
    return {
        f: sum((getattr(r, f) for r in rows), ZERO if f == "amount_total" else 0) for f in numeric
    }
