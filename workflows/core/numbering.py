"""Human numbers: YJ-YYYYMM-NNNNNN for cases, HS-/ZG-YYYYMM-NNNNNN for slips."""

import functools
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models import CaseNumberCounter
from workflows.core.calendar import LOCAL_TZ

CASE_PREFIX = "YJ"


@functools.cache
def _counter_upsert(dialect: str):
    table = CaseNumberCounter.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    stmt = insert.values(key=sa.bindparam("k"), last=sa.bindparam("n"))
    return stmt.on_conflict_do_update(
        index_elements=[table.c.key], set_={"last": table.c.last + stmt.excluded.last}
    ).returning(table.c.last)


def counter_key(prefix: str, at: datetime) -> str:
    """The counter a number is drawn from: one per prefix and local month."""
    return f"{prefix}-{at.astimezone(LOCAL_TZ).strftime('%Y%m')}"


def allocate_numbers(session: Session, *, prefix: str, at: datetime, count: int = 1) -> list[str]:
    """Reserve `count` consecutive numbers for the local month of `at`, in one statement."""
    key = counter_key(prefix, at)
    connection = session.connection()
    upsert = _counter_upsert(connection.dialect.name)
    last = connection.execute(upsert, {"k": key, "n": count}).scalar_one()
    return [f"{key}-{n:06d}" for n in range(last - count + 1, last + 1)]


def pg_allocate_one_sql(key_param: str, after: str) -> str:
    """PostgreSQL CTE body drawing one number from counter %(key_param)s for each row of the
    CTE `after`, returning it as `number` (the same text as allocate_numbers')."""
    key = f"%({key_param})s::VARCHAR(16)"
    return (
        f"INSERT INTO case_number_counter (key, last) SELECT {key}, 1 FROM {after}"
        " ON CONFLICT (key) DO UPDATE SET last = case_number_counter.last + excluded.last"
        " RETURNING key || '-' || lpad(last::text, greatest(6, length(last::text)), '0')"
        " AS number"
    )
