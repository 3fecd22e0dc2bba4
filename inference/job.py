"""The contract between the adapters and the workers: one generation job, one reply event.

Both travel as JSON. A job carries everything the worker needs (the worker keeps no state about
users); an event carries a piece of the reply back to the adapter that owns the user.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from inference.prompt import Style, Turn
from soulchat.generation import GenerationParams

JOB_VERSION = 1

__all__ = ["JOB_VERSION", "EventKind", "GenerationJob", "GenerationParams", "JobTurn", "ReplyEvent"]


class JobTurn(BaseModel):
    role: Literal["user", "assistant"]
    text: str


class GenerationJob(BaseModel):
    version: int = JOB_VERSION
    turn_key: str = Field(description="Idempotency key of the turn; one reply per key.")
    reply_to: str = Field(description="Inbox of the adapter process that owns the user.")
    locale: str
    style: Style
    system_prompt: str
    turns: list[JobTurn]
    max_context_tokens: int
    params: GenerationParams
    deadline: float = Field(description="Unix time after which nobody waits for the reply.")

    def prompt_turns(self) -> list[Turn]:
        return [Turn(turn.role, turn.text) for turn in self.turns]


EventKind = Literal["delta", "done", "error"]


class ReplyEvent(BaseModel):
    """One message on the reply channel: a piece of the reply (``delta``), the whole reply
    (``done``), or why there will be none (``error``).

    ``run`` identifies one execution of the job: a redelivered or retried job streams under a
    new run id, and the adapter discards what the previous run had shown.
    """

    turn_key: str
    run: str
    kind: EventKind
    text: str = ""
    error: str = ""
