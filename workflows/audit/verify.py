"""`warnflow audit verify`: walk the chain, recompute every row's digest, check the head file.

The first broken link is reported (in Chinese): a link missing or out of order, a link whose
hash does not follow from the one before, a row changed or removed since it was sealed, a row
sitting below the chain's reach that no seal linked (inserted by hand), or a head file the
chain does not reach. Reads only; `record_check` keeps the outcome for /healthz.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from models.audit import AUDITED_TABLES, AuditCheck, AuditLink
from workflows.audit.chain import GENESIS, audited, digest_rows, link_hash, table_of
from workflows.audit.head import Head, HeadUnreadable, head_path, read_head
from workflows.audit.seal import unlinked

BATCH = 5000


@dataclass(frozen=True)
class Problem:
    # broken (the links themselves) | changed | removed | inserted | head
    kind: str
    message: str
    seq: int | None = None
    table: str | None = None
    row_id: int | None = None


@dataclass(frozen=True)
class VerifyResult:
    links: int
    problem: Problem | None
    head: Head | None = None

    @property
    def passed(self) -> bool:
        return self.problem is None

    @property
    def summary(self) -> str:
        if self.problem is not None:
            return f"审计链校验未通过：{self.problem.message}"
        return f"审计链校验通过：共 {self.links} 环，每一行都与封存时一致"


def _label(table: str) -> str:
    audited_table = AUDITED_TABLES.get(table)
    return f"{audited_table.label}（{table}）" if audited_table else table


def verify(session: Session, *, head_file: Path | None = None, batch: int = BATCH) -> VerifyResult:
    """Check the whole chain against the live rows and the head file."""
    try:
        recorded = read_head(head_file)
    except HeadUnreadable as error:
        return VerifyResult(0, Problem("head", str(error)))
    count, last, problem, at_recorded = 0, None, None, None
    link = AuditLink.__table__
    while problem is None:
        rows = session.execute(
            sa.select(link).where(link.c.seq > (last.seq if last else 0))
            .order_by(link.c.seq).limit(batch)
        ).all()
        if not rows:
            break
        problem = _walk(session, rows, last)
        for row in rows:
            if recorded is not None and row.seq == recorded.seq:
                at_recorded = row.hash
        count += len(rows)
        last = rows[-1]
    if problem is not None:
        return VerifyResult(count, problem)
    head = Head(last.seq, last.hash) if last else None
    problem = _inserted(session) or _head_problem(recorded, head, at_recorded, head_file)
    return VerifyResult(count, problem, head)


def _walk(session: Session, rows, before) -> Problem | None:
    """The first problem among these links (in seq order): the links' own order and hashes
    first, then each row's live digest."""
    expected, prev = (before.seq + 1, before.hash) if before else (1, GENESIS)
    chain_problem = None
    for row in rows:
        if row.seq != expected:
            chain_problem = Problem("broken", f"缺少第 {expected} 环（链中直接跳到第 {row.seq} 环）：审计链被删改", row.seq)
        elif row.prev_hash != prev:
            chain_problem = Problem("broken", f"第 {row.seq} 环记录的前一环散列与第 {row.seq - 1} 环不符：审计链在此断开", row.seq)
        elif row.table_name not in AUDITED_TABLES:
            chain_problem = Problem("broken", f"第 {row.seq} 环指向未纳入审计的表 {row.table_name}", row.seq)
        elif row.hash != link_hash(row.prev_hash, row.table_name, row.row_id, row.row_digest):
            chain_problem = Problem("broken", f"第 {row.seq} 环的散列与其内容不符：该环被改动", row.seq)
        if chain_problem is not None:
            break
        expected, prev = row.seq + 1, row.hash
    checked = [r for r in rows if chain_problem is None or r.seq < chain_problem.seq]
    by_table: dict[str, list] = defaultdict(list)
    for row in checked:
        by_table[row.table_name].append(row)
    live = {name: digest_rows(session, AUDITED_TABLES[name], [r.row_id for r in links])
            for name, links in by_table.items()}
    for row in checked:
        digest = live[row.table_name].get(row.row_id)
        where = f"第 {row.seq} 环：{_label(row.table_name)}第 {row.row_id} 行"
        if digest is None:
            return Problem("removed", f"{where}已被删除", row.seq, row.table_name, row.row_id)
        if digest != row.row_digest:
            return Problem("changed", f"{where}的内容在封存后被改动（摘要不符）", row.seq,
                           row.table_name, row.row_id)
    return chain_problem


def _inserted(session: Session) -> Problem | None:
    """A row below the highest linked id of its table that is not linked: every seal links all
    rows up to its horizon, so such a row was written into the table by hand afterwards."""
    link = AuditLink.__table__
    for audited_table in audited():
        if audited_table.sealed_when is not None:
            continue
        table = table_of(audited_table)
        reach = (sa.select(sa.func.max(link.c.row_id))
                 .where(link.c.table_name == audited_table.name).scalar_subquery())
        first = session.execute(
            unlinked(audited_table, [sa.func.min(table.c.id)]).where(table.c.id < reach)
        ).scalar()
        if first is not None:
            return Problem(
                "inserted",
                f"{_label(audited_table.name)}第 {first} 行不在审计链中，却位于已封存的记录之间："
                "该行是绕过系统直接写入数据库的",
                None, audited_table.name, first,
            )
    return None


def _head_problem(recorded: Head | None, head: Head | None, at_recorded: str | None,
                  head_file: Path | None) -> Problem | None:
    where = head_path(head_file)
    if recorded is None:
        if head is None:
            return None
        return Problem("head", f"链尾文件 {where} 不存在（数据库中有 {head.seq} 环）：无法确认最新的审计记录未被删除")
    if head is None or recorded.seq > head.seq:
        have = head.seq if head else 0
        return Problem("head", f"链尾文件记录到第 {recorded.seq} 环，数据库中只有 {have} 环："
                               f"最新的 {recorded.seq - have} 条审计记录连同其链环已被删除", recorded.seq)
    if at_recorded != recorded.hash:
        return Problem("head", f"链尾文件记录的第 {recorded.seq} 环散列与数据库不符：审计链被重写", recorded.seq)
    return None


def record_check(session: Session, result: VerifyResult, *, as_of: datetime) -> AuditCheck:
    """Keep the outcome (flushes): /healthz shows the latest one."""
    check = AuditCheck(at=as_of, passed=result.passed, links=result.links,
                       message=result.problem.message if result.problem else "")
    session.add(check)
    session.flush()
    return check


@dataclass(frozen=True)
class LastChecks:
    last: AuditCheck | None
    last_passed_at: datetime | None


def last_checks(session: Session) -> LastChecks:
    checks = AuditCheck.__table__
    last = session.execute(
        sa.select(AuditCheck).order_by(checks.c.at.desc(), checks.c.id.desc()).limit(1)
    ).scalar_one_or_none()
    passed_at = session.execute(
        sa.select(sa.func.max(checks.c.at)).where(checks.c.passed.is_(True))
    ).scalar()
    return LastChecks(last, passed_at)
