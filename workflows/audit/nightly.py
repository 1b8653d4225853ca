"""The nightly check (job `audit_verify`): verify, keep the outcome, alert the administrators.

The walk reads in a transaction of its own that writes nothing (on SQLite it never holds the
write lock, so the product keeps writing while a long chain is checked); the outcome and the
alert are then written in one short transaction. On a failure every active administrator
finds a notification in their inbox (and by e-mail if they chose it), once per night; the
job run then fails (AuditChainBroken), so the job history and Prefect show it too.
"""

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import User
from models.db import session_scope, writer
from models.enums import Role
from models.notifications import NotificationKind
from workflows.audit.verify import VerifyResult, record_check, verify
from workflows.core import notify
from workflows.core.calendar import local_date


class AuditChainBroken(RuntimeError):
    """The chain did not verify; the message is the first broken link, in Chinese."""


def check_chain(engine: Engine, *, as_of: datetime, head_file: Path | None = None,
                alert: bool = True) -> VerifyResult:
    """Verify (reading only), then record the check and, on failure and with `alert`, queue
    the administrators' alert (committed)."""
    with Session(engine) as reading:
        result = verify(reading, head_file=head_file)
    with session_scope(writer(engine)) as session:
        record_and_alert(session, result, as_of=as_of, alert=alert)
    return result


def nightly_check(engine: Engine, *, as_of: datetime) -> VerifyResult:
    """The job: check_chain, and fail the run when the chain is broken."""
    result = check_chain(engine, as_of=as_of)
    if not result.passed:
        raise AuditChainBroken(result.summary)
    return result


def record_and_alert(session: Session, result: VerifyResult, *, as_of: datetime,
                     alert: bool = True) -> int:
    """Keep the check; on failure queue one alert per active administrator (flushes)."""
    record_check(session, result, as_of=as_of)
    if result.passed or not alert:
        return 0
    admins = session.scalars(
        sa.select(User.id).where(User.role == Role.ADMIN, User.is_active.is_(True)).order_by(User.id)
    ).all()
    day = local_date(as_of)
    items = [
        notify.NotificationItem(
            user_id=user_id, kind=NotificationKind.AUDIT,
            subject="审计链校验未通过：审计记录可能被篡改",
            body=f"{day:%Y-%m-%d} 的审计链校验未通过。{result.problem.message}。"
                 "请立即核查数据库的访问记录，并运行 warnflow audit verify 复核。",
            dedupe_key=f"audit-broken:{day:%Y%m%d}:{user_id}", link="/admin/audit",
            payload={"problem": result.problem.kind, "seq": result.problem.seq},
        )
        for user_id in admins
    ]
    return notify.queue(session, items=items, as_of=as_of)
