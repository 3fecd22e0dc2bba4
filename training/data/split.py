"""Train / valid / test splits by dialogue, never by turn, so no context leaks across splits.

Each group of dialogues gets a rank from a hash of the seed and the group key; the lowest ranks
fill the test split, the next the valid split, the rest is train. The same input and seed give
the same splits whatever the input order, and adding data moves few old dialogues.

By default a group is all dialogues that open with the same user message: SMILECHAT rewrote
each PsyQA question into several dialogues (about half of its 55k share an opening with another
one), and a question in train with its twin in test would flatter every evaluation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from training.data.clean import normalise
from training.data.schema import Dialogue

SPLIT_NAMES = ("train", "valid", "test")


@dataclass
class Splits:
    train: list[Dialogue] = field(default_factory=list)
    valid: list[Dialogue] = field(default_factory=list)
    test: list[Dialogue] = field(default_factory=list)

    def items(self) -> Iterator[tuple[str, list[Dialogue]]]:
        yield from (("train", self.train), ("valid", self.valid), ("test", self.test))

    def counts(self) -> dict[str, int]:
        return {name: len(dialogues) for name, dialogues in self.items()}


OPENING_MIN_CHARS = 20  # "Hello" or "你好" open hundreds of unrelated dialogues


def opening_key(dialogue: Dialogue) -> str:
    """The group of a dialogue: its first user message, normalised, when that is long enough
    to be a question of its own; else the dialogue is a group by itself."""
    first = next((m.content for m in dialogue.messages if m.role == "user"), "")
    first = normalise(first)
    return "opening:" + first if len(first) >= OPENING_MIN_CHARS else "id:" + dialogue.id


def by_id(dialogue: Dialogue) -> str:
    return dialogue.id


def _rank(seed: int, key: str) -> bytes:
    return hashlib.blake2b(f"{seed}\x00{key}".encode(), digest_size=16).digest()


def split_dialogues(
    dialogues: Iterable[Dialogue],
    *,
    valid: float = 0.05,
    test: float = 0.05,
    seed: int = 42,
    group_of: Callable[[Dialogue], str] = opening_key,
) -> Splits:
    """Split so that valid and test hold ``round(n * fraction)`` dialogues (a little more when
    a group straddles the boundary) and every group lies in one split. Each split keeps the
    input order."""
    if not (0.0 <= valid < 1.0 and 0.0 <= test < 1.0 and valid + test < 1.0):
        raise ValueError("valid and test must be fractions in [0, 1) summing to less than 1")
    items = list(dialogues)
    groups: dict[str, list[int]] = {}
    for position, dialogue in enumerate(items):
        groups.setdefault(group_of(dialogue), []).append(position)
    targets = {"test": int(len(items) * test + 0.5), "valid": int(len(items) * valid + 0.5)}
    filled = {"test": 0, "valid": 0}
    assigned: dict[int, str] = {}
    for key in sorted(groups, key=lambda k: _rank(seed, k)):
        name = next((n for n in ("test", "valid") if filled[n] < targets[n]), "train")
        if name != "train":
            filled[name] += len(groups[key])
        for position in groups[key]:
            assigned[position] = name
    splits = Splits()
    buckets = dict(splits.items())
    for position, dialogue in enumerate(items):
        buckets[assigned[position]].append(dialogue)
    return splits
