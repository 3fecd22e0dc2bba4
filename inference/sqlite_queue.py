"""The embedded queue: kombu's SQLAlchemy transport on a SQLite file, addressed as
``embedded+sqlite:///path``.

kombu hands every transport option to ``create_engine``, so the options every virtual
transport understands (``polling_interval``, ``visibility_timeout``, …) crash it. This channel
passes the engine only what SQLAlchemy accepts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqla

SCHEME = "embedded"
_KOMBU_OPTIONS = frozenset(
    {
        "polling_interval",
        "visibility_timeout",
        "unacked_restore_interval",
        "unacked_restore_throttle",
    }
)


class Channel(kombu_sqla.Channel):
    def _engine_from_config(self) -> Any:
        client = self.connection.client
        options = client.transport_options
        client.transport_options = {k: v for k, v in options.items() if k not in _KOMBU_OPTIONS}
        client.transport_options.setdefault("connect_args", {"timeout": 30})
        try:
            return super()._engine_from_config()
        finally:
            client.transport_options = options


class Transport(kombu_sqla.Transport):
    Channel = Channel


def prepare(url: str) -> None:
    """Create the folder of an embedded queue's SQLite file."""
    if url.startswith(f"{SCHEME}+sqlite:///"):
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)


def register() -> None:
    TRANSPORT_ALIASES[SCHEME] = f"{__name__}:Transport"
