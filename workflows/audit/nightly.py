"""The nightly check (job `audit_verify`): verify, keep the outcome, alert the administrators.

On a failure every active administrator finds a notification in their inbox (and by e-mail
if they chose it), once per night; then the run fails (AuditChainBroken) so that the job
history and Prefect show it too.
"""

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from models import User
from models.enums import Role
from models.notifications import NotificationKind
from workflows.audit.verify import VerifyResult, record_check, verify
from workflows.core import notify
from workflows.core.calendar import local_date


class AuditChainBroken(RuntimeError):
    """The chain did not verify; the message is the first broken link, in Chinese."""


def verify_and_alert(session: Session, *, as_of: datetime, commit: bool = False,
                     head_file: Path | None = None) -> VerifyResult:
    """Verify the chain, record the check and, on failure, queue the administrators' alert.
    With `commit` the check and the alert are committed before AuditChainBroken is raised."""
    result = verify(session, head_file=head_file)
    record_check(session, result, as_of=as_of)
    if not result.passed:
        _alert(session, result, as_of)
    if commit:
        session.commit()
    if not result.passed:
        raise AuditChainBroken(result.summary)
    return result


def _alert(session: Session, result: VerifyResult, as_of: datetime) -> int:
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
