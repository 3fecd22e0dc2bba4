"""The interface every model backend implements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from inference.job import GenerationParams
from inference.prompt import Prompt


class BackendUnavailable(Exception):
    """The model cannot answer now (down, overloaded, timed out); the job is retried."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Backend(Protocol):
    name: str

    def count_tokens(self, prompt: Prompt) -> int:
        """Tokens the rendered prompt takes, measured as the model will see it."""
        ...

    def control_markers(self) -> list[str]:
        """Special-token strings that must not appear in user text."""
        ...

    def stream(self, prompt: Prompt, params: GenerationParams) -> Iterator[str]:
        """Yield the reply in pieces as it is generated."""
        ...

    def close(self) -> None: ...
