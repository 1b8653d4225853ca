"""The sealer: links every audited row not yet in the chain, in id order, and writes the head.

Set-based: per table one SELECT of the rows to link in id order (those above the highest id
already linked; for tables sealed when finished, an anti-join on audit_link), one multi-row
INSERT of their links per batch; each batch commits, then the head file is
rewritten. Run every minute by the `audit_seal` job and by `warnflow audit seal`.

Where the chain reaches: before linking, the sealer fixes each table's *horizon*, its highest
id, and links only rows up to it. On PostgreSQL it reads each horizon under a SHARE lock of
that one table, in a transaction of its own: the lock waits for every transaction inserting
into the table, so once it is held every id at or below the horizon is committed or gone for
good. So after a seal a row below a linked id that is not linked itself can only have been
inserted by hand (verify reports it). The sealer never holds one lock while waiting for
another, and gives up a table after LOCK_TIMEOUT (shorter than PostgreSQL's deadlock_timeout,
1 s), so it can neither deadlock with the product's writers nor keep them waiting long; a
table given up is sealed at the next run. SQLite has one writer at a time and hands out ids
above the highest committed one, so its horizons need no lock.

Two sealers at once are serialised by a transaction-level advisory lock (PostgreSQL) or by
SQLite's write lock, and audit_link's keys refuse a row linked twice whatever happens.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from models.audit import AuditedTable, AuditLink
from workflows.audit.chain import (
    GENESIS,
    audited,
    digested_columns,
    link_hash,
    row_digest,
    table_of,
)
from workflows.audit.head import Head, stamp, write_head

BATCH = 2000
LOCK_TIMEOUT = "200ms"
# pg_advisory_xact_lock key of the sealer ("audit" in ASCII).
SEAL_LOCK = 0x6175646974


@dataclass(frozen=True)
class SealResult:
    linked: int
    head: Head | None
    # Tables whose lock was not had in time; their rows wait for the next seal.
    busy: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        where = f"，链尾第 {self.head.seq} 环" if self.head else "，链为空"
        later = f"；{'、'.join(self.busy)} 正在写入，下次封存" if self.busy else ""
        return f"封存 {self.linked} 条审计记录{where}{later}"


def seal(session: Session, *, as_of: datetime, head_file: Path | None = None,
         batch: int = BATCH) -> SealResult:
    """Link the unlinked audited rows up to each table's horizon; commits each batch and
    rewrites the head file after each commit."""
    tables = audited()
    horizons = {t.name: _horizon(session, t) for t in tables}
    busy = tuple(t.name for t in tables if horizons[t.name] == BUSY)
    linked, head = 0, None
    while True:
        count, head = _link_batch(session, tables, horizons, as_of, batch)
        session.commit()
        if count:
            write_head(head, head_file)
        linked += count
        if count < batch:
            return SealResult(linked, head, busy=busy)


def chain_head(session: Session) -> Head | None:
    link = AuditLink.__table__
    row = session.execute(
        sa.select(link.c.seq, link.c.hash, link.c.sealed_at).order_by(link.c.seq.desc()).limit(1)
    ).first()
    return Head(row.seq, row.hash, stamp(row.sealed_at)) if row else None


# A table whose lock was not had in time: not sealed this run.
BUSY = -1


def _horizon(session: Session, audited_table: AuditedTable) -> int | None:
    """The table's highest id (None: empty), read in a transaction of its own."""
    try:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            session.execute(sa.text(f"LOCK TABLE {audited_table.name} IN SHARE MODE"))
        highest = session.execute(sa.select(sa.func.max(table_of(audited_table).c.id))).scalar()
    except sa.exc.OperationalError:  # lock_timeout: a long write transaction on the table
        session.rollback()
        return BUSY
    session.commit()
    return highest


def unlinked(audited_table: AuditedTable, columns) -> sa.Select:
    """The rows of a table that the chain does not hold (eligible ones only)."""
    table, link = table_of(audited_table), AuditLink.__table__
    in_chain = sa.exists().where(link.c.table_name == audited_table.name, link.c.row_id == table.c.id)
    query = sa.select(*columns).where(~in_chain)
    if audited_table.sealed_when is not None:
        column, values = audited_table.sealed_when
        query = query.where(table.c[column].in_(values))
    return query


def reach(session: Session, audited_table: AuditedTable) -> int:
    """The highest row id of the table the chain holds (0: none)."""
    link = AuditLink.__table__
    return session.execute(
        sa.select(sa.func.coalesce(sa.func.max(link.c.row_id), 0))
        .where(link.c.table_name == audited_table.name)
    ).scalar()


def _to_link(session: Session, audited_table: AuditedTable) -> sa.Select:
    """The rows this seal links. A table written once per row: those above the chain's reach
    (an index range, however long the table). Never a row below it: every earlier seal
    linked all rows up to its horizon, so an unlinked one down there was written by hand and
    must stay out of the chain for verify to report it. A table sealed when finished: every
    finished row not yet linked (a lower id may finish after a higher one)."""
    columns = digested_columns(audited_table)
    if audited_table.sealed_when is not None:
        return unlinked(audited_table, columns)
    return sa.select(*columns).where(table_of(audited_table).c.id > reach(session, audited_table))


def _link_batch(session: Session, tables: list[AuditedTable], horizons: dict[str, int | None],
                as_of: datetime, batch: int) -> tuple[int, Head | None]:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(SEAL_LOCK)))
    head = chain_head(session)
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    links: list[dict] = []
    for audited_table in tables:
        horizon = horizons.get(audited_table.name)
        room = batch - len(links)
        if horizon is None or horizon == BUSY or room <= 0:
            continue
        table = table_of(audited_table)
        rows = session.execute(
            _to_link(session, audited_table).where(table.c.id <= horizon).order_by(table.c.id).limit(room)
        ).mappings()
        for row in rows:
            digest = row_digest(dict(row))
            seq += 1
            this = link_hash(prev, audited_table.name, row["id"], digest)
            links.append({"seq": seq, "table_name": audited_table.name, "row_id": row["id"],
                          "row_digest": digest, "prev_hash": prev, "hash": this,
                          "sealed_at": as_of})
            prev = this
    if links:
        session.execute(sa.insert(AuditLink.__table__), links)
        head = Head(seq, prev, stamp(as_of))
    return len(links), head
