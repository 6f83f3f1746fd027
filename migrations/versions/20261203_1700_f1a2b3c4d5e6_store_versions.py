"""The stores' version row for the routing index, bumped with every store write

Revision ID: f1a2b3c4d5e6
Revises: f7a3c5e9b1d2
Create Date: 2026-12-03 17:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f1a2b3c4d5e6'
down_revision = 'f7a3c5e9b1d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'store_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('stamp', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_store_versions')),
    )
    op.execute("INSERT INTO store_versions (id, version, stamp) VALUES (1, 0, '')")
    if op.get_bind().dialect.name == 'postgresql':
        # Raw SQL and COPY into stores bypass the ORM's flush hook; the trigger does not.
        op.execute("""
            CREATE FUNCTION bump_store_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE store_versions SET version = version + 1,
                       stamp = replace(gen_random_uuid()::text, '-', '') WHERE id = 1;
                RETURN NULL;
            END $$""")
        op.execute("""
            CREATE TRIGGER stores_bump_version
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON stores
            FOR EACH STATEMENT EXECUTE FUNCTION bump_store_version()""")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS stores_bump_version ON stores")
        op.execute("DROP FUNCTION IF EXISTS bump_store_version()")
    op.drop_table('store_versions')
