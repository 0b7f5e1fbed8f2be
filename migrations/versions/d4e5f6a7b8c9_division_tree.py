"""division: the organisation tree above the county (province 省, prefecture 州/市,
county), user.division_code, indexes on the county codes and the payments' index of
the province's figures by county.

Existing data keeps working: each county code found on townships and schools becomes a
county division with no parent (a county deployed alone); its users keep
``division_code`` empty and see every county of the database, which is theirs.

Revision ID: d4e5f6a7b8c9
Revises: c3a1e5f7b9d2
Create Date: 2026-11-30 23:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e5f6a7b8c9'
down_revision = 'c3a1e5f7b9d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'division',
        sa.Column('code', sa.String(length=6), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('level', sa.String(length=16), nullable=False),
        sa.Column('parent_code', sa.String(length=6), nullable=True),
        sa.ForeignKeyConstraint(['parent_code'], ['division.code']),
        sa.PrimaryKeyConstraint('code'),
    )
    op.create_index(op.f('ix_division_parent_code'), 'division', ['parent_code'], unique=False)
    op.execute(
        "INSERT INTO division (code, name, level) SELECT DISTINCT county_code, county_code, 'county' FROM "
        "(SELECT county_code FROM township UNION SELECT county_code FROM school) AS counties"
    )
    with op.batch_alter_table('user') as batch_op:
        batch_op.add_column(sa.Column('division_code', sa.String(length=6), nullable=True))
        batch_op.create_foreign_key('fk_user_division_code_division', 'division', ['division_code'], ['code'])
    op.create_index(op.f('ix_township_county_code'), 'township', ['county_code'], unique=False)
    op.create_index(op.f('ix_school_county_code'), 'school', ['county_code'], unique=False)
    op.create_index(op.f('ix_school_township_id'), 'school', ['township_id'], unique=False)
    op.create_index('ix_aid_payment_term_school', 'aid_payment',
                    ['term_id', 'school_id', 'scheme_code', 'is_poverty', 'amount_fen'], unique=False)


def downgrade():
    op.drop_index('ix_aid_payment_term_school', table_name='aid_payment')
    op.drop_index(op.f('ix_school_township_id'), table_name='school')
    op.drop_index(op.f('ix_school_county_code'), table_name='school')
    op.drop_index(op.f('ix_township_county_code'), table_name='township')
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_constraint('fk_user_division_code_division', type_='foreignkey')
        batch_op.drop_column('division_code')
    op.drop_index(op.f('ix_division_parent_code'), table_name='division')
    op.drop_table('division')
