"""The HTML pages (server-rendered Jinja2). Each module has one `router`; list it here."""

from fastapi import APIRouter


def page_routers() -> list[APIRouter]:
    # Imported when the app is built, not with the package: one module of it (a schema, a
    # helper the CLI or a test uses) then loads without every router and its dependencies.
    from . import (
        admin,
        admin_notice,
        applications,
        audit,
        auth,
        batch,
        cases,
        escalations,
        federation_admin,
        imports,
        inbox,
        ledger,
        oversight,
        report_chain,
        reports,
        review,
        slips,
        summary,
        work,
    )

    return [auth.router, work.router, cases.router, slips.router, batch.router, review.router,
            summary.router, admin.router, admin_notice.router, inbox.router, escalations.router, oversight.router,
            report_chain.router, ledger.router, federation_admin.router, reports.router,
            imports.router, applications.router, audit.router]
