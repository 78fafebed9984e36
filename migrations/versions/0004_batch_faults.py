"""Batch faults: a unit file's SHA-256 (checked before it goes into a zip), when a unit set back
by an infrastructure fault may be tried again, and the lease of the one embedded driver of a batch.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batch_items") as table:
        table.add_column(sa.Column("sha256", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("retry_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("batches") as table:
        table.add_column(sa.Column("driver_owner", sa.String(length=100), nullable=True))
        table.add_column(sa.Column("driver_expires_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batches") as table:
        table.drop_column("driver_expires_at")
        table.drop_column("driver_owner")
    with op.batch_alter_table("batch_items") as table:
        table.drop_column("retry_at")
        table.drop_column("sha256")
