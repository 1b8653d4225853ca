"""the audit hash chain: audit_link (one chain per deployment) and audit_check (verifications)

Revision ID: d4e6f8a0b2c4
Revises: c4e2a9d71f05
Create Date: 2026-12-08 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString)
from alembic import op

revision: str = "d4e6f8a0b2c4"
down_revision: str | None = "c4e2a9d71f05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_link",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("table_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=False),
        sa.Column("row_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_link")),
        sa.UniqueConstraint("table_name", "row_id", name="uq_audit_link_row"),
    )
    op.create_table(
        "audit_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("links", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_check")),
    )
    with op.batch_alter_table("audit_check", schema=None) as batch_op:
        batch_op.create_index("ix_audit_check_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_check", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_check_at")
    op.drop_table("audit_check")
    op.drop_table("audit_link")
