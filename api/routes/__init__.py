"""The JSON API (/api/v1). Each module has one `router`; list it here to serve it."""

from fastapi import APIRouter


def api_routers() -> list[APIRouter]:
    from . import (
        admin,
        auth,
        cases,
        escalations,
        federation,
        imports,
        inbox,
        report_chain,
        reports,
        slips,
    )

    return [auth.router, cases.router, slips.router, admin.router, imports.router, inbox.router,
            escalations.router, reports.router, report_chain.router, federation.router]
