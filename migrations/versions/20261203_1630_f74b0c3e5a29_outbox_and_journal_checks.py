"""The outbox message's and the journal entry's status held to their machines by CHECKs

Revision ID: f74b0c3e5a29
Revises: e63a9b2d4f18
Create Date: 2026-12-03 16:30:00
"""
from alembic import op

revision = 'f74b0c3e5a29'
down_revision = 'e63a9b2d4f18'
branch_labels = None
depends_on = None

CHECKS = {
    'outbox_messages': {'status': ('dead', 'delivered', 'enqueued', 'failed', 'pending')},
    'journal_entries': {'status': ('failed', 'pending', 'posted', 'recorded')},
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
