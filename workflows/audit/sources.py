"""The audited tables as one list of happenings: one SELECT per table, in the same columns.

Each source answers (src, table_name, id, at, kind, person_id, case_id, region_path, detail,
state):
`kind` is the audit kind for audit_event ("login", …) and "<table>:<event>" for the others;
`person_id` is who acted; `region_path` is where it happened (the case's, the report's or the
acting account's region), which is what an auditor's scope is matched against.
"""

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from models import (
    AuditEvent,
    Case,
    CaseEvent,
    CaseSlip,
    ImportRun,
    MonthlyReport,
    MonthlyReportEvent,
    OrgUnit,
    Region,
    SlipSignoff,
    SlipVersion,
    User,
)
from models.federation import FederationPush, ReceivedReport
from models.oversight import OversightCase, OversightEvent

# Which sources an administrator reads: the accounts' own acts and the imports; never a case,
# a slip or a report (不得混岗).
ADMIN_SOURCES = ("audit_event", "import_run")
TEXT = sa.String(400)


def _account_region(person):
    """The region path of the account `person` (a column), via its unit."""
    user, unit, region = aliased(User), aliased(OrgUnit), aliased(Region)
    return (
        sa.select(region.path)
        .join(unit, unit.region_id == region.id)
        .join(user, user.org_unit_id == unit.id)
        .where(user.id == person)
        .scalar_subquery()
    )


def _case_region(case_id):
    return (
        sa.select(Region.path).join(Case, Case.region_id == Region.id)
        .where(Case.id == case_id).scalar_subquery()
    )


def _region_of(region_id):
    return sa.select(Region.path).where(Region.id == region_id).scalar_subquery()


def _row(src, table, id_, at, kind, person, case, region, detail, state=None):
    return sa.select(
        sa.literal(src, sa.Integer).label("src"),
        sa.literal(table, sa.String(32)).label("table_name"),
        id_.label("id"),
        at.label("at"),
        sa.cast(kind, sa.String(80)).label("kind"),
        sa.cast(person, sa.Integer).label("person_id"),
        sa.cast(case, sa.Integer).label("case_id"),
        sa.cast(region, sa.String(255)).label("region_path"),
        sa.cast(detail, TEXT).label("detail"),
        # The state a step led to, where the step's own name is not for people (reports,
        # oversight cases): the viewer labels the step by it.
        sa.cast(state, sa.String(32)).label("state"),
    )


def _tagged(table: str, column) -> sa.ColumnElement:
    return sa.literal(table + ":") + sa.cast(column, sa.String(40))


def sources() -> dict[str, sa.Select]:
    a, e, v, s = AuditEvent, CaseEvent, SlipVersion, SlipSignoff
    person = sa.func.coalesce(a.actor_id, a.user_id)
    first_case = (sa.select(sa.func.min(CaseSlip.case_id)).where(CaseSlip.slip_id == v.slip_id)
                  .scalar_subquery())
    report_region = (sa.select(Region.path).join(MonthlyReport, MonthlyReport.region_id == Region.id))
    r, o, i, p, rr = MonthlyReportEvent, OversightEvent, ImportRun, FederationPush, ReceivedReport
    return {
        "audit_event": _row(1, "audit_event", a.id, a.at, a.kind, person, None,
                            _account_region(person), a.username).select_from(a),
        "case_event": _row(2, "case_event", e.id, e.at, _tagged("case_event", e.event), e.actor_id,
                           e.case_id, _case_region(e.case_id), e.comment).select_from(e),
        "slip_version": _row(3, "slip_version", v.id, v.created_at,
                             _tagged("slip_version", sa.cast(v.version, sa.String(12))),
                             v.author_id, first_case, _case_region(first_case), v.reason).select_from(v),
        "slip_signoff": _row(4, "slip_signoff", s.id, s.signed_at, _tagged("slip_signoff", s.decision),
                             s.supervisor_id, s.case_id, _case_region(s.case_id), s.opinion).select_from(s),
        "monthly_report_event": _row(
            5, "monthly_report_event", r.id, r.at, _tagged("monthly_report_event", r.event), r.actor_id,
            None, report_region.where(MonthlyReport.id == r.report_id).scalar_subquery(), r.comment,
            r.to_status,
        ).select_from(r),
        "oversight_event": _row(
            6, "oversight_event", o.id, o.at, _tagged("oversight_event", o.event), o.actor_id, None,
            sa.select(Region.path).join(OversightCase, OversightCase.region_id == Region.id)
            .where(OversightCase.id == o.oversight_id).scalar_subquery(), o.comment, o.to_state,
        ).select_from(o),
        "import_run": _row(7, "import_run", i.id, i.created_at, _tagged("import_run", i.state),
                           i.created_by_id, None, _account_region(i.created_by_id), i.file_name
                           ).select_from(i),
        "federation_push": _row(
            8, "federation_push", p.id, sa.func.coalesce(p.sent_at, p.created_at),
            _tagged("federation_push", p.status), None, None,
            report_region.where(MonthlyReport.id == p.report_id).scalar_subquery(), p.last_error,
        ).select_from(p),
        "received_report": _row(9, "received_report", rr.id, rr.received_at,
                                sa.literal("received_report:received"), None, None,
                                _region_of(rr.region_id), rr.jti).select_from(rr),
    }
