"""The conversation store (SQLAlchemy 2 + Alembic)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from soulchat.store.migrate import SchemaError
from soulchat.store.store import ForgetReport, RiskEvent, Store, StoredMessage, UserRecord

if TYPE_CHECKING:
    from soulchat.config import Settings


def open_store(settings: Settings) -> Store:
    """The store the settings name, migrated if it is new and empty."""
    return Store.open(settings.database.url, auto_migrate=settings.database.auto_migrate)


__all__ = [
    "ForgetReport",
    "RiskEvent",
    "SchemaError",
    "Store",
    "StoredMessage",
    "UserRecord",
    "open_store",
]
