"""Real databases for every test that asks for one: each runs on SQLite and on PostgreSQL.

One migrated database per backend per run (PostgreSQL: a database of our own, created and
dropped here, never the shared `test` one); each test runs inside a transaction that is
rolled back, so tests never see each other's data.
"""

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import make_engine
from models.migrate import upgrade

PG_ADMIN_DSN = os.environ.get("WARNFLOW_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = [b.strip() for b in os.environ.get("WARNFLOW_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]


def postgres_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def require_postgres() -> None:
    """Skip when PostgreSQL is unreachable, except in CI, where that is a failure."""
    if postgres_reachable():
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_ADMIN_DSN}")
    pytest.skip("PostgreSQL unreachable (set CI=true to make this a failure)")


def create_pg_database(prefix: str = "warnflow_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database URL for tests that manage their own commits."""
    require_postgres()
    url = create_pg_database()
    yield url
    drop_pg_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """A migrated database URL, once per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'warnflow.sqlite3'}"
        upgrade(url)
        yield url
        return
    require_postgres()
    url = create_pg_database()
    upgrade(url)
    yield url
    drop_pg_database(url)


@pytest.fixture(scope="session")
def engine(database_url) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test, commits included."""
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            yield session
        if transaction.is_active:
            transaction.rollback()


@pytest.fixture
def backend(engine) -> str:
    return engine.dialect.name


# Persons' ID numbers are hashed under the deployment's key; tests have their own.
os.environ.setdefault("WARNFLOW_ID_NUMBER_KEY", "warnflow-tests-id-number-key-0123456789")


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """argon2id with test-sized cost: the same code path, milliseconds instead of 50 ms."""
    from argon2 import PasswordHasher

    from workflows.admin import accounts
    production = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts._hasher = production


@pytest.fixture
def world(session):
    from tests.factories import build_world

    return build_world(session)


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    """A migrated SQLite file that the CLI (which commits) sees through WARNFLOW_DATABASE_URL."""
    from models.db import get_engine
    from models.settings import get_settings

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("WARNFLOW_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    get_engine(url).dispose()
