"""oversight attachments and circulated notices

Revision ID: 9b4d6f8a0c32
Revises: 8a3c5e7f9b21
Create Date: 2026-12-04 19:31:09.438050
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString)
from alembic import op

revision: str = '9b4d6f8a0c32'
down_revision: str | None = '8a3c5e7f9b21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('circulated_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('issuer_region_id', sa.Integer(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issued_by_id'], ['app_user.id'], name=op.f('fk_circulated_notice_issued_by_id_app_user')),
    sa.ForeignKeyConstraint(['issuer_region_id'], ['region.id'], name=op.f('fk_circulated_notice_issuer_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_circulated_notice')),
    sa.UniqueConstraint('month', 'issuer_region_id', name='uq_circulated_notice_month_issuer'),
    sa.UniqueConstraint('number', name=op.f('uq_circulated_notice_number'))
    )
    op.create_table('oversight_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('oversight_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_in_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['oversight_id'], ['oversight_case.id'], name=op.f('fk_oversight_attachment_oversight_id_oversight_case')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['app_user.id'], name=op.f('fk_oversight_attachment_uploaded_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oversight_attachment'))
    )
    with op.batch_alter_table('oversight_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oversight_attachment_oversight_id'), ['oversight_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('oversight_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oversight_attachment_oversight_id'))

    op.drop_table('oversight_attachment')
    op.drop_table('circulated_notice')
