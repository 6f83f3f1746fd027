"""Amazon Business buyers (PO number, company, VAT id) and VAT credit notes with their
gapless numbering per seller and marketplace

Revision ID: f71c2b8e9a35
Revises: a7c4e9f1b203
Create Date: 2026-12-03 17:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'f71c2b8e9a35'
down_revision = 'a7c4e9f1b203'
branch_labels = None
depends_on = None

STATES = "('accepted', 'issued', 'rejected', 'submitted', 'superseded', 'unsure', 'uploading')"
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'business_buyers',
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('po_number', sa.String(length=80), nullable=False),
        sa.Column('company', sa.String(length=200), nullable=False),
        sa.Column('vat_id', sa.String(length=40), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE',
                                name=op.f('fk_business_buyers_order_id_orders')),
        sa.PrimaryKeyConstraint('order_id', name=op.f('pk_business_buyers')),
    )
    op.create_table(
        'business_return_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=12), nullable=False),
        sa.Column('buyer_email', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_business_return_batches')),
        sa.UniqueConstraint('number', name=op.f('uq_business_return_batches_number')),
    )
    op.create_table(
        'business_return_batch_members',
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('rma_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['business_return_batches.id'],
                                ondelete='CASCADE',
                                name=op.f('fk_business_return_batch_members_batch_id_'
                                          'business_return_batches')),
        sa.ForeignKeyConstraint(['rma_id'], ['return_authorizations.id'],
                                name=op.f('fk_business_return_batch_members_rma_id_'
                                          'return_authorizations')),
        sa.PrimaryKeyConstraint('batch_id', 'rma_id',
                                name=op.f('pk_business_return_batch_members')),
    )
    op.create_table(
        'credit_note_sequences',
        sa.Column('seller_id', sa.String(length=40), nullable=False),
        sa.Column('marketplace_id', sa.String(length=20), nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('seller_id', 'marketplace_id',
                                name=op.f('pk_credit_note_sequences')),
    )
    op.create_table(
        'credit_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('refund_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('seller_id', sa.String(length=40), nullable=False),
        sa.Column('marketplace_id', sa.String(length=20), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('total_amount', sa.BigInteger(), nullable=False),
        sa.Column('total_vat', sa.BigInteger(), nullable=False),
        sa.Column('vat_breakdown', JSON, nullable=False),
        sa.Column('original_invoice', sa.String(length=60), nullable=False),
        sa.Column('seller_vat_id', sa.String(length=40), nullable=False),
        sa.Column('buyer_vat_id', sa.String(length=40), nullable=False),
        sa.Column('buyer_company', sa.String(length=200), nullable=False),
        sa.Column('po_number', sa.String(length=80), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('feed_document_id', sa.String(length=80), nullable=False),
        sa.Column('feed_id', sa.String(length=40), nullable=False),
        sa.Column('upload_started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('rejection_code', sa.String(length=40), nullable=False),
        sa.Column('rejection_reason', sa.String(length=1000), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('replaces_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"status IN {STATES}", name=op.f('ck_credit_notes_status')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                                name=op.f('fk_credit_notes_order_id_orders')),
        sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'],
                                name=op.f('fk_credit_notes_refund_id_refunds')),
        sa.ForeignKeyConstraint(['replaces_id'], ['credit_notes.id'],
                                name=op.f('fk_credit_notes_replaces_id_credit_notes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
        sa.UniqueConstraint('seller_id', 'marketplace_id', 'sequence',
                            name=op.f('uq_credit_notes_seller_id_marketplace_id_sequence')),
    )
    for column in ('refund_id', 'order_id', 'number', 'status'):
        op.create_index(op.f(f'ix_credit_notes_{column}'), 'credit_notes', [column])


def downgrade():
    op.drop_table('credit_notes')
    op.drop_table('credit_note_sequences')
    op.drop_table('business_return_batch_members')
    op.drop_table('business_return_batches')
    op.drop_table('business_buyers')
