"""job_run.heartbeat_at: a running job touches it, so a run whose process died is seen as dead

Revision ID: 8f3b5d2e7a10
Revises: 7e2a9c4d1b6f
Create Date: 2026-12-04 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8f3b5d2e7a10"
down_revision: str | None = "7e2a9c4d1b6f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job_run") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_run") as batch:
        batch.drop_column("heartbeat_at")
