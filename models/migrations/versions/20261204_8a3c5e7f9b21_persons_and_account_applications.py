"""persons recorded once, accounts belong to them, account applications; one-time passwords

Revision ID: 8a3c5e7f9b21
Revises: 8a1c3e5f7b90
Create Date: 2026-12-04 18:58:27.910072
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString)
from alembic import op

revision: str = '8a3c5e7f9b21'
down_revision: str | None = '8a1c3e5f7b90'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('id_number_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('id_number_masked', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('id_number_hash', name=op.f('uq_person_id_number_hash'))
    )
    op.create_table('account_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('open', 'change', 'revoke', name='applicationkind', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'head_approved', 'approved', 'refused', name='applicationstatus', native_enum=False, length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('id_number_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('id_number_masked', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('role', sa.Enum('admin', 'handler', 'supervisor', 'treasury', 'poverty_office', 'supervision', 'leader', 'province', 'auditor', 'integration', 'system', name='role', native_enum=False, length=32), nullable=True),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('handover_to_id', sa.Integer(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('head_id', sa.Integer(), nullable=True),
    sa.Column('head_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('head_opinion', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('admin_id', sa.Integer(), nullable=True),
    sa.Column('admin_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('admin_opinion', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['admin_id'], ['app_user.id'], name=op.f('fk_account_application_admin_id_app_user')),
    sa.ForeignKeyConstraint(['handover_to_id'], ['app_user.id'], name=op.f('fk_account_application_handover_to_id_app_user')),
    sa.ForeignKeyConstraint(['head_id'], ['app_user.id'], name=op.f('fk_account_application_head_id_app_user')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_account_application_org_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['app_user.id'], name=op.f('fk_account_application_submitted_by_id_app_user')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_account_application_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_application'))
    )
    with op.batch_alter_table('account_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_application_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_index('ix_account_application_status', ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_application_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_app_user_person_id'), ['person_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_app_user_person_id_person'), 'person', ['person_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_app_user_person_id_person'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_app_user_person_id'))
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('person_id')

    with op.batch_alter_table('account_application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_application_user_id'))
        batch_op.drop_index('ix_account_application_status')
        batch_op.drop_index(batch_op.f('ix_account_application_org_unit_id'))

    op.drop_table('account_application')
    op.drop_table('person')
