"""What SoulChat shows that is not a model reply: a text, with buttons where the platform has
them. Adapters render these; the front desk and the operator desk produce them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # "consent:yes", "forget:no", "case:claim:12": what pressing it means


@dataclass(frozen=True)
class Notice:
    text: str
    buttons: tuple[Button, ...] = ()


NoticeSender = Callable[[Notice], Awaitable[None]]
