"""The sealer: links every audited row not yet in the chain, in id order, and writes the head.

Set-based: per table one SELECT of the unlinked rows (an anti-join on audit_link) in id order,
one multi-row INSERT of their links per batch; each batch commits, then the head file is
rewritten. Run every minute by the `audit_seal` job and by `warnflow audit seal`.

Where the chain reaches: before linking, the sealer fixes each table's *horizon*, its highest
id, and links only rows up to it. On PostgreSQL it reads the horizons under a brief SHARE lock
of the audited tables (at most LOCK_TIMEOUT, then this seal is skipped), which waits for every
transaction that is inserting into them: once it is held, every id at or below the horizon is
committed or gone for good. So after a seal a row below a linked id that is not linked itself
can only have been inserted by hand (verify reports it). SQLite has one writer at a time and
hands out ids above the highest committed one, so its horizon needs no lock.

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
LOCK_TIMEOUT = "5s"
# pg_advisory_xact_lock key of the sealer ("audit" in ASCII).
SEAL_LOCK = 0x6175646974


@dataclass(frozen=True)
class SealResult:
    linked: int
    head: Head | None
    skipped: str = ""

    @property
    def summary(self) -> str:
        if self.skipped:
            return self.skipped
        where = f"，链尾第 {self.head.seq} 环" if self.head else "，链为空"
        return f"封存 {self.linked} 条审计记录{where}"


def seal(session: Session, *, as_of: datetime, head_file: Path | None = None,
         batch: int = BATCH) -> SealResult:
    """Link the unlinked audited rows up to each table's horizon; commits each batch and
    rewrites the head file after each commit."""
    tables = audited()
    try:
        horizons = _horizons(session, tables)
    except sa.exc.OperationalError:
        session.rollback()
        return SealResult(0, None, skipped="审计表正忙（写入事务未结束），本次未封存，下次再试")
    session.commit()
    linked, head = 0, None
    while True:
        count, head = _link_batch(session, tables, horizons, as_of, batch)
        session.commit()
        if count:
            write_head(head, head_file)
        linked += count
        if count < batch:
            return SealResult(linked, head)


def chain_head(session: Session) -> Head | None:
    link = AuditLink.__table__
    row = session.execute(
        sa.select(link.c.seq, link.c.hash, link.c.sealed_at).order_by(link.c.seq.desc()).limit(1)
    ).first()
    return Head(row.seq, row.hash, stamp(row.sealed_at)) if row else None


def _horizons(session: Session, tables: list[AuditedTable]) -> dict[str, int | None]:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        names = ", ".join(t.name for t in tables)
        session.execute(sa.text(f"LOCK TABLE {names} IN SHARE MODE"))
    highest = [
        sa.select(sa.func.max(table_of(t).c.id)).scalar_subquery().label(t.name) for t in tables
    ]
    return dict(session.execute(sa.select(*highest)).mappings().one())


def unlinked(audited_table: AuditedTable, columns) -> sa.Select:
    """The rows of a table that the chain does not hold (eligible ones only)."""
    table, link = table_of(audited_table), AuditLink.__table__
    in_chain = sa.exists().where(link.c.table_name == audited_table.name, link.c.row_id == table.c.id)
    query = sa.select(*columns).where(~in_chain)
    if audited_table.sealed_when is not None:
        column, values = audited_table.sealed_when
        query = query.where(table.c[column].in_(values))
    return query


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
        if horizon is None or room <= 0:
            continue
        table = table_of(audited_table)
        rows = session.execute(
            unlinked(audited_table, digested_columns(audited_table))
            .where(table.c.id <= horizon).order_by(table.c.id).limit(room)
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
