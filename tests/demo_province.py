"""The demo province loaded once per backend for a test module's read-only checks."""

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from workflows.demo import load_demo

# Monday 2026-11-23 09:00 in Shanghai, the day the demo is shown.
SHOWN_AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
PASSWORD = "Demo-Passw0rd"


def demo_session(engine: Engine) -> Iterator[Session]:
    """The demo inside a transaction rolled back when the module is done."""
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            assert load_demo(session, password=PASSWORD, as_of=SHOWN_AT).created
            yield session
        transaction.rollback()
