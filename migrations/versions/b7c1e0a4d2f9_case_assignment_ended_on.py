"""case_assignment.ended_on: a 包保责任人 can be ended on the case page (the row stays
in the case file).

Revision ID: b7c1e0a4d2f9
Revises: 7c1d2e3f4a5b
Create Date: 2026-11-30 20:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c1e0a4d2f9'
down_revision = '7c1d2e3f4a5b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('case_assignment', schema=None) as batch_op:
        batch_op.drop_column('ended_on')
