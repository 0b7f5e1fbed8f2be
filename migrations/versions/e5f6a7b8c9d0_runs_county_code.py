"""import_run.county_code, comparison_run.county_code: the county an import or a
comparison run belongs to, so that runs made from the CLI (no user) are seen by the
county's users when several counties share the database.

Existing runs get the county of their user (its division), else the only county of the
database when there is exactly one; otherwise they stay empty (seen by the users of no
county in particular, as before).

Revision ID: e5f6a7b8c9d0
Revises: d4e6f8a1b3c5
Create Date: 2026-12-01 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5f6a7b8c9d0'
down_revision = 'd4e6f8a1b3c5'
branch_labels = None
depends_on = None

TABLES = ('import_run', 'comparison_run')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('county_code', sa.String(length=6), nullable=True))
            batch_op.create_index(f'ix_{table}_county_code', ['county_code'], unique=False)
        op.execute(
            f'UPDATE {table} SET county_code = (SELECT "user".division_code FROM "user" '
            f'WHERE "user".id = {table}.user_id)'
        )
        op.execute(
            f"UPDATE {table} SET county_code = (SELECT MIN(code) FROM division WHERE level = 'county') "
            f"WHERE county_code IS NULL AND (SELECT COUNT(*) FROM division WHERE level = 'county') = 1"
        )


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(f'ix_{table}_county_code')
            batch_op.drop_column('county_code')
