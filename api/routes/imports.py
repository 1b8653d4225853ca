"""How warnings arrive: POST /api/v1/warnings/import (the platform's JSON batches) and the
file imports (数据导入) under /api/v1/imports, which the page /imports and `warnflow import`
share: the same workflows functions (workflows.imports.runs)."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Body, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session

from models.db import get_engine, writer
from workflows.core.actors import Actor
from workflows.core.clock import now_utc
from workflows.core.roles import IMPORTERS
from workflows.imports.catalog import KINDS
from workflows.imports.files import size_text
from workflows.imports.reports import template
from workflows.imports.runs import (
    FileTooLarge,
    error_report_of,
    import_view,
    kind_of,
    list_imports,
    open_import,
    run_import,
)
from workflows.intake.imports import MAX_ITEMS, WarningIn, import_warnings

from ..deps import CurrentActor, SessionDep, SettingsDep, allow
from ..params import Id

router = APIRouter(tags=["预警导入"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportItemError(BaseModel):
    index: int
    field: str
    code: str
    message: str


class ImportOut(BaseModel):
    created: int
    duplicates: int
    whitelisted: int
    # Text fields whose control characters were removed.
    stripped: int = 0
    errors: list[ImportItemError]


_EXAMPLE = WarningIn(
    rule_code="ZC-001", region_code="410121", source="henan-platform", external_id="W-20261123-0001",
    raised_at="2026-11-23T08:30:00+08:00",
    facts={"fund_name": "中央财政衔接推进乡村振兴补助资金", "payee_name": "安县城关镇农民专业合作社",
           "payee_account": "6222020200112233445", "amount": "50000.00", "payment_date": "2026-11-18",
           "purpose": "产业扶持资金"},
).model_dump(mode="json", exclude_none=True)


@router.post(
    "/warnings/import", response_model=ImportOut, summary="批量导入预警",
    dependencies=[Depends(allow(IMPORTERS))],
    responses={413: {"description": "请求体超过上限（设置 import_body_max_bytes）"}},
    description=(
        f"一次最多 {MAX_ITEMS:,} 条，超过则整批拒绝（422）。按（source, external_id）去重，重复发送不会重复建档；"
        "有误的条目逐条报告（index、field），其余照常入库；收款人或账户在白名单内的不产生预警。"
        "文字前后的空格去掉，控制字符删除（stripped 为删除过的字段数）；预警产生时间须在 2000-01-01 至当前时间之间；"
        "每条预警的其他要素（payload）上限 64 KB。每条预警的字段见 WarningIn。"
    ),
)
def import_batch(
    items: Annotated[list[Any], Body(examples=[[_EXAMPLE]])],
    actor: CurrentActor,
    session: SessionDep,
) -> ImportOut:
    # Items are validated one by one in workflows so that a bad one is reported, not fatal.
    result = import_warnings(session, actor=actor, items=items, as_of=now_utc())
    return ImportOut.model_validate(result.as_dict())


# -- file imports ----------------------------------------------------------------------------

Sessions = Callable[[], AbstractContextManager[Session]]


def get_import_sessions(settings: SettingsDep) -> Sessions:
    """Sessions for an import's background work (its own transactions, committed per chunk)."""
    engine = writer(get_engine(settings.resolved_database_url))
    return lambda: Session(engine, expire_on_commit=False)


ImportSessions = Annotated[Sessions, Depends(get_import_sessions)]


class ImportQueued(BaseModel):
    id: int
    state: Literal["queued", "running", "done", "failed"]


class ImportStatus(BaseModel):
    id: int
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    file_name: str
    sha256: str
    source: str
    dry_run: bool
    rows: int
    done: int
    created: int
    updated: int
    duplicates: int
    suppressed: int
    refused: int
    stripped: int
    encoding: str | None
    unknown_headers: list[str]
    message: str | None
    has_errors: bool
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    seconds: float | None


class ImportPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[ImportStatus]


