"""The conversation store (SQLAlchemy 2 + Alembic)."""

from soulchat.store.migrate import SchemaError
from soulchat.store.store import ForgetReport, Store, StoredMessage, UserRecord

__all__ = ["ForgetReport", "SchemaError", "Store", "StoredMessage", "UserRecord"]
