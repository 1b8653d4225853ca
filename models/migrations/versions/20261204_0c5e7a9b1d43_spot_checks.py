"""spot checks

Revision ID: 0c5e7a9b1d43
Revises: 9b4d6f8a0c32
Create Date: 2026-12-04 19:42:28.353055
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString)
from alembic import op

revision: str = '0c5e7a9b1d43'
down_revision: str | None = '9b4d6f8a0c32'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('spot_check_draw',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('closed_from', sa.Date(), nullable=False),
    sa.Column('closed_until', sa.Date(), nullable=False),
    sa.Column('seed', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('population', sa.JSON(), nullable=False),
    sa.Column('sample_size', sa.Integer(), nullable=False),
    sa.Column('picked', sa.JSON(), nullable=False),
    sa.Column('drawn_by_id', sa.Integer(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['app_user.id'], name=op.f('fk_spot_check_draw_drawn_by_id_app_user')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_spot_check_draw_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_check_draw')),
    sa.UniqueConstraint('number', name=op.f('uq_spot_check_draw_number'))
    )
    op.create_table('spot_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.Enum('pending', 'passed', 'failed', name='spotcheckresult', native_enum=False, length=32), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['warning_case.id'], name=op.f('fk_spot_check_case_id_warning_case')),
    sa.ForeignKeyConstraint(['checked_by_id'], ['app_user.id'], name=op.f('fk_spot_check_checked_by_id_app_user')),
    sa.ForeignKeyConstraint(['draw_id'], ['spot_check_draw.id'], name=op.f('fk_spot_check_draw_id_spot_check_draw')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_check')),
    sa.UniqueConstraint('draw_id', 'case_id', name='uq_spot_check_draw_case')
    )
    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spot_check_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_spot_check_draw_id'), ['draw_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spot_check_draw_id'))
        batch_op.drop_index(batch_op.f('ix_spot_check_case_id'))

    op.drop_table('spot_check')
    op.drop_table('spot_check_draw')
