"""Vendor Central: VRET receipts, imported charges, dispute lines, returns credit notes

Revision ID: f7a3c9e1b5d2
Revises: f71c2b8e9a35
Create Date: 2026-12-03 17:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'f7a3c9e1b5d2'
down_revision = 'f71c2b8e9a35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('vendor_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('already_known', sa.Integer(), nullable=False),
    sa.Column('report', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_vendor_imports_imported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_imports'))
    )
    with op.batch_alter_table('vendor_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_imports_sha256'), ['sha256'], unique=False)

    op.create_table('vendor_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vret_number', sa.String(length=40), nullable=False),
    sa.Column('rma_id', sa.String(length=40), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('received_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('received', 'receiving')", name=op.f('ck_vendor_receipts_status')),
    sa.ForeignKeyConstraint(['received_by_id'], ['users.id'], name=op.f('fk_vendor_receipts_received_by_id_users')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_vendor_receipts_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_receipts')),
    sa.UniqueConstraint('vret_number', name=op.f('uq_vendor_receipts_vret_number'))
    )
    with op.batch_alter_table('vendor_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_receipts_store_id'), ['store_id'], unique=False)

    op.create_table('vendor_charges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('debit_note_number', sa.String(length=40), nullable=False),
    sa.Column('vret_number', sa.String(length=40), nullable=False),
    sa.Column('rma_id', sa.String(length=40), nullable=False),
    sa.Column('asin', sa.String(length=20), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('charged_on', sa.Date(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('import_line', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['vendor_imports.id'], name=op.f('fk_vendor_charges_import_id_vendor_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_charges')),
    sa.UniqueConstraint('line_key', name=op.f('uq_vendor_charges_line_key'))
    )
    with op.batch_alter_table('vendor_charges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_charges_debit_note_number'), ['debit_note_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_vendor_charges_vret_number'), ['vret_number'], unique=False)

    op.create_table('vendor_credit_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('debit_note_number', sa.String(length=40), nullable=False),
    sa.Column('returns_reference', sa.String(length=40), nullable=False),
    sa.Column('goods_return_date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('lines', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('transaction_id', sa.String(length=80), nullable=True),
    sa.Column('amazon_errors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('accepted', 'draft', 'queued', 'rejected', 'submitted', 'submitting', 'superseded', 'unsure')", name=op.f('ck_vendor_credit_notes_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_vendor_credit_notes_created_by_id_users')),
    sa.ForeignKeyConstraint(['receipt_id'], ['vendor_receipts.id'], name=op.f('fk_vendor_credit_notes_receipt_id_vendor_receipts')),
    sa.ForeignKeyConstraint(['replaces_id'], ['vendor_credit_notes.id'], name=op.f('fk_vendor_credit_notes_replaces_id_vendor_credit_notes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_credit_notes')),
    sa.UniqueConstraint('number', name=op.f('uq_vendor_credit_notes_number'))
    )
    with op.batch_alter_table('vendor_credit_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_credit_notes_receipt_id'), ['receipt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vendor_credit_notes_status'), ['status'], unique=False)

    op.create_table('vendor_disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debit_note_number', sa.String(length=40), nullable=False),
    sa.Column('vret_number', sa.String(length=40), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=True),
    sa.Column('asin', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('dismissed', 'disputed', 'lost', 'open', 'won')", name=op.f('ck_vendor_disputes_status')),
    sa.ForeignKeyConstraint(['receipt_id'], ['vendor_receipts.id'], name=op.f('fk_vendor_disputes_receipt_id_vendor_receipts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_disputes')),
    sa.UniqueConstraint('debit_note_number', 'asin', 'kind', name=op.f('uq_vendor_disputes_debit_note_number_asin_kind'))
    )
    with op.batch_alter_table('vendor_disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_disputes_debit_note_number'), ['debit_note_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_vendor_disputes_status'), ['status'], unique=False)

    op.create_table('vendor_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['receipt_id'], ['vendor_receipts.id'], name=op.f('fk_vendor_photos_receipt_id_vendor_receipts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_photos'))
    )
    with op.batch_alter_table('vendor_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_photos_receipt_id'), ['receipt_id'], unique=False)

    op.create_table('vendor_receipt_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('asin', sa.String(length=20), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=12), nullable=False),
    sa.Column('amazon_damage', sa.Boolean(), nullable=False),
    sa.Column('disposition', sa.String(length=20), nullable=False),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['receipt_id'], ['vendor_receipts.id'], name=op.f('fk_vendor_receipt_lines_receipt_id_vendor_receipts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_receipt_lines'))
    )
    with op.batch_alter_table('vendor_receipt_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_receipt_lines_receipt_id'), ['receipt_id'], unique=False)



def downgrade():
    with op.batch_alter_table('vendor_receipt_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_receipt_lines_receipt_id'))

    op.drop_table('vendor_receipt_lines')
    with op.batch_alter_table('vendor_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_photos_receipt_id'))

    op.drop_table('vendor_photos')
    with op.batch_alter_table('vendor_disputes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_disputes_status'))
        batch_op.drop_index(batch_op.f('ix_vendor_disputes_debit_note_number'))

    op.drop_table('vendor_disputes')
    with op.batch_alter_table('vendor_credit_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_credit_notes_status'))
        batch_op.drop_index(batch_op.f('ix_vendor_credit_notes_receipt_id'))

    op.drop_table('vendor_credit_notes')
    with op.batch_alter_table('vendor_charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_charges_vret_number'))
        batch_op.drop_index(batch_op.f('ix_vendor_charges_debit_note_number'))

    op.drop_table('vendor_charges')
    with op.batch_alter_table('vendor_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_receipts_store_id'))

    op.drop_table('vendor_receipts')
    with op.batch_alter_table('vendor_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_imports_sha256'))

    op.drop_table('vendor_imports')
