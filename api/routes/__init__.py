"""The JSON API (/api/v1). Each module has one `router`; list it here to serve it."""

from fastapi import APIRouter


def api_routers() -> list[APIRouter]:
    # Imported when the app is built, not with the package: one module of it (a schema, a
    # helper the CLI or a test uses) then loads without every router and its dependencies.
    from . import (
        admin,
        applications,
        audit,
        auth,
        cases,
        duties,
        escalations,
        federation,
        imports,
        inbox,
        oversight,
        report_chain,
        reports,
        slips,
    )

    return [auth.router, cases.router, slips.router, admin.router, imports.router, inbox.router,
            escalations.router, oversight.router, reports.router, report_chain.router, federation.router,
            applications.router, duties.router, audit.router]
