"""On SQLite (the embedded mode) a job and a form post may write at the same moment.

A transaction that read before another writer committed cannot write afterwards: SQLite
answers "database is locked" at once, whatever the busy timeout. `models.db.writer` makes
such transactions take the write lock at BEGIN, so the second one waits and then works on
what the first committed.
"""

import threading
import time

import pytest
import sqlalchemy as sa

from models.db import make_engine, writer


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.sqlite3'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO counter VALUES (1, 0)")
    yield engine
    engine.dispose()


def _bump_while_another_writer_commits(engine, second) -> None:
    """The sweep holds the write lock for a moment; meanwhile a form post reads the counter
    and then writes it back plus one."""
    holding = threading.Event()

    def sweep():
        with writer(engine).begin() as conn:
            conn.exec_driver_sql("UPDATE counter SET n = n + 1")
            holding.set()
            time.sleep(0.3)

    job = threading.Thread(target=sweep)
    job.start()
    holding.wait()
    try:
        with second.begin() as conn:
            n = conn.exec_driver_sql("SELECT n FROM counter").scalar_one()
            conn.exec_driver_sql(f"UPDATE counter SET n = {n} + 1")
    finally:
        job.join()


def test_a_plain_reader_that_then_writes_fails_once_the_sweep_committed(engine):
    with pytest.raises(sa.exc.OperationalError, match="database is locked"):
        _bump_while_another_writer_commits(engine, engine)


def test_a_writer_waits_for_the_sweep_and_counts_on_what_it_committed(engine):
    _bump_while_another_writer_commits(engine, writer(engine))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT n FROM counter").scalar_one() == 2


def test_postgresql_engines_are_left_as_they_are():
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/postgres")
    assert writer(engine) is engine
    engine.dispose()
