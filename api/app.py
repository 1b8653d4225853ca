"""The FastAPI application: /healthz, the JSON API under /api/v1 and the HTML pages."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.metadata import version as package_version

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session

from models.db import get_engine
from models.migrate import current_heads
from models.settings import Settings, get_settings
from runtime.health import audit_health, late_jobs
from workflows.core.calendar import LOCAL_TZ, WorkingCalendar, load_calendar
from workflows.core.clock import now_utc

from .body_limit import BodyLimit
from .docs import install_docs
from .errors import install_error_handlers
from .headers import SecurityHeaders
from .openapi import install_openapi
from .pages import page_routers
from .pages.errors import render_page_error
from .pages.templating import STATIC_DIR
from .routes import api_routers


def create_app(settings: Settings | None = None, *, on_shutdown: Callable[[], None] | None = None) -> FastAPI:
    """The app; `on_shutdown` runs (in a thread) when the server stops, before the process
    exits: `serve` stops its scheduler there, so a running job records its outcome."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if on_shutdown is not None:
            await asyncio.to_thread(on_shutdown)

    app = FastAPI(
        title="warnflow 财政扶贫资金动态监控预警处理",
        version=package_version("warnflow"),
        # Served by api/docs.py from local files, not a CDN.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(SecurityHeaders)
    install_docs(app)
    # Pages answer domain errors in HTML (login redirect, Chinese error page).
    app.state.render_page_error = render_page_error
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in api_routers():
        app.include_router(router, prefix="/api/v1")
    for router in page_routers():
        app.include_router(router)

    @app.get("/healthz", tags=["运维"])
    def healthz() -> JSONResponse:
        """Version, database kind and reachability, schema revision, calendar coverage, late jobs,
        the last audit-chain verification."""
        body: dict = {
            "status": "ok",
            "version": package_version("warnflow"),
            "database": settings.database_kind,
        }
        engine = get_engine(settings.resolved_database_url)
        try:
            with Session(engine) as session:
                revision = MigrationContext.configure(session.connection()).get_current_revision()
                up_to_date = (revision,) == current_heads()
                today = now_utc().astimezone(LOCAL_TZ).date()
                # Overrides live in a table an unmigrated database does not have yet.
                calendar = load_calendar(session) if up_to_date else WorkingCalendar()
                body["calendar"] = calendar.coverage(today)
                late = late_jobs(session, now=now_utc()) if up_to_date else []
                audit = audit_health(session) if up_to_date else None
            body["schema"] = {"revision": revision, "up_to_date": up_to_date}
            # Late jobs do not take this instance out of a load balancer (still 200): they
            # say nothing runs the scheduler, which an operator must look at.
            body["jobs"] = {"late": [job.name for job in late]}
            if late:
                body.update(status="degraded", warning="定时任务已延误：" + "、".join(
                    f"{job.name}（{job.late_by}）" for job in late))
            if audit is not None:
                body["audit"] = audit
                if audit["passed"] is False:
                    body.update(status="degraded", audit_warning="审计链校验未通过：" + audit["message"])
            if not up_to_date:
                body.update(status="degraded", error="数据库结构不是最新版本，请运行 warnflow migrate")
        except sa.exc.SQLAlchemyError as error:
            body.update(status="error", error=f"数据库不可用：{type(error).__name__}")
            return JSONResponse(body, status_code=503)
        return JSONResponse(body)

    return app
