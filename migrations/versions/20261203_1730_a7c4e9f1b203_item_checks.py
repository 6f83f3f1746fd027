"""Item verification at the counter: order lines carry the item's GTIN and serial numbers;
each returned unit's scan is an item check

Revision ID: a7c4e9f1b203
Revises: f1c2a3b4d5e6
Create Date: 2026-12-03 17:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'a7c4e9f1b203'
down_revision = 'f1c2a3b4d5e6'
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
RESULTS = ('match', 'mismatch', 'other_line', 'unverified')
SERIAL_CHECKS = ('', 'match', 'mismatch', 'unknown')


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    with op.batch_alter_table('order_lines') as batch:
        batch.add_column(sa.Column('gtin', sa.String(14), nullable=False, server_default=''))
        batch.add_column(sa.Column('gtin_source', sa.String(10), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('serial_numbers', JsonDoc, nullable=False,
                                   server_default='[]'))
    op.create_table(
        'item_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('intake_id', sa.Integer(), nullable=False),
        sa.Column('return_line_id', sa.Integer(), nullable=False),
        sa.Column('expected_gtin', sa.String(14), nullable=False),
        sa.Column('scanned_gtin', sa.String(14), nullable=False),
        sa.Column('source', sa.String(10), nullable=False),
        sa.Column('result', sa.String(12), nullable=False),
        sa.Column('other_order_line_id', sa.Integer(), nullable=True),
        sa.Column('overridden_by_id', sa.Integer(), nullable=True),
        sa.Column('overridden_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('serial_number', sa.String(64), nullable=False),
        sa.Column('serial_check', sa.String(10), nullable=False),
        sa.Column('serial_seen_in', sa.String(40), nullable=False),
        sa.Column('clerk_id', sa.Integer(), nullable=True),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in('result', RESULTS), name=op.f('ck_item_checks_result')),
        sa.CheckConstraint(_in('serial_check', SERIAL_CHECKS),
                           name=op.f('ck_item_checks_serial_check')),
        sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'],
                                name=op.f('fk_item_checks_intake_id_intakes')),
        sa.ForeignKeyConstraint(['return_line_id'], ['return_lines.id'],
                                name=op.f('fk_item_checks_return_line_id_return_lines')),
        sa.ForeignKeyConstraint(['other_order_line_id'], ['order_lines.id'],
                                name=op.f('fk_item_checks_other_order_line_id_order_lines')),
        sa.ForeignKeyConstraint(['overridden_by_id'], ['users.id'],
                                name=op.f('fk_item_checks_overridden_by_id_users')),
        sa.ForeignKeyConstraint(['clerk_id'], ['users.id'],
                                name=op.f('fk_item_checks_clerk_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_item_checks')),
        sa.UniqueConstraint('return_line_id', name=op.f('uq_item_checks_return_line_id')),
    )
    op.create_index(op.f('ix_item_checks_intake_id'), 'item_checks', ['intake_id'])
    op.create_index(op.f('ix_item_checks_serial_number'), 'item_checks', ['serial_number'])


def downgrade():
    op.drop_index(op.f('ix_item_checks_serial_number'), table_name='item_checks')
    op.drop_index(op.f('ix_item_checks_intake_id'), table_name='item_checks')
    op.drop_table('item_checks')
    with op.batch_alter_table('order_lines') as batch:
        batch.drop_column('serial_numbers')
        batch.drop_column('gtin_source')
        batch.drop_column('gtin')
