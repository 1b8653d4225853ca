"""Which department and which handler a new warning goes to."""

import sqlalchemy as sa
from sqlmodel import Session

from models import Case, DepartmentRoute, OrgUnit, Region, User
from models.enums import OPEN_STATES, OrgKind, Role, WarningType
from workflows.core.errors import InvalidInput

# Henan art. 17: who rectifies each warning type.
DEPARTMENT_FOR_WARNING_TYPE: dict[WarningType, OrgKind] = {
    WarningType.INDICATOR_RECEIPT: OrgKind.BUDGET,
    WarningType.INDICATOR_ALLOCATION: OrgKind.BUDGET,
    WarningType.CASH_EXPENDITURE: OrgKind.TREASURY,
    WarningType.ACCOUNT_RISK: OrgKind.TREASURY,
    WarningType.PAYMENT_CYCLE: OrgKind.AGRI_FINANCE,
    WarningType.FUND_RISK: OrgKind.AGRI_FINANCE,
    WarningType.ENTERPRISE_RISK: OrgKind.AGRI_FINANCE,
    WarningType.PERSONAL_RISK: OrgKind.AGRI_FINANCE,
}


def department_kind(session: Session, warning_type: WarningType) -> OrgKind:
    """The kind of department that rectifies this warning type: an admin's setting, else the
    default of Henan art. 17."""
    chosen = session.get(DepartmentRoute, warning_type)
    return chosen.org_kind if chosen else DEPARTMENT_FOR_WARNING_TYPE[warning_type]


def routing_table(session: Session) -> dict[WarningType, OrgKind]:
    """The whole table as it applies now (defaults overlaid by admins' settings)."""
    table = dict(DEPARTMENT_FOR_WARNING_TYPE)
    for row in session.connection().execute(sa.select(DepartmentRoute.warning_type, DepartmentRoute.org_kind)):
        table[WarningType(row.warning_type)] = OrgKind(row.org_kind)
    return table


def set_department_kind(
    session: Session, *, warning_type: WarningType, org_kind: OrgKind, actor_id: int, as_of
) -> None:
    row = session.get(DepartmentRoute, warning_type)
    if row is None:
        row = DepartmentRoute(warning_type=warning_type, org_kind=org_kind)
    row.org_kind, row.updated_by_id, row.updated_at = org_kind, actor_id, as_of
    session.add(row)
    session.flush()


def route(session: Session, *, region_id: int, warning_type: WarningType) -> tuple[int, int | None]:
    """The responsible department in the region (or its nearest ancestor) and its handler
    with the fewest open cases; returns (org unit id, handler id or None)."""
    kind = department_kind(session, warning_type)
    region = session.get(Region, region_id)
    if region is None:
        raise InvalidInput.single("region", "unknown_region", "区划不存在")
    ancestors = [p for p in region.path.strip("/").split("/")]
    rows = session.connection().execute(
        sa.select(OrgUnit.id, Region.code)
        .join(Region, Region.id == OrgUnit.region_id)
        .where(OrgUnit.kind == kind, Region.code.in_(ancestors))
    ).all()
    if not rows:
        raise InvalidInput.single(
            "department", "no_department", f"{region.name}及其上级没有{kind.label}，无法分派"
        )
    depth = {code: i for i, code in enumerate(ancestors)}
    org_unit_id = max(rows, key=lambda r: depth[r.code]).id
    open_cases = (
        sa.select(sa.func.count(Case.id))
        .where(Case.assignee_id == User.id, Case.state.in_(OPEN_STATES))
        .scalar_subquery()
    )
    handler_id = session.connection().execute(
        sa.select(User.id)
        .where(User.org_unit_id == org_unit_id, User.role == Role.HANDLER, User.is_active.is_(True))
        .order_by(open_cases, User.id)
        .limit(1)
    ).scalar_one_or_none()
    return org_unit_id, handler_id
