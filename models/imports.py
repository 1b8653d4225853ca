"""The import history (数据导入): one row per uploaded file, with its counts and error report."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class ImportRun(SQLModel, table=True):
    __tablename__ = "import_run"
    __table_args__ = (sa.Index("ix_import_run_created_at", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # What the file holds: "warnings" (workflows.imports.kinds).
    kind: str = Field(max_length=32)
    # queued | running | done | failed
    state: str = Field(default="queued", max_length=16)
    file_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    size_bytes: int = 0
    source: str = Field(max_length=32)
    dry_run: bool = False
    # The detected text encoding of a CSV ("utf-8", "utf-8-sig", "gb18030"); None for workbooks.
    encoding: str | None = Field(default=None, max_length=16)
    rows: int = 0
    done: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    suppressed: int = 0
    refused: int = 0
    # Control characters removed from text fields (they break spreadsheet exports).
    stripped: int = 0
    # Headers the importer does not know (kept in the case's payload), "、"-joined.
    unknown_headers: str | None = Field(default=None, sa_type=sa.Text)
    # Why a file failed as a whole, in Chinese.
    message: str | None = Field(default=None, sa_type=sa.Text)
    # The error report (XLSX) for refused rows; None when no row was refused.
    error_report: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    # None: `warnflow import` run by the operator without --user.
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Last progress write: a running import not heard of for long died with its process.
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
