"""Screening cost and quality: the full screen against the lexicon alone, in the same run.

1. Latency and throughput on one core, for three screens: ``full`` (lexicon, classifier and
   semantic layer, as shipped), ``fast`` (lexicon and classifier) and ``lexicon``. Every
   message of the project's suites (``tests/safety/suites``) is screened the way the service
   screens it: the message, and the conversation's recent messages read together
   (``RiskScreen.assess_conversation``). The process is pinned to one CPU (the encoder to one
   thread); the fast screens run over the whole stream ``--reps`` times, alternating, the full
   screen ``--full-reps`` times (it is a hundred times slower), and per-message latencies of
   all repetitions are pooled. Target: p99 ≤ 5 ms for the screen on the event loop's path;
   the service runs the full screen on its own thread.
2. Quality: must-catch cases (tier 3-4) scored below 3; benign look-alikes scored 2 or above
   (target ≤ 5%); recall and precision per tier over every suite. On two sets: the
   development suites (``tests/safety/suites``: the lexicon was improved while looking at its
   misses there, so these figures are optimistic) and the held-out suite
   (``tests/safety/holdout``: written independently after the screen was built and never
   looked at case by case; its aggregates were read while the semantic layer was chosen) and
   the second held-out suite (``tests/safety/holdout2``: written on the day the semantic layer
   was added, first scored after its head and thresholds were fixed: the honest figure for
   messages nobody has seen).
3. Shapes: one message of 400 and of 4,096 characters (Telegram's limit) made of one thing
   repeated - ordinary prose, digits, spaced digits, Chinese numerals, negations, Chinese
   negations, emoji, risk words, questions, whitespace - screened by the lexicon and by the
   fast layers, and the ratio of the two costs per shape: about 10 (4,096 / 400) when the
   cost is linear in the length, as the lexicon's rules are by construction
   (``safety.regex_shape``). Timed in CPU time of the screening thread (median of
   ``--reps`` x 3 runs), so another process on the same core does not inflate the long runs.

    .venv/bin/python benchmarks/safety.py

Progress goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_common import logger
from safety.classifier import RiskClassifier
from safety.evaluation import (
    Case,
    false_alarms,
    load_cases,
    missed,
    score,
    tier_figures,
)
from safety.screen import LexiconScreen, RiskScreen
from safety.semantic import SemanticHead, SemanticScreen

SUITES = Path(__file__).resolve().parents[1] / "tests" / "safety" / "suites"
HOLDOUTS = {
    "holdout": Path(__file__).resolve().parents[1] / "tests" / "safety" / "holdout",
    "holdout2": Path(__file__).resolve().parents[1] / "tests" / "safety" / "holdout2",
}
log = logger("safety")


def stream_of(cases: list[Case]) -> list[list[str]]:
    """What the service screens, message by message: each message with the ones before it."""
    windows = []
    for case in cases:
        for end in range(1, len(case.messages) + 1):
            windows.append(list(case.messages[:end]))
    return windows


def timed(screen: RiskScreen, windows: list[list[str]]) -> tuple[list[float], float]:
    latencies = []
    started = time.perf_counter()
    for window in windows:
        before = time.perf_counter()
        screen.assess_conversation(window)
        latencies.append(time.perf_counter() - before)
    return latencies, time.perf_counter() - started


LONG_CHARS = 2000  # context.max_message_chars: the longest text the service screens


def long_message_ms(screen: RiskScreen, cases: list[Case], reps: int) -> dict[str, float]:
    """The worst case the stream does not show: a message as long as the service allows, alone
    and as all six messages of the window (median of ``reps`` runs each)."""
    text = " ".join(m for case in cases for m in case.messages)[:LONG_CHARS]
    figures = {}
    for label, window in (("long_message_ms", [text]), ("six_long_messages_ms", [text] * 6)):
        runs = []
        for _ in range(reps):
            started = time.perf_counter()
            screen.assess_conversation(window)
            runs.append(time.perf_counter() - started)
        figures[label] = round(statistics.median(runs) * 1000, 2)
    return figures


SHAPE_CHARS = (400, 4096)  # a chat message; the longest one Telegram delivers
SHAPES = {
    "prose": "",  # the benign suite's messages, one after another
    "digits": "1",
    "spaced_digits": "1 ",
    "chinese_numerals": "一",
    "negations": "not ",
    "chinese_negations": "我不想",
    "emoji": "💊",
    "risk_words": "I want to kill myself tonight ",
    "questions": "how many ",
    "whitespace": " ",
}


def shape_text(unit: str, chars: int) -> str:
    return (unit * (chars // len(unit) + 1))[:chars]


def shape_costs(screen: RiskScreen, cases: list[Case], reps: int) -> dict[str, Any]:
    """CPU milliseconds for one message of each shape at 400 and 4,096 characters (median
    of ``reps`` runs), and their ratio."""
    prose = " ".join(m for case in cases if case.suite == "benign" for m in case.messages)
    figures: dict[str, Any] = {}
    for name, unit in SHAPES.items():
        row: dict[str, float] = {}
        for chars in SHAPE_CHARS:
            text = shape_text(unit or prose, chars)
            runs = []
            for _ in range(reps):
                started = time.thread_time()
                screen.assess_conversation([text])
                runs.append(time.thread_time() - started)
            row[f"ms_{chars}"] = round(statistics.median(runs) * 1000, 3)
        row["ratio"] = round(
            row[f"ms_{SHAPE_CHARS[1]}"] / max(row[f"ms_{SHAPE_CHARS[0]}"], 1e-6), 2
        )
        figures[name] = row
    figures["max_ratio"] = max(row["ratio"] for row in figures.values())
    return figures


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def quality(screen: RiskScreen, cases: list[Case]) -> dict[str, Any]:
    scored = score(screen, cases)
    must = sum(1 for c in cases if c.suite == "must_catch")
    benign = sum(1 for c in cases if c.suite == "benign")
    alarms = false_alarms(scored)
    return {
        "must_catch_missed": len(missed(scored)),
        "must_catch_cases": must,
        "benign_at_tier_2_or_above": len(alarms),
        "benign_cases": benign,
        "benign_false_alarm_rate": round(len(alarms) / benign, 4),
        "per_tier": [
            {
                "tier": f.tier,
                "support": f.support,
                "recall": round(f.recall, 3),
                "precision": round(f.precision, 3),
            }
            for f in tier_figures(scored)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="passes per fast screen")
    parser.add_argument("--full-reps", type=int, default=1, help="passes of the full screen")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin to")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    cases = load_cases(SUITES)
    windows = stream_of(cases)
    classifier = RiskClassifier.load()
    screens = {
        "full": RiskScreen(LexiconScreen(), classifier, SemanticScreen(SemanticHead.load())),
        "fast": RiskScreen(LexiconScreen(), classifier),
        "lexicon": RiskScreen(LexiconScreen(), None),
    }
    log(f"{len(cases)} cases, {len(windows)} messages per pass")
    for screen in screens.values():  # warm up: compiled patterns, numpy, the encoder
        timed(screen, windows[:50])
    latencies: dict[str, list[float]] = {name: [] for name in screens}
    elapsed: dict[str, float] = dict.fromkeys(screens, 0.0)
    for rep in range(max(args.reps, args.full_reps)):
        for name, screen in screens.items() if rep % 2 == 0 else reversed(screens.items()):
            if rep >= (args.full_reps if name == "full" else args.reps):
                continue
            values, seconds = timed(screen, windows)
            latencies[name] += values
            elapsed[name] += seconds
    result: dict[str, Any] = {"benchmark": "safety", "messages": len(windows) * args.reps}
    for name in screens:
        values = latencies[name]
        result[name] = {
            "p50_ms": round(statistics.median(values) * 1000, 3),
            "p99_ms": round(percentile(values, 0.99) * 1000, 3),
            "max_ms": round(max(values) * 1000, 3),
            "messages_per_s_one_core": round(len(values) / elapsed[name], 1),
            **long_message_ms(screens[name], cases, 3 if name == "full" else args.reps * 3),
        }
        log(f"{name}: {result[name]}")
    for name in ("full", "fast"):
        result[f"throughput_ratio_{name}_vs_lexicon"] = round(
            result[name]["messages_per_s_one_core"] / result["lexicon"]["messages_per_s_one_core"],
            3,
        )
    result["p99_target_ms"] = 5.0
    for name in ("lexicon", "fast"):
        result[name]["shapes"] = shape_costs(screens[name], cases, args.reps * 3)
        log(f"{name} shapes: {result[name]['shapes']}")
    held_out = {name: load_cases(path) for name, path in HOLDOUTS.items() if path.is_dir()}
    for name, screen in screens.items():
        result[name]["quality"] = quality(screen, cases)
        log(f"{name} quality: {result[name]['quality']}")
        for set_name, set_cases in held_out.items():
            result[name][set_name] = quality(screen, set_cases)
            log(f"{name} {set_name}: {result[name][set_name]}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
