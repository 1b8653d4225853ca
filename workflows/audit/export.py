"""The audit trail's export: the matching rows and a manifest that lets the file be checked.

The manifest says how many rows, how many of them are sealed, the chain hash of the first
and of the last sealed row, and a content digest: the SHA-256 of one line per row,
"table|id|hash" ("-" for a row not yet sealed), in the file's order. Anyone holding the file
can recompute the digest from its columns, and compare each row's hash with
`warnflow audit verify`'s chain, to see that nothing was dropped, added or edited.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from workflows.audit.seal import chain_head
from workflows.audit.trail import TrailFilter, TrailRow, to_row, trail_query
from workflows.core.actors import Actor
from workflows.core.errors import InvalidInput

MAX_ROWS = 50_000


@dataclass(frozen=True)
class Manifest:
    rows: int
    sealed: int
    first_hash: str | None
    last_hash: str | None
    digest: str
    filter: str
    exported_by: str
    exported_at: datetime
    chain_seq: int | None
    chain_hash: str | None


@dataclass(frozen=True)
class TrailExport:
    rows: list[TrailRow]
    manifest: Manifest


def content_digest(rows: list[TrailRow]) -> str:
    lines = "\n".join(f"{r.table_name}|{r.id}|{r.hash or '-'}" for r in rows)
    return hashlib.sha256(lines.encode()).hexdigest()


def export_trail(session: Session, *, actor: Actor, wanted: TrailFilter, as_of: datetime,
                 max_rows: int = MAX_ROWS) -> TrailExport:
    """Every matching row (newest first) with its manifest; refuses more than max_rows."""
    found = session.execute(trail_query(session, actor=actor, wanted=wanted).limit(max_rows + 1)).all()
    if len(found) > max_rows:
        raise InvalidInput.single(
            "date_from", "too_many", f"导出结果超过 {max_rows} 行，请缩小筛选范围（人员、类别或期间）")
    rows = [to_row(r) for r in found]
    hashes = [r.hash for r in rows if r.hash]
    head = chain_head(session)
    manifest = Manifest(
        rows=len(rows), sealed=len(hashes), first_hash=hashes[0] if hashes else None,
        last_hash=hashes[-1] if hashes else None, digest=content_digest(rows),
        filter=wanted.describe(), exported_by=actor.name, exported_at=as_of,
        chain_seq=head.seq if head else None, chain_hash=head.hash if head else None,
    )
    return TrailExport(rows, manifest)
