"""slip sign-offs per (slip version, case)

The supervisor's opinion moves from the slip row (one per slip, shared by every case of a
batch slip and by every later version) to `slip_signoff`: one row per (slip, version, case),
voided when that version is amended. Existing sign-offs become a row for each case the slip
covers, on the slip's current version, with the decision read from the opinion's wording.

Revision ID: 8a1c5e2f9d30
Revises: 0c5e7a9b1d43
Create Date: 2026-12-04 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "8a1c5e2f9d30"
down_revision: str | None = "0c5e7a9b1d43"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slip_signoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slip_id", sa.Integer(), nullable=False),
        sa.Column("slip_version", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=32), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["slip_id"], ["slip.id"], name=op.f("fk_slip_signoff_slip_id_slip")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["warning_case.id"], name=op.f("fk_slip_signoff_case_id_warning_case")
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"], ["app_user.id"], name=op.f("fk_slip_signoff_supervisor_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slip_signoff")),
        sa.UniqueConstraint("slip_id", "slip_version", "case_id", name="uq_slip_signoff"),
    )
    op.create_index("ix_slip_signoff_case", "slip_signoff", ["case_id"], unique=False)
    op.execute(
        """INSERT INTO slip_signoff (slip_id, slip_version, case_id, supervisor_id, decision,
                                     opinion, signed_at)
        SELECT s.id, s.version, l.case_id, s.supervisor_id,
               CASE WHEN s.supervisor_opinion LIKE '退回%' THEN 'sent_back' ELSE 'approved' END,
               COALESCE(s.supervisor_opinion, ''), COALESCE(s.supervisor_signed_at, s.updated_at)
        FROM slip AS s JOIN case_slip AS l ON l.slip_id = s.id
        WHERE s.supervisor_id IS NOT NULL"""
    )
    with op.batch_alter_table("slip") as batch:
        batch.drop_constraint("fk_slip_supervisor_id_app_user", type_="foreignkey")
        batch.drop_column("supervisor_signed_at")
        batch.drop_column("supervisor_opinion")
        batch.drop_column("supervisor_id")


def downgrade() -> None:
    with op.batch_alter_table("slip") as batch:
        batch.add_column(sa.Column("supervisor_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("supervisor_opinion", sa.Text(), nullable=True))
        batch.add_column(sa.Column("supervisor_signed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            "fk_slip_supervisor_id_app_user", "app_user", ["supervisor_id"], ["id"]
        )
    # The latest live sign-off of each slip goes back on the slip row (one per slip).
    op.execute(
        """UPDATE slip SET
            supervisor_id = (SELECT g.supervisor_id FROM slip_signoff AS g WHERE g.slip_id = slip.id
                             AND g.voided_at IS NULL ORDER BY g.signed_at DESC, g.id DESC LIMIT 1),
            supervisor_opinion = (SELECT g.opinion FROM slip_signoff AS g WHERE g.slip_id = slip.id
                             AND g.voided_at IS NULL ORDER BY g.signed_at DESC, g.id DESC LIMIT 1),
            supervisor_signed_at = (SELECT g.signed_at FROM slip_signoff AS g WHERE g.slip_id = slip.id
                             AND g.voided_at IS NULL ORDER BY g.signed_at DESC, g.id DESC LIMIT 1)"""
    )
    op.drop_index("ix_slip_signoff_case", table_name="slip_signoff")
    op.drop_table("slip_signoff")
