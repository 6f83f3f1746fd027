"""Feed evidence: every feed known at Amazon, one uncertain submission per seller and
marketplace, why a submission waits

Revision ID: d52f8a1c3e07
Revises: c41e9a7b2d10
Create Date: 2026-12-03 12:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'd52f8a1c3e07'
down_revision = 'c41e9a7b2d10'
branch_labels = None
depends_on = None

STATES = "('building', 'uploaded', 'creating', 'submitted', 'done', 'fatal', 'cancelled')"


def upgrade():
    with op.batch_alter_table('amazon_feed_submissions') as batch:
        batch.add_column(sa.Column('create_started_at', sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('create_attempts', sa.Integer(), server_default='0',
                                   nullable=False))
        batch.add_column(sa.Column('waiting_reason', sa.String(length=40), server_default='',
                                   nullable=False))
        batch.add_column(sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint(op.f('ck_amazon_feed_submissions_status'),
                                      f"status IN {STATES}")
    op.create_index('uq_amazon_feed_submissions_one_uncertain', 'amazon_feed_submissions',
                    ['seller_id', 'marketplace_id'], unique=True,
                    postgresql_where=sa.text("status = 'creating'"),
                    sqlite_where=sa.text("status = 'creating'"))
    op.create_table(
        'amazon_feeds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('feed_id', sa.String(length=40), nullable=False),
        sa.Column('seller_id', sa.String(length=40), nullable=False),
        sa.Column('marketplace_id', sa.String(length=20), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=True),
        sa.Column('origin', sa.String(length=12), nullable=False),
        sa.Column('processing_status', sa.String(length=20), nullable=False),
        sa.Column('amazon_created_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                                   'postgresql'), nullable=False),
        sa.CheckConstraint("origin IN ('answer', 'report', 'void', 'pending', 'foreign')",
                           name=op.f('ck_amazon_feeds_origin')),
        sa.ForeignKeyConstraint(['submission_id'], ['amazon_feed_submissions.id'],
                                name=op.f('fk_amazon_feeds_submission_id_amazon_feed_submissions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_amazon_feeds')),
        sa.UniqueConstraint('feed_id', name=op.f('uq_amazon_feeds_feed_id')),
    )
    op.create_index(op.f('ix_amazon_feeds_submission_id'), 'amazon_feeds', ['submission_id'])
    # Feeds Homing created before this revision are known by their answer.
    op.execute("INSERT INTO amazon_feeds (feed_id, seller_id, marketplace_id, submission_id, "
               "origin, processing_status, first_seen_at, evidence) "
               "SELECT feed_id, seller_id, marketplace_id, id, 'answer', '', created_at, '{}' "
               "FROM amazon_feed_submissions WHERE feed_id IS NOT NULL")


def downgrade():
    op.drop_index(op.f('ix_amazon_feeds_submission_id'), table_name='amazon_feeds')
    op.drop_table('amazon_feeds')
    op.drop_index('uq_amazon_feed_submissions_one_uncertain',
                  table_name='amazon_feed_submissions')
    with op.batch_alter_table('amazon_feed_submissions') as batch:
        batch.drop_constraint(op.f('ck_amazon_feed_submissions_status'), type_='check')
        batch.drop_column('waiting_since')
        batch.drop_column('waiting_reason')
        batch.drop_column('create_attempts')
        batch.drop_column('create_started_at')
