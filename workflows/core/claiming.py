"""Picking a batch of rows to claim, the same way everywhere (sweep, outbox, federation push).

On PostgreSQL the batch is `SELECT … LIMIT n FOR UPDATE SKIP LOCKED` in a MATERIALIZED CTE:
concurrent workers split the rows, and the pick runs once. Written as a plain
`WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` the planner may rescan the subquery
for every outer row and claim far more than n (a sweep batch of 2 escalated 20 cases;
tests/workflows/escalation/test_sweep_sigkill.py, tests/notifications/test_concurrent_workers.py).
SQLite has one writer at a time and runs an uncorrelated subquery once.
"""

import sqlalchemy as sa


def batch_ids(pick: sa.Select, *, postgres: bool) -> sa.ScalarSelect:
    """`pick` (one id column, with its LIMIT) as the right side of `id.in_(…)`."""
    if not postgres:
        return pick.scalar_subquery()
    picked = pick.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
    return sa.select(*picked.c).scalar_subquery()
