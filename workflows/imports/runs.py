"""Importing a file (数据导入): checked as a whole first, then its rows in chunks, each chunk
through the kind's workflow (for warnings: imports.import_warnings) and committed with the
import's progress, so a reader sees rows done advance and a process killed halfway leaves
whole chunks only: importing the same file again skips what landed (duplicates) and
finishes the rest.

`queue_import` is the synchronous part every door runs first: a file that cannot be read,
has no matching header, lacks a required column or has too many rows is refused there
(InvalidInput, nothing recorded). `run_import` then does the rows, in the background for
the page and the API, in the foreground for the CLI.
"""

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from models import ImportRun, User
from models.enums import Role
from models.settings import get_settings
from workflows.core.actors import Actor
from workflows.core.clock import now_utc
from workflows.core.errors import DomainError, InvalidInput, NotFound, RoleNotAllowed
from workflows.imports.catalog import KINDS
from workflows.imports.files import Table, open_table, size_text
from workflows.imports.kinds import Kind, RowReader
from workflows.imports.reports import ReportRow, error_report

# A running import not heard of for this long died with its process.
STALE_AFTER = timedelta(minutes=5)
STATES = ("queued", "running", "done", "failed")


class FileTooLarge(DomainError):
    code = "too_large"
    status = 413


def kind_of(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        choices = "、".join(f"{k.name}（{k.label}）" for k in KINDS.values())
        raise InvalidInput.single("kind", "unknown_kind", f"导入类别须为 {choices}")
    return kind


def open_for(kind: Kind, data: bytes, file_name: str) -> Table:
    settings = get_settings()
    if len(data) > settings.import_file_max_bytes:
        raise FileTooLarge(f"文件过大：上限 {size_text(settings.import_file_max_bytes)}，"
                           f"本文件 {size_text(len(data))}，请拆分后上传")
    known = {key: column.field for key, (column, _) in kind.column_index().items()}
    return open_table(data, file_name, known=known,
                      required={c.field for c in kind.columns if c.required},
                      label_of={c.field: c.label for c in kind.columns},
                      max_rows=settings.import_max_rows)


def queue_import(session: Session, *, actor: Actor, kind: str, file_name: str, data: bytes,
                 source: str | None, dry_run: bool, as_of: datetime) -> ImportRun:
    """Check the file as a whole and record the import, queued; refuses a bad file."""
    return open_import(session, actor=actor, kind=kind, file_name=file_name, data=data,
                       source=source, dry_run=dry_run, as_of=as_of)[0]


def open_import(session: Session, *, actor: Actor, kind: str, file_name: str, data: bytes,
                source: str | None, dry_run: bool, as_of: datetime) -> tuple[ImportRun, Table]:
    """queue_import, also giving the opened file, so that run_import in the same process
    need not read it again (a 50,000-row workbook takes a second to open)."""
    the_kind = kind_of(kind)
    if the_kind.system_only and actor.role != Role.SYSTEM:
        raise RoleNotAllowed(
            f"{the_kind.label}不能在此导入：账户的开通、变更和注销须提交账户申请，经处室负责人审核、"
            "系统管理员审批后办理；批量导入仅用于上线时在服务器上执行 warnflow import users 初始化")
    source = (source or "").strip() or "platform-file"
    if len(source) > 32:
        raise InvalidInput.single("source", "string_too_long", "来源系统：最多 32 个字符")
    file_name = (file_name or "").strip() or "upload"
    table = open_for(the_kind, data, file_name)
    run = ImportRun(
        kind=the_kind.name, state="queued", file_name=file_name[-255:],
        sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data), source=source,
        dry_run=dry_run, encoding=table.encoding, rows=table.total_rows,
        created_by_id=actor.user_id, created_at=as_of, updated_at=as_of,
    )
    session.add(run)
    session.flush()
    return run, table


@dataclass
class _Pending:
    number: int  # the row's number in the file
    cells: list[Any]


