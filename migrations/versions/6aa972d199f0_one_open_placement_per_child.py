"""one open placement per child: a partial unique index on homebound_placement.child_id
where ends_on IS NULL (as uq_dropout_case_open_child), so two requests racing past the
service's overlap check cannot both place the same child 送教上门.

Revision ID: 6aa972d199f0
Revises: 35ad5fc572cc
Create Date: 2026-11-30 11:10:27.214730

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6aa972d199f0'
down_revision = '35ad5fc572cc'
branch_labels = None
depends_on = None

OPEN = "ends_on IS NULL"


def upgrade():
    # A database that already holds a double placement (the bug this index fixes)
    # cannot take the index: name the rows so an administrator ends or deletes the
    # duplicates first, rather than dropping data here.
    doubles = op.get_bind().execute(sa.text(
        "SELECT child_id, COUNT(*) FROM homebound_placement WHERE ends_on IS NULL "
        "GROUP BY child_id HAVING COUNT(*) > 1 ORDER BY child_id")).all()
    if doubles:
        listed = ", ".join(f"child_id {child} ({n} open placements)" for child, n in doubles)
        raise RuntimeError(f"homebound_placement has children with more than one open placement: {listed}; "
                           "end (ends_on) or delete the duplicates, then upgrade again")
    with op.batch_alter_table('homebound_placement', schema=None) as batch_op:
        batch_op.create_index('uq_homebound_placement_open_child', ['child_id'], unique=True,
                              sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade():
    with op.batch_alter_table('homebound_placement', schema=None) as batch_op:
        batch_op.drop_index('uq_homebound_placement_open_child', sqlite_where=sa.text(OPEN),
                            postgresql_where=sa.text(OPEN))
