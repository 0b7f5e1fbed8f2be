"""aid_payee_account: the account a child's aid is paid into (户名, 户名身份证号, 开户行,
账号, 账户类型), one per child; the bank's 代发 file takes the full number from it.

Revision ID: c3d8f5e2a7b1
Revises: b7e1c0a9d2f4
Create Date: 2026-11-30 21:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d8f5e2a7b1'
down_revision = 'b7e1c0a9d2f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'aid_payee_account',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('holder_name', sa.String(length=64), nullable=False),
        sa.Column('holder_id_number', sa.String(length=18), nullable=False),
        sa.Column('bank', sa.String(length=64), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('child_id'),
    )


def downgrade():
    op.drop_table('aid_payee_account')
