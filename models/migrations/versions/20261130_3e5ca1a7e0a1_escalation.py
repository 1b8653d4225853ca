"""escalation requests and the deadline sweep

The deadline ladder's rows: reminders queued before a step's deadline and requests in a
supervisor's queue (the sweep's level-2 escalations, handlers' extension requests), plus a
rule's own grace in working days before a supervisor is asked.

Revision ID: 3e5ca1a7e0a1
Revises: 2fdabc64cf1b
Create Date: 2026-11-30 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "3e5ca1a7e0a1"
down_revision: str | None = "2fdabc64cf1b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deadline_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("step_entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["warning_case.id"], name=op.f("fk_deadline_reminder_case_id_warning_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_reminder")),
        sa.UniqueConstraint(
            "case_id", "step_entered_at", "due_on", name="uq_deadline_reminder_case_step_due"
        ),
    )
    op.create_table(
        "escalation_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("escalation", "extension", name="requestkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("step_entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("step_due_on", sa.Date(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("requested_due_on", sa.Date(), nullable=True),
        sa.Column(
            "decision",
            sa.Enum(
                "reassign",
                "extend",
                "escalate",
                "reject",
                name="requestdecision",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("new_due_on", sa.Date(), nullable=True),
        sa.Column("new_assignee_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["warning_case.id"],
            name=op.f("fk_escalation_request_case_id_warning_case"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["app_user.id"],
            name=op.f("fk_escalation_request_decided_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["new_assignee_id"],
            ["app_user.id"],
            name=op.f("fk_escalation_request_new_assignee_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["app_user.id"],
            name=op.f("fk_escalation_request_requested_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_request")),
        sa.UniqueConstraint(
            "case_id",
            "level",
            "step_entered_at",
            "step_due_on",
            name="uq_escalation_request_case_level_step",
        ),
    )
    with op.batch_alter_table("escalation_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_escalation_request_pending", ["decided_at", "case_id"], unique=False
        )

    with op.batch_alter_table("rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalation_grace_days", sa.Integer(), nullable=True))

    with op.batch_alter_table("warning_case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_escalation_level_due_on", ["escalation_level", "due_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("warning_case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_escalation_level_due_on")

    with op.batch_alter_table("rule", schema=None) as batch_op:
        batch_op.drop_column("escalation_grace_days")

    with op.batch_alter_table("escalation_request", schema=None) as batch_op:
        batch_op.drop_index("ix_escalation_request_pending")

    op.drop_table("escalation_request")
    op.drop_table("deadline_reminder")
