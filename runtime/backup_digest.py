"""What a backup promises and a restore checks: per-table row counts and row checksums, file
SHA-256s and the settings' checksum. The same code reads the live database at backup time and
the restored one afterwards, so equal digests mean equal rows."""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from models.settings import Settings

CHUNK = 1024 * 1024
LOCATIONS = ("database_url", "var_dir", "audit_head_path", "host", "port")


@dataclass(frozen=True)
class TableDigest:
    rows: int
    sha256: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _canonical(value):
    # Driver values as text that does not depend on the process: the same row gives the
    # same line on the live database and on its restored copy (same backend).
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def table_names(connection: Connection) -> list[str]:
    return sorted(sa.inspect(connection).get_table_names())


def table_digests(connection: Connection) -> dict[str, TableDigest]:
    """Every table's row count and the SHA-256 of its rows, in primary-key order."""
    inspector = sa.inspect(connection)
    preparer = connection.dialect.identifier_preparer
    digests: dict[str, TableDigest] = {}
    for table in table_names(connection):
        columns = [column["name"] for column in inspector.get_columns(table)]
        order = inspector.get_pk_constraint(table).get("constrained_columns") or columns
        select = (f"SELECT {', '.join(preparer.quote(c) for c in columns)} FROM {preparer.quote(table)}"
                  f" ORDER BY {', '.join(preparer.quote(c) for c in order)}")
        digest = hashlib.sha256(json.dumps(columns).encode())
        count = 0
        for row in connection.exec_driver_sql(select):
            digest.update(json.dumps(list(row), default=_canonical, sort_keys=True).encode())
            digest.update(b"\n")
            count += 1
        digests[table] = TableDigest(count, digest.hexdigest())
    return digests


def rows_in_tables(connection: Connection) -> dict[str, int]:
    """Tables that hold any row (alembic's own bookkeeping aside)."""
    preparer = connection.dialect.identifier_preparer
    found = {}
    for table in table_names(connection):
        if table == "alembic_version":
            continue
        count = connection.exec_driver_sql(f"SELECT COUNT(*) FROM {preparer.quote(table)}").scalar_one()
        if count:
            found[table] = count
    return found


def settings_sha256(settings: Settings) -> str:
    """A checksum of the settings that never carries a secret: secret fields are left out
    (only whether each is set counts). Where things live (database URL, var_dir, head file)
    is left out too: a restore onto another machine moves them by design."""
    values = settings.model_dump(mode="json", exclude=set(LOCATIONS))
    for name, field in Settings.model_fields.items():
        if "SecretStr" in str(field.annotation):
            values[name] = getattr(settings, name) is not None
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()
