"""the region each user chose for their crisis lines

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 12:00:00.000000
"""

from alembic import op  # noqa: I001
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Crisis lines are chosen by region (safety.resources): a user's own /region choice, an
    # ISO 3166-1 alpha-2 code, wins over their client's language tag and the default. Null for
    # everyone until they choose.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("region", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("region")
