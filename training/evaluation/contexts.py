"""Held-out contexts: every counselor turn of a dialogue, with the conversation before it.

A context is what the model sees (the turns before one counselor turn, trimmed to the last
``max_turns`` exchanges exactly as serving trims them) and the counselor turn is the reference
it is scored against. Sampled contexts are written to a JSONL file with stable ids, so that
several models are scored on exactly the same contexts.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.prompt import Turn, select_turns
from training.data.schema import DataError, Dialogue, read_json_lines, read_jsonl, write_json_lines

# The serving path keeps this many earlier exchanges (context.max_turns).
DEFAULT_MAX_TURNS = 5


@dataclass(frozen=True)
class EvalContext:
    id: str
    language: str
    turns: tuple[Turn, ...]  # oldest first; the last one is the user's
    reference: str

    @property
    def locale(self) -> str:
        """The prompt locale: zh for Chinese, en for everything else (as serving does)."""
        return "zh" if is_chinese(self.language) else "en"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "context": [{"role": turn.role, "text": turn.text} for turn in self.turns],
            "reference": self.reference,
        }

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "<input>") -> EvalContext:
        if not isinstance(obj, dict):
            raise DataError(where, None, "record", "expected a JSON object")
        for name in ("id", "language", "reference"):
            if not isinstance(obj.get(name), str):
                raise DataError(where, None, name, "expected a string")
        turns = _turns_from_json(obj.get("context"), where)
        return cls(obj["id"], obj["language"], turns, obj["reference"])


def _turns_from_json(raw: Any, where: str) -> tuple[Turn, ...]:
    if not isinstance(raw, list) or not raw:
        raise DataError(where, None, "context", "expected a non-empty list of turns")
    turns: list[Turn] = []
    for index, item in enumerate(raw):
        role = item.get("role") if isinstance(item, dict) else None
        text = item.get("text") if isinstance(item, dict) else None
        if role not in ("user", "assistant") or not isinstance(text, str):
            raise DataError(where, None, f"context[{index}]", "expected {role, text}")
        turns.append(Turn(role, text))
    if turns[-1].role != "user":
        raise DataError(where, None, "context", "the last turn must be the user's")
    return tuple(turns)


def is_chinese(language: str) -> bool:
    return language.lower().startswith("zh")


def contexts_of(
    dialogue: Dialogue, *, max_turns: int | None = DEFAULT_MAX_TURNS
) -> list[EvalContext]:
    """One context per assistant turn that directly follows a user turn (in unmerged data, a
    second counselor message in a row is skipped). ``max_turns`` None keeps the whole
    history; otherwise ``select_turns`` trims it as serving does."""
    keep = max_turns if max_turns is not None else len(dialogue.messages)
    contexts: list[EvalContext] = []
    for index, message in enumerate(dialogue.messages):
        if message.role != "assistant" or not message.content.strip():
            continue
        before = [(m.role, m.content) for m in dialogue.messages[:index]]
        turns = select_turns(before, keep)
        if not turns:  # nothing from the user yet (the counselor opened the dialogue)
            continue
        contexts.append(
            EvalContext(f"{dialogue.id}#{index}", dialogue.language, tuple(turns), message.content)
        )
    return contexts


def extract_contexts(
    dialogues: Iterable[Dialogue], *, max_turns: int | None = DEFAULT_MAX_TURNS
) -> list[EvalContext]:
    contexts: list[EvalContext] = []
    for dialogue in dialogues:
        contexts.extend(contexts_of(dialogue, max_turns=max_turns))
    check_unique_ids(contexts, "the dialogues")
    return contexts


def sample_contexts(
    contexts: Sequence[EvalContext],
    *,
    max_contexts: int | None = None,
    per_dialogue: int | None = None,
    seed: int = 0,
) -> list[EvalContext]:
    """At most ``per_dialogue`` contexts from each dialogue, then at most ``max_contexts`` in
    all, drawn with ``seed``; the chosen ones keep their input order, so the same file and
    seed always give the same contexts."""
    rng = random.Random(seed)
    chosen = list(range(len(contexts)))
    if per_dialogue is not None:
        chosen = _cap_per_dialogue(contexts, chosen, per_dialogue, rng)
    if max_contexts is not None and len(chosen) > max_contexts:
        chosen = sorted(rng.sample(chosen, max_contexts))
    return [contexts[index] for index in chosen]


def _cap_per_dialogue(
    contexts: Sequence[EvalContext], indices: list[int], cap: int, rng: random.Random
) -> list[int]:
    by_dialogue: dict[str, list[int]] = {}
    for index in indices:
        by_dialogue.setdefault(dialogue_id(contexts[index]), []).append(index)
    kept: list[int] = []
    for group in by_dialogue.values():  # dicts keep first-seen order: deterministic
        kept.extend(group if len(group) <= cap else rng.sample(group, cap))
    return sorted(kept)


def dialogue_id(context: EvalContext) -> str:
    return context.id.rsplit("#", 1)[0]


def load_contexts_from_dialogues(
    path: str | Path,
    *,
    max_turns: int | None = DEFAULT_MAX_TURNS,
    max_contexts: int | None = None,
    per_dialogue: int | None = None,
    seed: int = 0,
) -> list[EvalContext]:
    contexts = extract_contexts(read_jsonl(path), max_turns=max_turns)
    sampled = sample_contexts(
        contexts, max_contexts=max_contexts, per_dialogue=per_dialogue, seed=seed
    )
    if not sampled:
        raise DataError(path, None, "messages", "no assistant turn follows a user turn")
    return sampled


def write_contexts(contexts: Iterable[EvalContext], path: str | Path) -> int:
    return write_json_lines((context.to_json() for context in contexts), path)


def read_contexts(path: str | Path) -> list[EvalContext]:
    contexts = [
        EvalContext.from_json(obj, where=f"{path}:{number}")
        for number, obj in read_json_lines(path)
    ]
    if not contexts:
        raise DataError(path, None, "file", "holds no contexts")
    check_unique_ids(contexts, str(path))
    return contexts


def check_unique_ids(contexts: Sequence[EvalContext], where: str) -> None:
    seen: set[str] = set()
    for context in contexts:
        if context.id in seen:
            raise DataError(where, None, "id", f"context id {context.id!r} occurs twice")
        seen.add(context.id)
