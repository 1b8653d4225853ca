"""The nightly check alerts the administrators when the chain does not verify.

Sun Hao is the province's administrator; Li Na's login row is sealed, then changed in SQL.
"""

import pytest
import sqlalchemy as sa

from models import AuditCheck
from models.enums import AuditKind
from models.notifications import Notification, NotificationKind
from tests.factories import NOW
from workflows.audit.nightly import record_and_alert
from workflows.audit.seal import seal
from workflows.audit.verify import verify
from workflows.core.audit import record


@pytest.fixture
def sealed(session, world, head_file):
    record(session, AuditKind.LOGIN, as_of=NOW, user_id=world.users["li_na"], username="li_na")
    seal(session, as_of=NOW, head_file=head_file)


def alerts(session) -> list[Notification]:
    return list(session.scalars(sa.select(Notification).where(Notification.kind == NotificationKind.AUDIT)))


def night(session, head_file) -> None:
    record_and_alert(session, verify(session, head_file=head_file), as_of=NOW)


def test_a_passing_night_is_kept_and_alerts_nobody(session, sealed, head_file):
    night(session, head_file)
    assert alerts(session) == []
    assert session.scalars(sa.select(AuditCheck.passed)).all() == [True]


def test_a_failing_night_alerts_each_administrator_once(session, world, sealed, head_file):
    session.execute(sa.text("UPDATE audit_event SET client = '10.0.0.9'"))
    night(session, head_file)
    night(session, head_file)
    [alert] = [a for a in alerts(session) if a.channel == "inbox"]
    assert alert.user_id == world.users["sun_hao"]
    assert "审计链校验未通过" in alert.subject and "被改动" in alert.body
    assert session.scalars(sa.select(AuditCheck.passed)).all() == [False, False]