async def read_upload(file: UploadFile, max_bytes: int) -> bytes:
    """The uploaded file, refused (413) one byte past the limit without reading all of it."""
    data = await file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLarge(f"文件过大：上限 {size_text(max_bytes)}，请拆分后上传")
    return data


def start_import(session: Session, sessions: Sessions, background: BackgroundTasks, *,
                 actor: Actor, kind: str, file_name: str, data: bytes, source: str | None,
                 dry_run: bool) -> int:
    """Queue an import (the file checked as a whole) and run its rows after the response."""
    run, table = open_import(session, actor=actor, kind=kind, file_name=file_name, data=data,
                             source=source, dry_run=dry_run, as_of=now_utc())
    session.commit()
    background.add_task(run_import, sessions, run.id, data, actor=actor, table=table)
    return run.id


@router.post(
    "/imports", status_code=202, response_model=ImportQueued, summary="上传文件导入",
    dependencies=[Depends(allow(IMPORTERS))],
    responses={413: {"description": "文件超过上限（设置 import_file_max_bytes）"},
               422: {"description": "文件无法读取、缺少必填列、行数超限等，message 说明原因"}},
    description=(
        "multipart 表单：kind（导入类别：warnings 预警；users 账户，仅系统管理员）、file（.xlsx、.xls 或 .csv；CSV 可为 UTF-8 或 GBK/GB18030）、"
        "source（来源系统，可选）、dry_run（只检查不写入）。文件整体先检查（格式、表头、必填列、行数），"
        "有误则 422 且不留记录；通过后在后台逐批导入，用 GET /api/v1/imports/{id} 查看进度。"
    ),
)
async def upload_import(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    sessions: ImportSessions,
    background: BackgroundTasks,
    kind: Annotated[str, Form(description="导入类别：" + "、".join(
        name for name, k in KINDS.items() if not k.system_only) + "（账户通过账户申请办理）")],
    file: Annotated[UploadFile, File(description=".xlsx、.xls 或 .csv")],
    source: Annotated[str | None, Form(max_length=32, description="来源系统")] = None,
    dry_run: Annotated[bool, Form(description="只检查，不写入")] = False,
) -> ImportQueued:
    data = await read_upload(file, settings.import_file_max_bytes)
    import_id = start_import(session, sessions, background, actor=actor, kind=kind,
                             file_name=file.filename or "", data=data, source=source,
                             dry_run=dry_run)
    return ImportQueued(id=import_id, state="queued")


@router.get("/imports", response_model=ImportPage, summary="导入记录",
            dependencies=[Depends(allow(IMPORTERS))])
def import_history(session: SessionDep, page: Annotated[Id, Query()] = 1,
                   per_page: Annotated[int, Query(ge=1, le=100)] = 20) -> ImportPage:
    views, total = list_imports(session, as_of=now_utc(), page=page, per_page=per_page)
    return ImportPage(total=total, page=page, per_page=per_page,
                      items=[ImportStatus.model_validate(v.as_dict()) for v in views])


def _xlsx(name: str, data: bytes) -> Response:
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store",
    })


@router.get("/imports/templates/{kind}.xlsx", summary="导入模板", response_class=Response,
            dependencies=[Depends(allow(IMPORTERS))],
            responses={200: {"content": {XLSX: {}}}})
def import_template(kind: str) -> Response:
    the_kind = kind_of(kind)
    return _xlsx(f"{the_kind.label}导入模板.xlsx", template(the_kind))


@router.get("/imports/{import_id}", response_model=ImportStatus, summary="导入进度与结果",
            dependencies=[Depends(allow(IMPORTERS))])
def import_status(import_id: Id, session: SessionDep) -> ImportStatus:
    return ImportStatus.model_validate(import_view(session, import_id, as_of=now_utc()).as_dict())


@router.get("/imports/{import_id}/errors.xlsx", summary="错误报告", response_class=Response,
            dependencies=[Depends(allow(IMPORTERS))],
            responses={200: {"content": {XLSX: {}}}})
def import_errors(import_id: Id, session: SessionDep) -> Response:
    name, data = error_report_of(session, import_id)
    return _xlsx(name, data)
