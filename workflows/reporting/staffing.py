"""Who a region's monthly report needs (Changchun art. 24): someone in each responsible
department to confirm its part, the treasury to compile and send, the poverty-alleviation
office to countersign. A reporting region (province, city, county) missing any of them has a
report nobody can move; the administrator's page and `warnflow jobs list` name such regions.

Two set-based reads: the reporting regions with their departments, and the active accounts
grouped by region, unit and role; the gaps are worked out in Python.
"""

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from models import OrgUnit, Region, User
from models.enums import OrgKind, Role
from workflows.core.errors import InvalidState
from workflows.reporting.effects import DEPARTMENT_ROLES
from workflows.reporting.figures import DEPARTMENT_KINDS, REPORT_LEVELS


@dataclass(frozen=True)
class ChainGap:
    """A reporting region whose chain has nobody for some steps."""

    region_code: str
    region_name: str
    missing: tuple[str, ...]  # e.g. "国库汇总、报送（财政局国库）", "确认：安县财政局预算股"

    @property
    def line(self) -> str:
        return f"{self.region_name}（{self.region_code}）：{'；'.join(self.missing)}"


def chain_gaps(session: Session) -> list[ChainGap]:
    """Every reporting region whose monthly report some step of the chain cannot be taken on."""
    connection = session.connection()
    regions = connection.execute(
        sa.select(Region.id, Region.code, Region.name)
        .where(Region.level.in_([level.value for level in REPORT_LEVELS]))
        .order_by(Region.path)
    ).all()
    departments: dict[int, list] = defaultdict(list)
    for unit in connection.execute(
        sa.select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.region_id)
        .where(OrgUnit.kind.in_([OrgKind(k).value for k in DEPARTMENT_KINDS]))
        .order_by(OrgUnit.code)
    ):
        departments[unit.region_id].append(unit)
    roles_in_region: dict[int, set[Role]] = defaultdict(set)
    confirmers_in_unit: dict[int, int] = defaultdict(int)
    for row in connection.execute(
        sa.select(OrgUnit.region_id, User.org_unit_id, User.role, sa.func.count())
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(User.is_active.is_(True))
        .group_by(OrgUnit.region_id, User.org_unit_id, User.role)
    ):
        role = Role(row.role)
        roles_in_region[row.region_id].add(role)
        # A department's own people confirm its part; the treasury confirms its own unit's.
        if role in DEPARTMENT_ROLES or role == Role.TREASURY:
            confirmers_in_unit[row.org_unit_id] += row[3]
    gaps = []
    for region in regions:
        missing = []
        roles = roles_in_region[region.id]
        if Role.TREASURY not in roles:
            missing.append("无国库账户（汇总、报送）")
        if Role.POVERTY_OFFICE not in roles:
            missing.append("无脱贫办账户（会签）")
        for unit in departments[region.id]:
            if not confirmers_in_unit[unit.id]:
                missing.append(f"{unit.name}无人确认本处室部分")
        if missing:
            gaps.append(ChainGap(region.code, region.name, tuple(missing)))
    return gaps


@contextmanager
def keeps_chains_staffed(session: Session) -> Iterator[None]:
    """Around an account change (role, unit, revocation): refuse it, having it undone by the
    caller's rollback, when it leaves a reporting region whose chain could move with nobody
    for some step. A region already short of people is named on the admin page and in
    `warnflow jobs list`; changes there are not blocked (they may be what fixes it)."""
    before = {g.region_code for g in chain_gaps(session)}
    yield
    session.flush()
    broken = [g for g in chain_gaps(session) if g.region_code not in before]
    if broken:
        raise InvalidState(
            f"该变更将使月报无人办理：{'；'.join(g.line for g in broken)}。"
            "请先为该区划开通相应账户，再变更或停用本账户"
        )
