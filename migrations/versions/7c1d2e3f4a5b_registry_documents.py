"""registry documents: child.id_type (居民身份证, 港澳台居民居住证, 外国人永久居留身份证,
无证件), child.id_number nullable for a pupil with no document, guardian.name nullable
(a phone given without a name), import_run.source (sheets, header rows, encoding read)
and import_run.warnings.

Revision ID: 7c1d2e3f4a5b
Revises: 6aa972d199f0
Create Date: 2026-11-30 20:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1d2e3f4a5b'
down_revision = '6aa972d199f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_type', sa.String(length=16), server_default='居民身份证', nullable=False))
        batch_op.alter_column('id_number', existing_type=sa.String(length=18), nullable=True)
    with op.batch_alter_table('guardian', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=64), nullable=True)
    with op.batch_alter_table('import_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('warnings', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('import_run', schema=None) as batch_op:
        batch_op.drop_column('warnings')
        batch_op.drop_column('source')
    with op.batch_alter_table('guardian', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=64), nullable=False)
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.alter_column('id_number', existing_type=sa.String(length=18), nullable=False)
        batch_op.drop_column('id_type')
