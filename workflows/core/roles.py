"""Every set of roles the rules speak of, named once (DOMAIN.md "Who uses it").

A set used by one state machine's own table (e.g. "the treasury confirms") stays in that
table; a set that says who may read or act on a whole kind of thing lives here, so that the
routes, the pages, the navigation and the workflows check the same people.
"""

from models.enums import Role

HANDLERS = frozenset({Role.HANDLER})
SUPERVISORS = frozenset({Role.SUPERVISOR})
# A department's own people, the ones who act on cases: they see and act on their own
# department's cases only ("谁主管、谁负责"); transition() then applies the lifecycle
# table's roles step by step.
CASE_ACTORS = HANDLERS | SUPERVISORS
ADMINS = frozenset({Role.ADMIN})
# The roles that act on warnings, reports or oversight cases. One person may not hold one of
# these and an administrator account at once (不得混岗, MoF 2007 art. 17–18).
OPERATORS = frozenset(
    {Role.HANDLER, Role.SUPERVISOR, Role.TREASURY, Role.POVERTY_OFFICE, Role.SUPERVISION, Role.LEADER}
)
# Never read a case: the administrator (separation of duties, 不得混岗) and the integration
# account (it only sends data in).
CASE_BLIND = frozenset({Role.ADMIN, Role.INTEGRATION})
# The system itself acts in jobs and never logs in.
NO_BROWSER_LOGIN = frozenset({Role.SYSTEM})
# Everyone who logs in.
EVERYONE = frozenset(Role) - NO_BROWSER_LOGIN
CASE_READERS = EVERYONE - CASE_BLIND
# The offices that answer for a region rather than a department, and read its monthly
# reports, its ledger and its oversight cases (scope: their region): the treasury, the
# poverty office, the supervision bureau, the leadership, the provincial office; auditors.
# Handlers and section heads work on warnings, not on these.
OFFICE_READERS = frozenset(
    {Role.TREASURY, Role.POVERTY_OFFICE, Role.SUPERVISION, Role.LEADER, Role.PROVINCE, Role.AUDITOR}
)
# Who acts on oversight cases: the supervision bureau (inspections) and the leadership
# (interviews); the lifecycle tables in workflows/oversight/cases.py say which step is whose.
OVERSIGHT_ACTORS = frozenset({Role.SUPERVISION, Role.LEADER})
# The province-level roles that receive the monthly reports pushed up from below.
PROVINCE_RECIPIENTS = frozenset({Role.PROVINCE, Role.SUPERVISION, Role.TREASURY})
# The monitoring platform's integration account: it sends warnings in and reports a yellow
# bell's duty done from its own data.
PLATFORM = frozenset({Role.INTEGRATION})
# Who may send warnings in: the monitoring platform's integration account, or an
# administrator uploading a file.
IMPORTERS = frozenset({Role.INTEGRATION, Role.ADMIN})
