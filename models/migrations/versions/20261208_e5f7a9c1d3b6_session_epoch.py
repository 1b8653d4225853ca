"""app_user.session_epoch: logging out, a password change or reset and a revocation end
every session of the account at once (tokens carry the epoch they were issued in)

Revision ID: e5f7a9c1d3b6
Revises: d7e1c3a5b920
Create Date: 2026-12-08 01:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5f7a9c1d3b6"
down_revision: str | None = "d7e1c3a5b920"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("session_epoch")
