"""Engines and sessions. Callers own transactions: services flush, never commit."""

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

import sqlalchemy as sa
from psycopg.types.json import Json
from sqlalchemy import event
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Engine
from sqlmodel import Session


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        db_path = url.split("///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take it over so that
        # SAVEPOINTs (per-test rollback, nested batches) behave as on PostgreSQL.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


# Hot paths on PostgreSQL (transition()) run fixed SQL text straight on psycopg: SQLAlchemy's
# per-execute bookkeeping costs several times what psycopg does. These two give that SQL the
# same types and values SQLAlchemy's column types would.
PG_DIALECT = PGDialect_psycopg()


def pg_cast(column: sa.Column) -> str:
    """The PostgreSQL type of a column, for `%(name)s::TYPE` (psycopg sends text untyped)."""
    return column.type.compile(dialect=PG_DIALECT)


def pg_value(value):
    """A Python value as the column types store it: enums by value, JSON as JSON."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict | list):
        return Json(value)
    return value


def writer(engine: Engine) -> Engine:
    """The engine for a transaction that reads, then writes (a form post, a job).

    On SQLite such a transaction takes the write lock at BEGIN (BEGIN IMMEDIATE): it waits
    (busy_timeout) while another writer works, then reads what that one committed. A plain
    BEGIN would read first and, if the other committed in between, fail at its first write
    with "database is locked" at once: SQLite cannot move a reader's snapshot forward.
    Readers stay on plain BEGIN and never wait. Other databases: the engine itself.
    """
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(sqlite_begin="IMMEDIATE")


def _sqlite_begin(conn) -> None:
    mode = conn.get_execution_options().get("sqlite_begin")
    conn.exec_driver_sql(f"BEGIN {mode}" if mode else "BEGIN")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for a URL (the settings' one by default)."""
    if url is None:
        from .settings import get_settings

        url = get_settings().resolved_database_url
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
