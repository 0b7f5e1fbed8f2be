"""holiday arrangements in the database: a year's official arrangement (the State
Council's notice) loaded by the county, shared by every web and worker process on the
database (was the instance's holiday_arrangements.json); ``version`` changes on each
load so processes drop their parsed copy at once.

Revision ID: d4e6f8a1b3c5
Revises: d4e5f6a7b8c9
Create Date: 2026-12-01 00:40:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'd4e6f8a1b3c5'
down_revision = 'd4e5f6a7b8c9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'holiday_arrangement',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('holidays', sa.JSON(), nullable=False),
        sa.Column('workdays', sa.JSON(), nullable=False),
        sa.Column('source', sa.String(length=128), nullable=False),
        sa.Column('version', sa.String(length=32), nullable=False),
        sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_holiday_arrangement')),
    )


def downgrade():
    op.drop_table('holiday_arrangement')
