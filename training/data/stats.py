"""How much data there is: dialogues, turns, characters, tokens, overall, by source and by
language; rendered as a Markdown table or JSON."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from inference.prompt import estimate_tokens
from training.data.schema import Dialogue

TokenCounter = Callable[[str], int]


def tokenizer_counter(tokenizer: Any) -> TokenCounter:
    """Exact token counts from a Hugging Face tokenizer (no special tokens: those belong to the
    chat template, not to the data)."""

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False))

    return count


def _plain(value: float) -> float | int:
    """12 rather than 12.0: a median of an even count is a float even when whole."""
    return int(value) if float(value).is_integer() else value


@dataclass
class GroupStats:
    dialogues: int = 0
    turns: int = 0
    user_turns: int = 0
    assistant_turns: int = 0
    characters: int = 0
    tokens: int = 0
    turns_per_dialogue: list[int] = field(default_factory=list, repr=False)

    def add(self, dialogue: Dialogue, turns: int, characters: int, tokens: int) -> None:
        assistant = dialogue.assistant_turns()
        self.dialogues += 1
        self.turns += turns
        self.assistant_turns += assistant
        self.user_turns += turns - assistant
        self.characters += characters
        self.tokens += tokens
        self.turns_per_dialogue.append(turns)

    def merge(self, other: GroupStats) -> None:
        self.dialogues += other.dialogues
        self.turns += other.turns
        self.user_turns += other.user_turns
        self.assistant_turns += other.assistant_turns
        self.characters += other.characters
        self.tokens += other.tokens
        self.turns_per_dialogue += other.turns_per_dialogue

    def to_json(self) -> dict[str, Any]:
        per = self.turns_per_dialogue
        return {
            "dialogues": self.dialogues,
            "turns": self.turns,
            "user_turns": self.user_turns,
            "assistant_turns": self.assistant_turns,
            "characters": self.characters,
            "tokens": self.tokens,
            "turns_mean": round(statistics.fmean(per), 2) if per else 0.0,
            "turns_median": _plain(statistics.median(per)) if per else 0,
            "turns_max": max(per, default=0),
        }


@dataclass
class DatasetStats:
    total: GroupStats = field(default_factory=GroupStats)
    by_source: dict[str, GroupStats] = field(default_factory=dict)
    by_language: dict[str, GroupStats] = field(default_factory=dict)
    tokens_counted_by: str = "estimate"

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total.to_json(),
            "by_source": {k: v.to_json() for k, v in sorted(self.by_source.items())},
            "by_language": {k: v.to_json() for k, v in sorted(self.by_language.items())},
            "tokens_counted_by": self.tokens_counted_by,
        }

    def rows(self) -> list[tuple[str, GroupStats]]:
        rows = [("all", self.total)]
        rows += [(f"source: {k}", v) for k, v in sorted(self.by_source.items())]
        rows += [(f"language: {k}", v) for k, v in sorted(self.by_language.items())]
        return rows

    def to_markdown(self, title: str = "") -> str:
        return markdown_table(self.rows(), title, self.tokens_counted_by)


_COLUMNS = (
    ("dialogues", "dialogues"),
    ("turns", "turns"),
    ("assistant_turns", "assistant turns"),
    ("characters", "characters"),
    ("tokens", "tokens"),
    ("turns_mean", "turns/dialogue mean"),
    ("turns_median", "median"),
    ("turns_max", "max"),
)


_TOKEN_NOTES = {
    "estimate": "Tokens are estimated: one per CJK character, one per three other characters.",
    "tokenizer": "Tokens are counted with the tokenizer given.",
}


def markdown_table(rows: Iterable[tuple[str, GroupStats]], title: str, tokens_by: str) -> str:
    lines = [f"### {title}", ""] if title else []
    lines.append("| | " + " | ".join(label for _, label in _COLUMNS) + " |")
    lines.append("|---" + "|---:" * len(_COLUMNS) + "|")
    for name, group in rows:
        values = group.to_json()
        lines.append(f"| {name} | " + " | ".join(str(values[key]) for key, _ in _COLUMNS) + " |")
    lines += ["", _TOKEN_NOTES.get(tokens_by, f"Tokens: {tokens_by}.")]
    return "\n".join(lines) + "\n"


def compute_stats(
    dialogues: Iterable[Dialogue], *, count_tokens: TokenCounter | None = None
) -> DatasetStats:
    """Counts over the dialogues; tokens from ``count_tokens`` (see ``tokenizer_counter``) or,
    without one, ``inference.prompt.estimate_tokens`` (one per CJK character, one per three
    other characters)."""
    counter = count_tokens or estimate_tokens
    stats = DatasetStats(tokens_counted_by="tokenizer" if count_tokens else "estimate")
    for dialogue in dialogues:
        turns = len(dialogue.messages)
        characters = sum(len(m.content) for m in dialogue.messages)
        tokens = sum(counter(m.content) for m in dialogue.messages)
        for group in (
            stats.total,
            stats.by_source.setdefault(dialogue.source, GroupStats()),
            stats.by_language.setdefault(dialogue.language, GroupStats()),
        ):
            group.add(dialogue, turns, characters, tokens)
    return stats


def merge_stats(parts: Iterable[DatasetStats]) -> DatasetStats:
    """The stats of the union of disjoint parts (the splits), without counting tokens again."""
    merged = DatasetStats()
    for part in parts:
        merged.tokens_counted_by = part.tokens_counted_by
        merged.total.merge(part.total)
        for key, group in part.by_source.items():
            merged.by_source.setdefault(key, GroupStats()).merge(group)
        for key, group in part.by_language.items():
            merged.by_language.setdefault(key, GroupStats()).merge(group)
    return merged
