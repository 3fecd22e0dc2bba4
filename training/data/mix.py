"""A training mix: a chosen number of dialogues from each prepared split, shuffled together,
with a manifest of what went in (sources, licences, counts; never text).

A CPU trains a few hundred dialogues in a session, so which ones matters. ``soulchat data mix``
takes prepared splits (``soulchat data prepare`` output, one per corpus so each keeps its own
held-out test split), drops dialogues with a counselor turn longer than ``longest_reply``
characters (a single-turn corpus of long written answers would otherwise teach essays where the
method wants a turn of conversation), samples ``count`` of the rest from each with a seed, and
writes one shuffled ``train.jsonl`` and ``manifest.json`` beside it.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.data.schema import Dialogue, read_jsonl, write_jsonl
from training.model_card import DATA_LICENCES


@dataclass(frozen=True)
class MixPart:
    path: Path
    count: int | None  # None: every dialogue that qualifies

    @classmethod
    def parse(cls, spec: str) -> MixPart:
        """``data/smilechat/train.jsonl:600`` (600 dialogues) or a bare path (all of them)."""
        path, sep, count = spec.rpartition(":")
        if not sep or not count.isdigit():
            return cls(Path(spec), None)
        if int(count) < 1:
            raise ValueError(f"{spec}: the count after ':' must be at least 1")
        return cls(Path(path), int(count))


@dataclass
class MixConfig:
    parts: list[MixPart]
    out: Path
    seed: int = 42
    longest_reply: int | None = None  # characters of one counselor turn; None: no limit


@dataclass
class PartReport:
    path: str
    available: int = 0
    too_long: int = 0
    taken: int = 0
    sources: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    messages: int = 0
    characters: int = 0


def longest_reply(dialogue: Dialogue) -> int:
    return max((len(m.content) for m in dialogue.messages if m.role == "assistant"), default=0)


def take_part(
    part: MixPart, config: MixConfig, rng: random.Random
) -> tuple[list[Dialogue], PartReport]:
    report = PartReport(str(part.path))
    kept = []
    for dialogue in read_jsonl(part.path):
        report.available += 1
        if config.longest_reply is not None and longest_reply(dialogue) > config.longest_reply:
            report.too_long += 1
            continue
        kept.append(dialogue)
    if part.count is not None and part.count > len(kept):
        raise ValueError(
            f"{part.path}: asked for {part.count} dialogues, only {len(kept)} qualify "
            f"({report.too_long} have a counselor turn over {config.longest_reply} characters)"
        )
    taken = kept if part.count is None else rng.sample(kept, part.count)
    for dialogue in taken:
        report.sources[dialogue.source] += 1
        report.languages[dialogue.language] += 1
        report.messages += len(dialogue.messages)
        report.characters += sum(len(m.content) for m in dialogue.messages)
    report.taken = len(taken)
    return taken, report


def mix(config: MixConfig) -> dict[str, Any]:
    """Write ``out/train.jsonl`` and ``out/manifest.json``; returns the manifest."""
    rng = random.Random(config.seed)
    dialogues: list[Dialogue] = []
    reports = []
    for part in config.parts:
        taken, report = take_part(part, config, rng)
        dialogues.extend(taken)
        reports.append(report)
    rng.shuffle(dialogues)
    config.out.mkdir(parents=True, exist_ok=True)
    write_jsonl(dialogues, config.out / "train.jsonl")
    manifest = build_manifest(config, reports, len(dialogues))
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (config.out / "manifest.json").write_text(text, encoding="utf-8")
    return manifest


def build_manifest(config: MixConfig, reports: list[PartReport], total: int) -> dict[str, Any]:
    sources: Counter[str] = Counter()
    for report in reports:
        sources.update(report.sources)
    return {
        "dialogues": total,
        "seed": config.seed,
        "longest_reply": config.longest_reply,
        "sources": {
            source: {
                "dialogues": count,
                "dataset": DATA_LICENCES.get(source, (source, ""))[0],
                "licence": DATA_LICENCES.get(source, ("", "unknown licence: check it"))[1],
            }
            for source, count in sorted(sources.items())
        },
        "parts": [
            {
                "path": report.path,
                "available": report.available,
                "too_long": report.too_long,
                "taken": report.taken,
                "languages": dict(report.languages),
                "messages": report.messages,
                "characters": report.characters,
            }
            for report in reports
        ],
    }
