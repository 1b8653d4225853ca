"""数据导入 (/imports): pick what the file holds, download its template, upload, watch the
progress bar, and find every earlier import with its counts and error report.

The upload calls the same workflows functions as POST /api/v1/imports; the progress bar
reads GET /api/v1/imports/{id} (the page's cookie is accepted there)."""

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.datastructures import UploadFile as StarletteUploadFile

from workflows.core.clock import now_utc
from workflows.core.errors import DomainError
from workflows.imports.catalog import KINDS
from workflows.imports.files import size_text
from workflows.imports.runs import FileTooLarge, import_view, list_imports

from ..deps import SessionDep, SettingsDep, allow
from ..params import Id
from ..routes.imports import IMPORTERS, ImportSessions, start_import
from .csrf import CsrfForm, PostedForm
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)
PER_PAGE = 20


def _page(request: Request, session: Session, *, current: int | None = None, page: int = 1,
          form=None, message: str | None = None, status_code: int = 200):
    now = now_utc()
    history, total = list_imports(session, as_of=now, page=page, per_page=PER_PAGE)
    watched = None
    if current is not None:
        try:
            watched = import_view(session, current, as_of=now)
        except DomainError:
            watched = None
    if watched is None:
        # Come back to the page while an import runs: its progress is shown again.
        watched = next((v for v in history if v.state in ("queued", "running")), None)
    return render(request, "imports.html", {
        # Accounts are not imported on the web: they go by application.
        "kinds": [k for k in KINDS.values() if not k.system_only],
        "history": history, "total": total, "page": page,
        "pages": max(1, -(-total // PER_PAGE)), "watched": watched, "form": form or {},
        "message": message,
    }, status_code=status_code)


@router.get("/imports", dependencies=[Depends(allow(IMPORTERS))])
def imports_page(request: Request, actor: Viewer, session: SessionDep, id: Id | None = None,
                 page: Id = 1):
    return _page(request, session, current=id, page=max(page, 1))


@router.post("/imports", dependencies=[Depends(allow(IMPORTERS)), CsrfForm])
async def upload(request: Request, actor: Viewer, session: SessionDep, settings: SettingsDep,
                 sessions: ImportSessions, background: BackgroundTasks, form: PostedForm):
    kind = str(form.get("kind") or "")
    source = str(form.get("source") or "")
    dry_run = form.get("dry_run") in ("1", "on", "true")
    kept = {"kind": kind, "source": source, "dry_run": dry_run}
    upload = form.get("file")
    if not isinstance(upload, StarletteUploadFile) or not upload.filename:
        return _page(request, session, form=kept, message="请选择要上传的文件", status_code=422)
    limit = settings.import_file_max_bytes
    data = await upload.read(limit + 1)
    try:
        if len(data) > limit:
            raise FileTooLarge(f"文件过大：上限 {size_text(limit)}，请拆分后上传")
        import_id = start_import(session, sessions, background, actor=actor, kind=kind,
                                 file_name=upload.filename, data=data, source=source or None,
                                 dry_run=dry_run)
    except DomainError as refused:
        session.rollback()
        return _page(request, session, form=kept, message=refused.message,
                     status_code=refused.status)
    return RedirectResponse(f"/imports?id={import_id}", status_code=303)
