"""warning_case.warning_type: the warning type (预警类型) the platform sent

Revision ID: d7e1c3a5b920
Revises: d4e6f8a0b2c4
Create Date: 2026-12-08 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "d7e1c3a5b920"
down_revision: str | None = "d4e6f8a0b2c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: cases imported before did not keep what the platform sent.
    with op.batch_alter_table("warning_case") as batch:
        batch.add_column(sa.Column("warning_type", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("warning_case") as batch:
        batch.drop_column("warning_type")
