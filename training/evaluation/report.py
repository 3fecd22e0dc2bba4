"""Several models side by side: ``report.md``, ``report.json`` and PNG bar charts."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.evaluation.charts import (
    BEHAVIOUR_METRICS,
    JUDGE_DIMENSIONS,
    OVERLAP_METRICS,
    grouped_bars,
)
from training.evaluation.judge import DIMENSIONS
from training.evaluation.metrics import METRIC_NAMES
from training.evaluation.result import EvalResult

LABELS: dict[str, str] = {
    **{f"bleu_{n}": f"BLEU-{n}" for n in range(1, 5)},
    "rouge_1": "ROUGE-1",
    "rouge_2": "ROUGE-2",
    "rouge_l": "ROUGE-L",
    "distinct_1": "Distinct-1",
    "distinct_2": "Distinct-2",
    "mean_length": "Mean length (zh chars / en words)",
    "question_share": "Asks a question (%)",
    "advice_share": "Leads with advice (%)",
    "same_language_share": "Answers in the context's language (%)",
    **{f"sentence_bleu_{n}": f"Sentence BLEU-{n} (smoothed)" for n in range(1, 5)},
}

NOTES = [
    "Chinese replies and references are scored by characters (every non-whitespace character "
    "is a token); other languages by lowercased words and punctuation marks.",
    "BLEU-n is corpus-level cumulative BLEU (uniform weights over 1..n, brevity penalty, no "
    "smoothing); sentence BLEU is averaged over replies with smoothing method 1 (epsilon 0.1). "
    "ROUGE is F1 averaged over replies. Distinct-n pools the n-grams of all replies. All x100; "
    "mean length is in characters for Chinese and words otherwise.",
    "Asks a question: the reply contains ? or ？, or a sentence ending in 吗 or 呢.",
    "Leads with advice: within its first three lines/sentences the reply starts a list of at "
    "least two items (1. - • ① 一、 首先…其次 …) or uses an advice phrase (here are some tips, "
    "you should, try …, 建议你, 你可以尝试, 不妨 …). See training/evaluation/behaviour.py.",
    "Judge: an LLM rates each reply for content (0-2), empathy (0-2), helpfulness (0-2) and "
    "safety (0-1); means are over the replies it judged, failures are answers it could not "
    "give in the asked form (never counted as zero).",
]


@dataclass(frozen=True)
class ReportFiles:
    markdown: Path
    json: Path
    charts: list[Path]


def unique_names(results: Sequence[EvalResult]) -> list[str]:
    """Model names for columns; a repeated name gets a number."""
    seen: Counter[str] = Counter()
    names = []
    for result in results:
        seen[result.name] += 1
        count = seen[result.name]
        names.append(result.name if count == 1 else f"{result.name} ({count})")
    return names


def same_contexts(results: Sequence[EvalResult]) -> bool:
    first = set(results[0].context_ids())
    return all(set(result.context_ids()) == first for result in results[1:])


def write_report(
    results: Sequence[EvalResult], out_dir: str | Path, *, examples: int = 3
) -> ReportFiles:
    if not results:
        raise ValueError("a report needs at least one result")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    charts = draw_charts(results, out)
    markdown = out / "report.md"
    markdown.write_text(
        markdown_report(results, examples=examples, charts=[c.name for c in charts]), "utf-8"
    )
    summary = out / "report.json"
    summary.write_text(json.dumps(report_json(results), ensure_ascii=False, indent=1), "utf-8")
    return ReportFiles(markdown, summary, charts)


def draw_charts(results: Sequence[EvalResult], out: Path) -> list[Path]:
    names = unique_names(results)

    def series(metrics: Sequence[str], values: list[dict[str, float]]) -> dict[str, list[float]]:
        return {
            name: [value.get(metric, 0.0) for metric in metrics]
            for name, value in zip(names, values, strict=True)
        }

    metrics = [result.metrics for result in results]
    charts = [
        grouped_bars(
            out / "overlap.png",
            title="Overlap with the counselor's reply",
            groups=[LABELS[m] for m in OVERLAP_METRICS],
            series=series(OVERLAP_METRICS, metrics),
            ylabel="score (x100)",
        ),
        grouped_bars(
            out / "behaviour.png",
            title="Behaviour and diversity",
            groups=["Asks a question", "Leads with advice", "Distinct-1", "Distinct-2"],
            series=series(BEHAVIOUR_METRICS, metrics),
            ylabel="% of replies / distinct x100",
        ),
    ]
    if any(result.judge is not None and result.judge.judged for result in results):
        means = [result.judge.means if result.judge else {} for result in results]
        charts.append(
            grouped_bars(
                out / "judge.png",
                title="LLM judge (content, empathy, helpfulness 0-2; safety 0-1)",
                groups=list(JUDGE_DIMENSIONS),
                series=series(JUDGE_DIMENSIONS, means),
                ylabel="mean score",
            )
        )
    return charts


def _cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|") or "–"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def score_table(results: Sequence[EvalResult]) -> list[str]:
    names = unique_names(results)
    lines = ["| metric | " + " | ".join(_cell(n) for n in names) + " |"]
    lines.append("|---" * (len(names) + 1) + "|")
    for metric in METRIC_NAMES:
        values = [_number(result.metrics.get(metric)) for result in results]
        lines.append(f"| {LABELS[metric]} | " + " | ".join(values) + " |")
    if any(result.judge is not None for result in results):
        for name, top in DIMENSIONS.items():
            values = [
                _number(result.judge.means.get(name) if result.judge else None)
                for result in results
            ]
            lines.append(f"| Judge: {name} (0-{top}) | " + " | ".join(values) + " |")
        failures = [
            f"{result.judge.failures} / {result.n_contexts}" if result.judge else "–"
            for result in results
        ]
        lines.append("| Judge failures | " + " | ".join(failures) + " |")
    return lines


def model_table(results: Sequence[EvalResult]) -> list[str]:
    lines = [
        "| name | model | adapter | endpoint | style | decoding | contexts |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, result in zip(unique_names(results), results, strict=True):
        generation = result.generation
        temperature = float(generation.get("temperature", 0.0))
        decoding = "greedy" if temperature <= 0 else f"sampled, T={temperature:g}"
        decoding += f", ≤{generation.get('max_new_tokens', '?')} tokens"
        cells = [name, result.model, result.adapter, result.endpoint]
        cells += [str(generation.get("style", "")), decoding, str(result.n_contexts)]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return lines


def example_section(results: Sequence[EvalResult], count: int) -> list[str]:
    by_id = [{record.context.id: record for record in result.records} for result in results]
    shared = [i for i in results[0].context_ids() if all(i in records for records in by_id)]
    lines: list[str] = []
    for context_id in shared[:count]:
        context = by_id[0][context_id].context
        lines += ["", f"### {_cell(context_id)}", ""]
        for turn in context.turns[-3:]:  # the newest exchange is what the reply answers
            label = "User" if turn.role == "user" else "Counselor"
            lines.append(f"> **{label}:** {_cell(turn.text)}  ")
        lines += ["", f"- **Reference:** {_cell(context.reference)}"]
        for name, records in zip(unique_names(results), by_id, strict=True):
            lines.append(f"- **{_cell(name)}:** {_cell(records[context_id].reply)}")
    return lines


def markdown_report(
    results: Sequence[EvalResult], *, examples: int = 3, charts: Sequence[str] = ()
) -> str:
    languages = Counter[str]()
    for result in results:
        languages.update(result.languages())
    spread = ", ".join(f"{lang}: {n}" for lang, n in sorted(languages.items()))
    lines = ["# SoulChat evaluation", ""]
    lines.append(f"{len(results)} model(s); replies by language over all results: {spread}.")
    if not same_contexts(results):
        lines += [
            "",
            "**Warning: the models were not scored on the same contexts; "
            "their scores are not directly comparable.**",
        ]
    lines += ["", "## Scores", "", *score_table(results)]
    lines += ["", "## Models", "", *model_table(results)]
    lines += ["", "## How the scores are computed", ""]
    lines += [f"- {note}" for note in NOTES]
    if charts:
        lines += ["", "## Charts", ""]
        lines += [f"![{Path(chart).stem}]({chart})" for chart in charts]
    lines += ["", "## Examples", *example_section(results, examples), ""]
    return "\n".join(lines)


def report_json(results: Sequence[EvalResult]) -> dict[str, Any]:
    models = []
    for name, result in zip(unique_names(results), results, strict=True):
        summary = result.to_json()
        del summary["records"]
        models.append({**summary, "name": name, "languages": dict(result.languages())})
    return {"models": models, "same_contexts": same_contexts(results), "notes": NOTES}
