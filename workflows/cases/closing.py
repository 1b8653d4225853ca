"""What closes with a case: its open escalation and extension requests.

A request on a case that is green, cleared or transferred can no longer be decided; left
open it would wait in the supervisor's queue forever. Closing the case closes them in the
same transaction, marked 案件已办结，自动关闭 (no supervisor decided them).
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import EscalationRequest
from models.enums import RequestDecision

REQUESTS = EscalationRequest.__table__
AUTO_CLOSED = RequestDecision.CLOSED_WITH_CASE.label

_CLOSE = (
    sa.update(REQUESTS)
    .where(REQUESTS.c.case_id.in_(sa.bindparam("case_ids", expanding=True)),
           REQUESTS.c.decided_at.is_(None))  # fmt: skip
    .values(
        decision=RequestDecision.CLOSED_WITH_CASE,
        decided_at=sa.bindparam("at", type_=REQUESTS.c.decided_at.type),
        decision_reason=AUTO_CLOSED,
    )
)


def close_open_requests(session: Session, *, case_ids: Sequence[int], as_of: datetime) -> int:
    """Close the undecided requests of these (just closed) cases; the number closed."""
    if not case_ids:
        return 0
    return session.connection().execute(_CLOSE, {"case_ids": list(case_ids), "at": as_of}).rowcount
