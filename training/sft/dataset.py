"""Prepared dialogue files into a tokenised ``datasets.Dataset`` with assistant-only labels."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.prompt import Style
from training.data.schema import read_jsonl
from training.sft.samples import dialogue_samples


@dataclass
class DatasetSummary:
    dialogues: int = 0
    samples: int = 0
    tokens: int = 0
    trained_tokens: int = 0
    sources: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dialogues": self.dialogues,
            "samples": self.samples,
            "tokens": self.tokens,
            "trained_tokens": self.trained_tokens,
            "sources": dict(self.sources),
            "languages": dict(self.languages),
        }


def build_dataset(
    path: str | Path,
    tokenizer: Any,
    style: Style,
    *,
    max_length: int,
    system: bool = True,
    max_dialogues: int = 0,
    seed: int = 42,
) -> tuple[Any, DatasetSummary]:
    from datasets import Dataset

    dialogues = list(read_jsonl(path))
    if max_dialogues and len(dialogues) > max_dialogues:
        dialogues = random.Random(seed).sample(dialogues, max_dialogues)
    summary = DatasetSummary()
    columns: dict[str, list[Any]] = {"input_ids": [], "labels": []}
    for dialogue in dialogues:
        summary.dialogues += 1
        summary.sources[dialogue.source] += 1
        summary.languages[dialogue.language] += 1
        for sample in dialogue_samples(
            dialogue, tokenizer, style, max_length=max_length, system=system
        ):
            columns["input_ids"].append(sample.input_ids)
            columns["labels"].append(sample.labels)
            summary.samples += 1
            summary.tokens += len(sample.input_ids)
            summary.trained_tokens += sample.trained_tokens
    return Dataset.from_dict(columns), summary
