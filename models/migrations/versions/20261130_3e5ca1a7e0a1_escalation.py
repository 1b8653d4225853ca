"""escalation requests and the deadline sweep

Revision ID: 3e5ca1a7e0a1
Revises: 2fdabc64cf1b
Create Date: 2026-11-30 19:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

revision: str = '3e5ca1a7e0a1'
down_revision: str | None = '2fdabc64cf1b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
