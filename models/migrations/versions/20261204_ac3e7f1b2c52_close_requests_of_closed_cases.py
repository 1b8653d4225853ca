"""close the requests still waiting on cases that are already closed

Closing a case now closes its escalation and extension requests; those left behind by
earlier versions are closed the same way (案件已办结，自动关闭), at the case's closing time.

Revision ID: ac3e7f1b2c52
Revises: 9b2d6f3a0e41
Create Date: 2026-12-04 18:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ac3e7f1b2c52"
down_revision: str | None = "9b2d6f3a0e41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """UPDATE escalation_request SET
            decision = 'closed_with_case',
            decision_reason = '案件已办结，自动关闭',
            decided_at = (SELECT COALESCE(c.closed_at, c.updated_at) FROM warning_case AS c
                          WHERE c.id = escalation_request.case_id)
        WHERE decided_at IS NULL AND case_id IN (
            SELECT id FROM warning_case WHERE state IN ('green', 'cleared', 'transferred'))"""
    )


def downgrade() -> None:
    # Which requests were open before cannot be told from a real decision otherwise.
    op.execute(
        """UPDATE escalation_request SET decision = NULL, decision_reason = NULL, decided_at = NULL
        WHERE decision = 'closed_with_case'"""
    )
