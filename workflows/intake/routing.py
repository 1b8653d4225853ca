"""Which department and which handler a new warning goes to, and the routing table
(warning type → kind of department) that administrators may change (every change audited)."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import Case, DepartmentRoute, OrgUnit, Region
from models.enums import OPEN_STATES, AuditKind, OrgKind, WarningType
from workflows.core.actors import Actor, active_handlers
from workflows.core.audit import record
from workflows.core.errors import FieldError, InvalidInput

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
    handlers = [u.id for u in active_handlers(session, unit_ids=[org_unit_id])[org_unit_id]]
    if not handlers:
        return org_unit_id, None
    open_cases = dict(session.connection().execute(
        sa.select(Case.assignee_id, sa.func.count(Case.id))
        .where(Case.assignee_id.in_(handlers), Case.state.in_(OPEN_STATES))
        .group_by(Case.assignee_id)
    ).all())
    return org_unit_id, min(handlers, key=lambda h: (open_cases.get(h, 0), h))


# -- the routing table as administrators see and edit it --------------------------------


@dataclass(frozen=True)
class RouteRow:
    warning_type: WarningType
    warning_type_label: str
    org_kind: OrgKind
    org_kind_label: str
    default_kind: OrgKind  # Henan art. 17
    is_default: bool


def list_routes(session: Session) -> list[RouteRow]:
    """Each warning type with the kind of department that now rectifies it."""
    table = routing_table(session)
    return [
        RouteRow(warning_type=wt, warning_type_label=wt.label, org_kind=table[wt],
                 org_kind_label=table[wt].label, default_kind=DEPARTMENT_FOR_WARNING_TYPE[wt],
                 is_default=table[wt] == DEPARTMENT_FOR_WARNING_TYPE[wt])
        for wt in WarningType
    ]


def set_route(
    session: Session, *, actor: Actor, warning_type: WarningType | str, org_kind: OrgKind | str, as_of: datetime
) -> RouteRow:
    """Send new warnings of this type to another kind of department (existing cases stay)."""
    errors = []
    try:
        warning_type = WarningType(warning_type)
    except ValueError:
        errors.append(FieldError("warning_type", "enum", "预警类型不是可选的值"))
    try:
        org_kind = OrgKind(org_kind)
    except ValueError:
        errors.append(FieldError("org_kind", "enum", "处室类别不是可选的值"))
    if errors:
        raise InvalidInput("分派设置有误，请按提示修改", errors=errors)
    old = routing_table(session)[warning_type]
    set_department_kind(session, warning_type=warning_type, org_kind=org_kind,
                        actor_id=actor.user_id, as_of=as_of)
    record(session, AuditKind.ROUTING_CHANGED, as_of=as_of, actor=actor,
           warning_type=warning_type.value, org_kind=[old.value, org_kind.value])
    return next(r for r in list_routes(session) if r.warning_type == warning_type)
