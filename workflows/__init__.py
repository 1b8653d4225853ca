"""The domain: what happens to a warning, from intake to the monthly report. No web, no jobs.

One subpackage per concept, in layers: a subpackage imports only from layers below its own,
never from the layers above nor from a sibling in its own layer (pyproject.toml
[tool.importlinter] checks it in `make lint` and `make test`).

    demo          the demo province: a year of cases built through the real functions
    ---
    imports       files in (数据导入): reading XLSX/XLS/CSV, the kinds a file may hold (warnings,
                  accounts), import runs with their history and error reports
    ---
    intake        warnings becoming routed cases: batch import, routing table, monitoring whitelist
    reporting     monthly figures, drafts, the countersigning chain and its effects, reads, ledger
    admin         accounts, logins, rules, calendar overrides and the State Council notice (every
                  change audited)
    ---
    escalation    the deadline ladder: reminders, bells turning lights, extension and escalation requests,
                  re-planning open deadlines when the calendar changes
    federation    signing keys, trusted peers, the signed report exchange between deployments
    oversight     the three-month rule: streaks, special inspections and interviews
    audit         the hash chain over every audited row: sealing, verifying, the audit viewer
    ---
    cases         the case lifecycle table, transition(), slips, attachments, case reads and queries
    ---
    core          actors and role sets, audit trail, working-day calendar and months, clock,
                  errors, numbering, set-based claiming, notification queueing

Above the domain: forms and notifications, then runtime (jobs, scheduler, flows), then api
(routes, pages, CLI); below it, models.
"""
