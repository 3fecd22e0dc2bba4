"""The conversation engine's edges: what an adapter hands in, how it shows things, and the two
small interfaces between the conversation and the operator desk.

Both sides import this module and never each other; ``bots/runtime.py`` wires one to the
other. The desk sees a conversation only through ``ConversationControl``; the conversation
sees the desk only through ``Escalation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Inbound:
    platform: str
    user_id: str
    text: str | bytes
    message_id: str | None = None
    locale: str | None = None
    region: str | None = None  # what the client's language tag says ("en-AU": AU), if anything


class ReplySink(Protocol):
    """How an adapter shows things to one user."""

    async def notice(self, text: str) -> None:
        """A message from SoulChat itself (resources, errors), not from the model."""

    async def typing(self) -> None:
        """A reply is being prepared."""

    async def reply_progress(self, text: str) -> None:
        """The reply so far (whole text, not a delta)."""

    async def reply_restarted(self) -> None:
        """What was shown of the reply is void; it starts again."""

    async def reply_final(self, text: str, *, replaced: bool) -> None:
        """The complete reply; ``replaced`` when the safety filter swapped it."""


@dataclass(frozen=True)
class HeldBy:
    """A person's unresolved case, as the conversation needs to know it."""

    case_id: int
    operator: str | None  # "operator:<platform>:<id>" while claimed, else None


class Escalation(Protocol):
    """What the conversation asks of the operator desk."""

    async def on_risk(
        self,
        *,
        user_id: int,
        conversation_id: int,
        locale: str,
        tier: int,
        categories: frozenset[str],
        excerpt: str,
        reason: str = "risk",
    ) -> int:
        """Open or raise the person's case (alerting operators when it is news); its id."""

    def case_of(self, user_id: int) -> HeldBy | None:
        """The person's unresolved case. Blocking: call it on a store thread."""

    async def relay_from_user(self, user_id: int, text: str) -> None:
        """The person wrote while an operator holds the conversation."""


class ConversationControl(Protocol):
    """What the operator desk asks of the conversation."""

    async def latch(self, platform: str, user_id: str, operator: str) -> None:
        """An operator claimed it: stop the turn in flight; the bot stays silent."""

    async def unlatch(self, platform: str, user_id: str) -> None:
        """The operator released or resolved it: the bot may speak again."""

    async def resolve_risk(self, platform: str, user_id: str) -> None:
        """The operator resolved the case: the latched high risk is cleared."""

    async def store_operator_message(self, platform: str, user_id: str, text: str) -> None:
        """What the volunteer wrote joins the conversation."""
