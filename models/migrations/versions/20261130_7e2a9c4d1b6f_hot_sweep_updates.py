"""the sweep's updates become HOT: drop the escalation-level index, leave room on each page

Revision ID: 7e2a9c4d1b6f
Revises: 6d1f2a3b4c5d
Create Date: 2026-11-30 21:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7e2a9c4d1b6f"
down_revision: str | None = "6d1f2a3b4c5d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_case_escalation_level_due_on", table_name="warning_case")
    if op.get_bind().dialect.name == "postgresql":
        # New pages keep 15 % free so an updated row version fits beside the old one.
        op.execute("ALTER TABLE warning_case SET (fillfactor = 85)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE warning_case RESET (fillfactor)")
    op.create_index(
        "ix_case_escalation_level_due_on",
        "warning_case",
        ["escalation_level", "due_on"],
        unique=False,
    )
