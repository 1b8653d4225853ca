"""Several `serve` processes starting at once on an empty PostgreSQL database migrate safely."""

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from models.db import make_engine
from models.migrate import current_heads
from tests.conftest import create_pg_database, drop_pg_database, require_postgres

ROOT = Path(__file__).resolve().parents[2]


def test_three_processes_migrating_an_empty_database_at_once_all_succeed():
    require_postgres()
    url = create_pg_database("warnflow_migrate_race")
    try:
        script = f"from models.migrate import upgrade; upgrade({url!r}); print('done')"
        procs = [subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
        outputs = [proc.communicate(timeout=240) for proc in procs]
        assert [proc.returncode for proc in procs] == [0] * 3, [err[-2000:] for _, err in outputs]
        engine = make_engine(url)
        with engine.connect() as connection:
            revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
        engine.dispose()
        assert tuple(revision) == current_heads()
    finally:
        drop_pg_database(url)