def _chunked(table: Table, size: int) -> Iterator[list[_Pending]]:
    chunk: list[_Pending] = []
    for number, cells in table.rows():
        chunk.append(_Pending(number, cells))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_import(sessions: Callable[[], AbstractContextManager[Session]], import_id: int,
               data: bytes, *, actor: Actor, table: Table | None = None,
               on_progress: Callable[[ImportRun], None] | None = None) -> ImportRun:
    """Do the rows of a queued import; returns the finished record (done or failed).

    `sessions()` gives a session (its context ends it); each chunk is committed with the
    progress, unless the import is a dry run, whose work is rolled back at the end.
    """
    with sessions() as session:
        run = session.get(ImportRun, import_id)
        if run is None:
            raise NotFound("导入记录不存在")
        kind = kind_of(run.kind)
        run.state, run.started_at = "running", now_utc()
        run.updated_at = run.started_at
        session.commit()
        report: list[ReportRow] = []
        try:
            table = table or open_for(kind, data, run.file_name)
            _rows(session, run, kind, table, actor, report, on_progress)
            if run.dry_run:
                counts = {name: getattr(run, name) for name in _COUNTS}
                session.rollback()
                run = session.get(ImportRun, import_id)
                for name, value in counts.items():
                    setattr(run, name, value)
            run.error_report = error_report(table.header, report) if report else None
            run.state = "done"
        except Exception as error:  # the record must say the import failed, whatever broke
            session.rollback()
            done = session.get(ImportRun, import_id)
            run = done
            run.state = "failed"
            run.message = error.message if isinstance(error, DomainError) else (
                f"导入中断：{type(error).__name__}；已写入的批次保留，重新导入同一文件可继续完成")
        run.finished_at = run.updated_at = now_utc()
        session.commit()
        if on_progress:
            on_progress(run)
        session.refresh(run)
        return run


_COUNTS = ("rows", "done", "created", "updated", "duplicates", "suppressed", "refused",
           "stripped", "unknown_headers")


def _rows(session: Session, run: ImportRun, kind: Kind, table: Table, actor: Actor,
          report: list[ReportRow], on_progress) -> None:
    reader = RowReader(kind, table.header)
    run.unknown_headers = "、".join(reader.unknown) or None
    run.rows = table.total_rows
    header_of = reader.header_of
    for chunk in _chunked(table, kind.chunk):
        items, numbers = [], []
        for pending in chunk:
            item, errors = reader.item(pending.cells)
            if errors:
                report.append(ReportRow(pending.number, [e[0] for e in errors],
                                        [e[1] for e in errors], [e[2] for e in errors], pending.cells))
                continue
            items.append(item)
            numbers.append(pending)
        outcome = kind.write(session, actor, items, now_utc(), run.source) if items else None
        refused_rows = len(chunk) - len(items)
        if outcome is not None:
            by_item: dict[int, list[tuple[str, str]]] = {}
            for position, field_name, message in outcome.errors:
                by_item.setdefault(position, []).append((field_name, message))
            for position, problems in sorted(by_item.items()):
                pending = numbers[position]
                columns = [_column_name(kind, header_of, f) for f, _ in problems]
                values = [_value_of(table.header, pending.cells, c) for c in columns]
                report.append(ReportRow(pending.number, columns, values,
                                        [m for _, m in problems], pending.cells))
            refused_rows += len(by_item)
            run.created += outcome.created
            run.updated += outcome.updated
            run.duplicates += outcome.duplicates
            run.suppressed += outcome.suppressed
            run.stripped += outcome.stripped
        run.refused += refused_rows
        run.done += len(chunk)
        run.updated_at = now_utc()
        if not run.dry_run:
            session.commit()
        if on_progress:
            on_progress(run)
    report.sort(key=lambda r: r.number)


def _column_name(kind: Kind, header_of: dict[str, str], field_name: str) -> str:
    if field_name in header_of:
        return header_of[field_name]
    return kind.label_of(field_name) or {"payload": "其他要素", "item": "整行"}.get(field_name, field_name)


def _value_of(header: list[str], cells: list[Any], column: str) -> str:
    if column in header:
        position = header.index(column)
        value = cells[position] if position < len(cells) else None
        return "" if value is None else str(value)
    return ""


