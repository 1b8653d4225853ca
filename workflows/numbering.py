"""Human numbers: YJ-YYYYMM-NNNNNN for cases, HS-/ZG-YYYYMM-NNNNNN for slips."""

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models import CaseNumberCounter

from .calendar import LOCAL_TZ

CASE_PREFIX = "YJ"


def allocate_numbers(session: Session, *, prefix: str, at: datetime, count: int = 1) -> list[str]:
    """Reserve `count` consecutive numbers for the local month of `at`, in one statement."""
    month = at.astimezone(LOCAL_TZ).strftime("%Y%m")
    key = f"{prefix}-{month}"
    connection = session.connection()
    dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    table = CaseNumberCounter.__table__
    stmt = dialect_insert(table).values(key=key, last=count)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.key], set_={"last": table.c.last + count}
    ).returning(table.c.last)
    last = connection.execute(stmt).scalar_one()
    return [f"{key}-{n:06d}" for n in range(last - count + 1, last + 1)]
