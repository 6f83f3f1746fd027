"""Status columns held to their state machines by CHECK constraints

Revision ID: e63a9b2d4f18
Revises: d52f8a1c3e07
Create Date: 2026-12-03 12:15:00
"""
from alembic import op

revision = 'e63a9b2d4f18'
down_revision = 'd52f8a1c3e07'
branch_labels = None
depends_on = None

# The states each machine had when this revision was written (a later machine change writes
# its own revision).
CHECKS = {
    'refunds': {'status': ('amazon_refunded', 'failed', 'manual', 'pending', 'queued',
                           'settled', 'submitted', 'submitting', 'succeeded')},
    'return_authorizations': {'status': ('cancelled', 'completed', 'dropped_off', 'expired',
                                         'issued')},
    'return_lines': {'reception_status': ('awaiting', 'cancelled', 'expired', 'received'),
                     'acceptance_status': ('accepted', 'pending', 'rejected')},
    'vouchers': {'status': ('active', 'cancelled', 'expired', 'used')},
    'intakes': {'status': ('abandoned', 'awaiting_approval', 'completed', 'open')},
}


def upgrade():
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for column, states in columns.items():
                allowed = ", ".join(f"'{s}'" for s in states)
                batch.create_check_constraint(op.f(f'ck_{table}_{column}'),
                                              f"{column} IN ({allowed})")


def downgrade():
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_constraint(op.f(f'ck_{table}_{column}'), type_='check')
