"""The conversation store (SQLAlchemy 2 + Alembic)."""

from soulchat.store.migrate import SchemaError
from soulchat.store.store import ForgetReport, RiskEvent, Store, StoredMessage, UserRecord

__all__ = ["ForgetReport", "RiskEvent", "SchemaError", "Store", "StoredMessage", "UserRecord"]
