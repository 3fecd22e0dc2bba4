"""Grouped bar charts of several models' scores, drawn without a display (a bare ``Figure``
renders with the Agg canvas; pyplot and its global state are never touched)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

OVERLAP_METRICS = ("bleu_1", "bleu_2", "bleu_3", "bleu_4", "rouge_1", "rouge_2", "rouge_l")
BEHAVIOUR_METRICS = ("question_share", "advice_share", "distinct_1", "distinct_2")
JUDGE_DIMENSIONS = ("content", "empathy", "helpfulness", "safety")


def grouped_bars(
    path: Path,
    *,
    title: str,
    groups: Sequence[str],
    series: dict[str, list[float]],
    ylabel: str,
) -> Path:
    """One group of bars per entry of ``groups``, one bar per model in each (``series`` maps a
    model's name to its values, in the order of ``groups``)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(max(6.0, 1.1 * len(groups) * max(1, len(series)) ** 0.5), 4.0))
    axes = figure.add_subplot()
    width = 0.8 / max(1, len(series))
    for number, (name, values) in enumerate(series.items()):
        offset = (number - (len(series) - 1) / 2) * width
        positions = [index + offset for index in range(len(groups))]
        bars = axes.bar(positions, values, width, label=name)
        axes.bar_label(bars, fmt="%.1f", fontsize=7, padding=1)
    axes.set_xticks(range(len(groups)), list(groups))
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend(fontsize=8)
    axes.margins(y=0.15)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    return path
