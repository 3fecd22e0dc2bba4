"""Alembic environment: the connection is handed in by soulchat.store.migrate."""

from alembic import context

from soulchat.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
