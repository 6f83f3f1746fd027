"""The counter: approval requests with their tier and clock, visits with one receipt

Revision ID: f1c2a3b4d5e6
Revises: a96d2e7f0c41
Create Date: 2026-12-03 17:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'f1c2a3b4d5e6'
down_revision = 'a96d2e7f0c41'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'approval_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('intake_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('approved', 'declined', 'pending', 'withdrawn')",
                           name=op.f('ck_approval_requests_status')),
        sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'],
                                name=op.f('fk_approval_requests_intake_id_intakes')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'],
                                name=op.f('fk_approval_requests_store_id_stores')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_approval_requests_requested_by_id_users')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_approval_requests_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_requests')))
    for column in ('intake_id', 'store_id', 'status', 'due_at'):
        op.create_index(op.f(f'ix_approval_requests_{column}'), 'approval_requests', [column])
    op.create_table(
        'counter_visits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.Integer(), nullable=True),
        sa.Column('clerk_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('receipt_number', sa.String(length=24), nullable=True),
        sa.CheckConstraint("status IN ('cancelled', 'closed', 'open')",
                           name=op.f('ck_counter_visits_status')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'],
                                name=op.f('fk_counter_visits_store_id_stores')),
        sa.ForeignKeyConstraint(['device_id'], ['devices.id'],
                                name=op.f('fk_counter_visits_device_id_devices')),
        sa.ForeignKeyConstraint(['clerk_id'], ['users.id'],
                                name=op.f('fk_counter_visits_clerk_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_counter_visits')),
        sa.UniqueConstraint('receipt_number', name=op.f('uq_counter_visits_receipt_number')))
    for column in ('store_id', 'status'):
        op.create_index(op.f(f'ix_counter_visits_{column}'), 'counter_visits', [column])
    op.create_table(
        'counter_visit_returns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('intake_id', sa.Integer(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['visit_id'], ['counter_visits.id'],
                                name=op.f('fk_counter_visit_returns_visit_id_counter_visits')),
        sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'],
                                name=op.f('fk_counter_visit_returns_intake_id_intakes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_counter_visit_returns')),
        sa.UniqueConstraint('intake_id', name=op.f('uq_counter_visit_returns_intake_id')))
    op.create_index(op.f('ix_counter_visit_returns_visit_id'), 'counter_visit_returns',
                    ['visit_id'])


def downgrade():
    op.drop_table('counter_visit_returns')
    op.drop_table('counter_visits')
    op.drop_table('approval_requests')
