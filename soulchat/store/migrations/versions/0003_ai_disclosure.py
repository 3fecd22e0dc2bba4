"""when each user was last told they are talking to an AI

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 06:30:00.000000
"""

from alembic import op  # noqa: I001
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # AI disclosure at the start of a session and at least every 3 hours of use (New York's
    # companion-chatbot law; California SB 243): the service needs to know when it last did.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("ai_disclosed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("ai_disclosed_at")
