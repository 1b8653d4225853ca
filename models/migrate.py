"""Running Alembic from code, so `warnflow migrate` works from any directory."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from .types import UTCDateTime

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Tables other libraries own (APScheduler's job store, Prefect's) are not ours to migrate.
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "table" and (name in FOREIGN_TABLES or name.startswith("prefect_")))


def render_item(type_, obj, autogen_context):
    """Render our column types as plain SQLAlchemy ones so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


# Any fixed 64-bit number, the same in every warnflow process: "warnflow migrate" in ASCII.
MIGRATION_LOCK_KEY = 0x7761726E6D6967


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Alembic upgrade; on PostgreSQL under an advisory lock, so that several `serve`
    processes starting at once on an empty database migrate one after another (the second
    finds the schema at head and does nothing) instead of racing to create the same tables."""
    if url is None or not url.startswith("postgresql"):
        command.upgrade(alembic_config(url), revision)
        return
    from .db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            # A session-level lock, taken outside Alembic's transaction and held until the
            # upgrade has committed; released explicitly, and by PostgreSQL if we die.
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
            connection.commit()
            try:
                command.upgrade(alembic_config(url, connection=connection), revision)
                connection.commit()
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
                connection.commit()
    finally:
        engine.dispose()


def current_heads() -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())
