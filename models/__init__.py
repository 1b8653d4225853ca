"""SQLModel tables, enums and the engine. Imports nothing else of ours.

Every table module is imported here so that `SQLModel.metadata` (Alembic's target) is whole.
"""

from .audit import AuditCheck, AuditEvent, AuditLink  # noqa: F401
from .calendar import CalendarDay, CalendarStamp  # noqa: F401
from .cases import Case, CaseEvent, CaseFacts, CaseNumberCounter
from .escalation import DeadlineReminder, EscalationRequest
from .federation import FederationKey, FederationPeer, FederationPush, ReceivedReport  # noqa: F401
from .imports import ImportRun
from .notifications import DepartmentWebhook, Notification, NotificationPreference  # noqa: F401
from .oversight import (  # noqa: F401
    CirculatedNotice,
    OversightAttachment,
    OversightCase,
    OversightEvent,
    RegionMonth,
    SpotCheck,
    SpotCheckDraw,
)
from .persons import AccountApplication, Person  # noqa: F401
from .regions import OrgUnit, Region
from .reports import MonthlyReport, MonthlyReportEvent, MonthlyReportPart  # noqa: F401
from .routing import DepartmentRoute
from .rules import Rule
from .scheduling import JobLease, JobRun  # noqa: F401
from .slips import Attachment, CaseSlip, Slip, SlipFields, SlipSignoff, SlipVersion
from .users import User
from .whitelist import WhitelistEntry

__all__ = [
    "Attachment",
    "AuditEvent",
    "CalendarDay",
    "Case",
    "CaseEvent",
    "CaseFacts",
    "CaseNumberCounter",
    "CaseSlip",
    "DeadlineReminder",
    "DepartmentRoute",
    "EscalationRequest",
    "ImportRun",
    "OrgUnit",
    "Region",
    "Rule",
    "Slip",
    "SlipFields",
    "SlipSignoff",
    "SlipVersion",
    "User",
    "WhitelistEntry",
]
