"""Showing a reply while it is generated, without showing anything the filter would stop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# Text is released up to the last of these, so a phrase the output filter blocks is never
# half-shown before its last word arrives.
BOUNDARIES = frozenset(" \n\t.,;:!?…。，、；：！？）)」』\"'")


class Verdict(Protocol):
    @property
    def allowed(self) -> bool: ...

    @property
    def reasons(self) -> tuple[str, ...]: ...


class StreamGuard:
    """Accumulates pieces of one reply and releases checked text at word boundaries."""

    def __init__(self, check: Callable[[str], Verdict], max_hold: int = 80) -> None:
        self._check = check
        self._max_hold = max_hold
        self.text = ""
        self.shown = ""
        self.blocked = False
        self.reasons: tuple[str, ...] = ()

    def feed(self, piece: str) -> str | None:
        """Add a piece; return the text to show now if it grew, else None."""
        if self.blocked:
            return None
        self.text += piece
        verdict = self._check(self.text)
        if not verdict.allowed:
            self.blocked, self.reasons = True, verdict.reasons
            return None
        cut = _last_boundary(self.text)
        if len(self.text) - cut > self._max_hold:  # a long run without spaces (Chinese)
            cut = len(self.text)
        candidate = self.text[:cut].strip()  # as the final reply will be
        if len(candidate) <= len(self.shown):
            return None
        self.shown = candidate
        return candidate


def _last_boundary(text: str) -> int:
    for index in range(len(text) - 1, -1, -1):
        if text[index] in BOUNDARIES:
            return index + 1
    return 0
