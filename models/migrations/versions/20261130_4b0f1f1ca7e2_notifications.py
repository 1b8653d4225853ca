"""notification outbox, in-app inbox and preferences

Revision ID: 4b0f1f1ca7e2
Revises: 3e5ca1a7e0a1
Create Date: 2026-11-30 19:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

revision: str = '4b0f1f1ca7e2'
down_revision: str | None = '3e5ca1a7e0a1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
