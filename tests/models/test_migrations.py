"""The migrations build the schema the models describe, on SQLite and on PostgreSQL."""

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table)
from models.db import make_engine
from models.migrate import alembic_config, current_heads, include_object, upgrade
from tests.conftest import create_pg_database, drop_pg_database, require_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    require_postgres()
    url = create_pg_database("warnflow_migrations")
    yield url
    drop_pg_database(url)


def schema_diff(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object}
            )
            return compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_from_empty_to_head_the_schema_matches_the_models(empty_database):
    upgrade(empty_database)
    assert schema_diff(empty_database) == []
    engine = make_engine(empty_database)
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    assert (revision,) == current_heads()


def test_every_table_is_built_and_downgrading_removes_them_again(empty_database):
    upgrade(empty_database)
    expected = set(SQLModel.metadata.tables)
    assert expected <= table_names(empty_database)
    command.downgrade(alembic_config(empty_database), "base")
    assert not (expected & table_names(empty_database))
    upgrade(empty_database)
    assert schema_diff(empty_database) == []


def test_upgrading_twice_changes_nothing(empty_database):
    upgrade(empty_database)
    upgrade(empty_database)
    assert schema_diff(empty_database) == []
