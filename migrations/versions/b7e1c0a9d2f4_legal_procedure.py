"""legal procedure: guardians' address and ID number (the parties of the penalty and
enforcement letters, 行政处罚法 Art. 59 (一), 行政强制法 Art. 55), and voided letters
(a voided letter keeps its number; it is never reused).

Revision ID: b7e1c0a9d2f4
Revises: b7c1e0a4d2f9
Create Date: 2026-11-30 20:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e1c0a9d2f4'
down_revision = 'b7c1e0a4d2f9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('guardian', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('id_number', sa.String(length=18), nullable=True))
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voided_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('void_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_column('void_reason')
        batch_op.drop_column('voided_on')
    with op.batch_alter_table('guardian', schema=None) as batch_op:
        batch_op.drop_column('id_number')
        batch_op.drop_column('address')
