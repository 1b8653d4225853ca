"""deadline basis on cases (due_from, due_days) and the calendar's version stamp

A deadline is `due_days` working days after `due_from` (0: the next working day on or after
it), so a calendar change can recompute every open deadline it moves in one statement. Open
cases of earlier versions get the basis "their date itself, moved off a holiday" (due_from =
due_on, due_days = 0): a holiday entered on the very day still moves the deadline.
The stamp row is bumped by every calendar change; every process compares it before trusting
its cached calendar.

Revision ID: c4e2a9d71f05
Revises: ac3e7f1b2c52
Create Date: 2026-12-08 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4e2a9d71f05"
down_revision: str | None = "ac3e7f1b2c52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("warning_case") as batch:
        batch.add_column(sa.Column("due_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("due_days", sa.Integer(), nullable=True))
    op.execute("UPDATE warning_case SET due_from = due_on, due_days = 0 WHERE due_on IS NOT NULL")
    op.create_table(
        "calendar_stamp",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.execute("INSERT INTO calendar_stamp (id, version) VALUES (1, 1)")


def downgrade() -> None:
    op.drop_table("calendar_stamp")
    with op.batch_alter_table("warning_case") as batch:
        batch.drop_column("due_days")
        batch.drop_column("due_from")