# -- reading the history -------------------------------------------------------------------

@dataclass(frozen=True)
class ImportView:
    """One import as the page and the API show it."""

    id: int
    kind: str
    kind_label: str
    state: str
    file_name: str
    sha256: str
    source: str
    dry_run: bool
    encoding: str | None
    rows: int
    done: int
    created: int
    updated: int
    duplicates: int
    suppressed: int
    refused: int
    stripped: int
    unknown_headers: str | None
    message: str | None
    has_errors: bool
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def percent(self) -> int:
        if self.state in ("done",):
            return 100
        return int(self.done * 100 / self.rows) if self.rows else 0

    def as_dict(self) -> dict:
        return {
            "id": self.id, "kind": self.kind, "state": self.state, "file_name": self.file_name,
            "sha256": self.sha256, "source": self.source, "dry_run": self.dry_run,
            "rows": self.rows, "done": self.done, "created": self.created, "updated": self.updated,
            "duplicates": self.duplicates, "suppressed": self.suppressed, "refused": self.refused,
            "stripped": self.stripped, "encoding": self.encoding,
            "unknown_headers": self.unknown_headers.split("、") if self.unknown_headers else [],
            "message": self.message, "has_errors": self.has_errors, "created_by": self.created_by,
            "created_at": self.created_at, "started_at": self.started_at,
            "finished_at": self.finished_at, "seconds": self.seconds,
        }


_VIEW_COLUMNS = [c for c in ImportRun.__table__.c if c.name != "error_report"]


def _view(row, as_of: datetime) -> ImportView:
    state, message = row.state, row.message
    if state in ("queued", "running") and as_of - row.updated_at > STALE_AFTER:
        state = "failed"
        message = "导入进程已中断；已写入的批次保留，重新导入同一文件可继续完成"
    return ImportView(
        id=row.id, kind=row.kind, kind_label=KINDS[row.kind].label if row.kind in KINDS else row.kind,
        state=state, file_name=row.file_name, sha256=row.sha256, source=row.source,
        dry_run=row.dry_run, encoding=row.encoding, rows=row.rows, done=row.done,
        created=row.created, updated=row.updated, duplicates=row.duplicates,
        suppressed=row.suppressed, refused=row.refused, stripped=row.stripped,
        unknown_headers=row.unknown_headers, message=message, has_errors=row.has_errors,
        created_by=row.created_by or "命令行", created_at=row.created_at,
        started_at=row.started_at, finished_at=row.finished_at,
    )


def _select():
    table = ImportRun.__table__
    return (
        sa.select(*_VIEW_COLUMNS, table.c.error_report.is_not(None).label("has_errors"),
                  User.full_name.label("created_by"))
        .select_from(table)
        .outerjoin(User, User.id == table.c.created_by_id)
    )


def import_view(session: Session, import_id: int, *, as_of: datetime) -> ImportView:
    row = session.connection().execute(_select().where(ImportRun.__table__.c.id == import_id)).first()
    if row is None:
        raise NotFound("导入记录不存在")
    return _view(row, as_of)


def list_imports(session: Session, *, as_of: datetime, page: int = 1, per_page: int = 20,
                 ) -> tuple[list[ImportView], int]:
    """The history, newest first: one page of it and the total count."""
    table = ImportRun.__table__
    total = session.connection().execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    rows = session.connection().execute(
        _select().order_by(table.c.id.desc()).limit(per_page).offset((max(page, 1) - 1) * per_page)
    )
    return [_view(row, as_of) for row in rows], total


def error_report_of(session: Session, import_id: int) -> tuple[str, bytes]:
    """(file name, XLSX bytes) of an import's error report."""
    row = session.exec(select(ImportRun.file_name, ImportRun.error_report)
                       .where(ImportRun.id == import_id)).first()
    if row is None:
        raise NotFound("导入记录不存在")
    if row.error_report is None:
        raise NotFound("这次导入没有被拒绝的行，没有错误报告")
    stem = row.file_name.rsplit(".", 1)[0]
    return f"{stem}-错误报告-{import_id}.xlsx", row.error_report
