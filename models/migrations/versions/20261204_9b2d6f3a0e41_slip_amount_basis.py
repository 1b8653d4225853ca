"""slips say how their amounts are meant: 涉及多笔支付 and a batch slip's per-case or total

Revision ID: 9b2d6f3a0e41
Revises: 8a1c5e2f9d30
Create Date: 2026-12-04 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "9b2d6f3a0e41"
down_revision: str | None = "8a1c5e2f9d30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("slip") as batch:
        batch.add_column(
            sa.Column("multiple_payments_reason", sa.Text(), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("amount_basis", sa.String(length=32), nullable=True))
    # Batch slips filed before: the monthly figures counted their amounts once, as a total.
    op.execute(
        """UPDATE slip SET amount_basis = 'total'
        WHERE (SELECT count(*) FROM case_slip WHERE case_slip.slip_id = slip.id) > 1"""
    )


def downgrade() -> None:
    with op.batch_alter_table("slip") as batch:
        batch.drop_column("amount_basis")
        batch.drop_column("multiple_payments_reason")
