"""What a link says: a row's canonical digest and the link's hash.

A row digest is the SHA-256 of the row's columns (all but the table's `mutable` ones) as
canonical JSON: keys sorted, no spaces, UTF-8, timestamps in UTC ISO form, binary columns by
their own SHA-256. It is computed from the row as read back from the database, so the seal and
the check read the same values the same way on either backend.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

import models  # noqa: F401  (every table in the metadata)
from models.audit import AUDITED_TABLES, GENESIS, AuditedTable

__all__ = ["GENESIS", "canonical", "digest_rows", "link_hash", "row_digest", "table_of"]


def table_of(audited: AuditedTable) -> sa.Table:
    return SQLModel.metadata.tables[audited.name]


def digested_columns(audited: AuditedTable) -> list[sa.Column]:
    return [c for c in table_of(audited).columns if c.name not in audited.mutable]


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bytes | bytearray | memoryview):
        return {"sha256": hashlib.sha256(bytes(value)).hexdigest()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def canonical(row: dict[str, Any]) -> bytes:
    return json.dumps(
        _plain(row), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def row_digest(row: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def link_hash(prev_hash: str, table_name: str, row_id: int, digest: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{table_name}|{row_id}|{digest}".encode()).hexdigest()


def digest_rows(session: Session, audited: AuditedTable, ids: Sequence[int]) -> dict[int, str]:
    """The live digest of each of these rows that still exists, by id (one query)."""
    if not ids:
        return {}
    table = table_of(audited)
    rows = session.execute(sa.select(*digested_columns(audited)).where(table.c.id.in_(ids)))
    return {row["id"]: row_digest(dict(row)) for row in rows.mappings()}


def audited(names: Iterable[str] | None = None) -> list[AuditedTable]:
    return [AUDITED_TABLES[n] for n in (names or AUDITED_TABLES)]
