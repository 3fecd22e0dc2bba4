"""The data pipeline: load every input, clean, split by dialogue, write the splits and reports.

``prepare(PrepareConfig(inputs=[...], out=Path("data/prepared")))`` writes into ``out``:

* ``train.jsonl``, ``valid.jsonl``, ``test.jsonl``: the normalised form (read them back with
  ``training.data.schema.read_jsonl``);
* ``stats.json`` and ``stats.md``: the numbers of all kept data and of each split;
* ``prepare.json``: what was loaded and skipped per input, what cleaning did, the settings.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from training.data.clean import CleaningConfig, CleaningReport, clean
from training.data.loaders import FORMATS, LoadReport, load
from training.data.schema import DataError, Dialogue, write_jsonl
from training.data.split import SPLIT_NAMES, split_dialogues
from training.data.stats import (
    DatasetStats,
    TokenCounter,
    compute_stats,
    markdown_table,
    merge_stats,
)


@dataclass
class PrepareConfig:
    inputs: list[Path]
    out: Path
    fmt: str = "auto"
    valid: float = 0.05
    test: float = 0.05
    seed: int = 42
    skip_invalid: bool = False
    cleaning: CleaningConfig = field(default_factory=CleaningConfig)
    count_tokens: TokenCounter | None = None  # a tokenizer's counter; else estimated

    def to_json(self) -> dict[str, Any]:
        return {
            "inputs": [str(path) for path in self.inputs],
            "format": self.fmt,
            "valid": self.valid,
            "test": self.test,
            "seed": self.seed,
            "skip_invalid": self.skip_invalid,
            "cleaning": asdict(self.cleaning),
        }


@dataclass
class PrepareResult:
    out: Path
    loads: list[LoadReport]
    cleaning: CleaningReport
    splits: dict[str, int]
    stats: DatasetStats
    seconds: float

    @property
    def loaded(self) -> int:
        return sum(report.loaded for report in self.loads)

    @property
    def skipped(self) -> int:
        return sum(report.skipped for report in self.loads)

    def summary(self) -> str:
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(self.cleaning.dropped.items()) if v)
        scrubbed = sum(self.cleaning.scrubbed.values())
        splits = ", ".join(f"{name} {count}" for name, count in self.splits.items())
        lines = [
            f"loaded {self.loaded} dialogues from {len(self.loads)} input(s)"
            + (f", skipped {self.skipped} malformed" if self.skipped else ""),
            f"cleaning kept {self.cleaning.output}"
            + (f", dropped {dropped}" if dropped else ", dropped none")
            + (f"; {scrubbed} personal-data replacements" if scrubbed else ""),
            f"wrote {splits} to {self.out} in {self.seconds:.1f}s",
        ]
        return "\n".join(lines)


def load_inputs(
    inputs: list[Path], fmt: str = "auto", *, skip_invalid: bool = False
) -> tuple[list[Dialogue], list[LoadReport]]:
    """Every input's dialogues in order. A dialogue id seen twice (the same file given twice,
    say) is malformed input: skipping one copy silently could hide a mistake."""
    dialogues: list[Dialogue] = []
    reports: list[LoadReport] = []
    first_seen: dict[str, str] = {}
    for path in inputs:
        report = LoadReport(str(path))
        reports.append(report)
        for dialogue in load(path, fmt, skip_invalid=skip_invalid, report=report):
            if dialogue.id in first_seen:
                error = DataError(
                    path,
                    None,
                    "id",
                    f"{dialogue.id!r} was already loaded from {first_seen[dialogue.id]}",
                )
                if not skip_invalid:
                    raise error
                report.loaded -= 1
                report.skip(error)
                continue
            first_seen[dialogue.id] = str(path)
            dialogues.append(dialogue)
    return dialogues, reports


def prepare(config: PrepareConfig) -> PrepareResult:
    if config.fmt not in FORMATS:
        raise ValueError(f"unknown format {config.fmt!r}; choose one of {', '.join(FORMATS)}")
    if not config.inputs:
        raise ValueError("no inputs given")
    started = time.perf_counter()
    dialogues, loads = load_inputs(config.inputs, config.fmt, skip_invalid=config.skip_invalid)
    kept, cleaning = clean(dialogues, config.cleaning)
    del dialogues  # the raw copies are no longer needed; 50k dialogues are a lot of text
    splits = split_dialogues(kept, valid=config.valid, test=config.test, seed=config.seed)
    config.out.mkdir(parents=True, exist_ok=True)
    for name, part in splits.items():
        write_jsonl(part, config.out / f"{name}.jsonl")
    split_stats = {
        name: compute_stats(part, count_tokens=config.count_tokens) for name, part in splits.items()
    }
    stats = merge_stats(split_stats.values())
    _write_stats(config.out, stats, split_stats)
    result = PrepareResult(
        out=config.out,
        loads=loads,
        cleaning=cleaning,
        splits=splits.counts(),
        stats=stats,
        seconds=time.perf_counter() - started,
    )
    report = {
        "inputs": [item.to_json() for item in loads],
        "cleaning": cleaning.to_json(),
        "splits": result.splits,
        "config": config.to_json(),
        "seconds": round(result.seconds, 2),
    }
    _write_json(config.out / "prepare.json", report)
    return result


def _write_stats(out: Path, stats: DatasetStats, split_stats: dict[str, DatasetStats]) -> None:
    _write_json(
        out / "stats.json",
        {"all": stats.to_json(), "splits": {k: v.to_json() for k, v in split_stats.items()}},
    )
    splits_table = markdown_table(
        [(name, split_stats[name].total) for name in SPLIT_NAMES],
        "Splits",
        stats.tokens_counted_by,
    )
    text = stats.to_markdown("All prepared data") + "\n" + splits_table
    (out / "stats.md").write_text(text, encoding="utf-8")


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
