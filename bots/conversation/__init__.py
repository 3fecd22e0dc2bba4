"""The platform-neutral conversation engine: a person's message in, a screened, streamed and
stored reply out. Start at ``service.py``."""

from bots.conversation.ports import ConversationControl, Escalation, HeldBy, Inbound, ReplySink
from bots.conversation.service import ConversationService

__all__ = [
    "ConversationControl",
    "ConversationService",
    "Escalation",
    "HeldBy",
    "Inbound",
    "ReplySink",
]
