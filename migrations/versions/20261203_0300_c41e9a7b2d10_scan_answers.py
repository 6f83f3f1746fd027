"""Scan answers: the store counter's lookups kept per order revision

Revision ID: c41e9a7b2d10
Revises: b7d1c0a4e9f2
Create Date: 2026-12-03 03:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'c41e9a7b2d10'
down_revision = 'b7d1c0a4e9f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('scan_revision', sa.Integer(), server_default='0',
                                   nullable=False))
    op.create_table(
        'scan_answers',
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=True),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('store_stamp', sa.DateTime(timezone=True), nullable=True),
        sa.Column('token', sa.Text(), nullable=True),
        sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                                name=op.f('fk_scan_answers_order_id_orders')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'],
                                name=op.f('fk_scan_answers_store_id_stores')),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_scan_answers')),
    )
    op.create_index(op.f('ix_scan_answers_order_id'), 'scan_answers', ['order_id'])


def downgrade():
    op.drop_index(op.f('ix_scan_answers_order_id'), table_name='scan_answers')
    op.drop_table('scan_answers')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('scan_revision')
