"""Training the risk classifier (``safety.classifier``) on the project's own corpus.

Read top to bottom: split the corpus, turn texts into hashed feature rows, fit the heads with
Adam on a binary cross-entropy, pick each tier head's threshold on the held-out part, report.

The held-out part is chosen by *group*: a hand-written line is its own group, and every
expansion of one template is one group, so near-copies of a training sentence never grade
the model. Thresholds are set where at most ``max_false_positive_rate`` of held-out messages
below the tier would be lifted to it: a support bot that calls everyone "at risk" teaches its
users to ignore it.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from safety.classifier import (
    BUCKETS,
    CATEGORY_ORDER,
    OUTPUTS,
    POOL_FLOOR,
    TIER_HEADS,
    RiskClassifier,
    features,
    hashed,
)
from safety.corpus import CorpusExample
from safety.normalize import normalize


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = field(default=20, metadata={"help": "Passes over the training part."})
    batch_size: int = field(default=32, metadata={"help": "Examples per Adam step."})
    learning_rate: float = field(default=0.05, metadata={"help": "Adam step size."})
    weight_decay: float = field(
        default=0.05, metadata={"help": "Decoupled weight decay (AdamW), per step."}
    )
    holdout: float = field(default=0.15, metadata={"help": "Share of groups held out."})
    max_false_positive_rate: tuple[float, ...] = field(
        default=(0.05, 0.02, 0.02, 0.02),
        metadata={"help": "Per tier head: share of held-out lower-tier messages it may lift."},
    )
    min_threshold: float = field(default=0.3, metadata={"help": "Floor for every threshold."})
    seed: int = field(default=0, metadata={"help": "Shuffling and initialisation."})


@dataclass(frozen=True)
class TierScore:
    tier: int
    support: int
    recall: float
    precision: float


@dataclass(frozen=True)
class TrainReport:
    train_examples: int
    heldout_examples: int
    thresholds: tuple[float, ...]
    heldout_scores: tuple[TierScore, ...]
    provenance: dict[str, int]


def corpus_digest(examples: Sequence[CorpusExample]) -> str:
    """Identifies the corpus a model was trained on, so a stale model is noticed."""
    digest = hashlib.sha256()
    for example in examples:
        record = [example.text, example.tier, sorted(example.categories), example.source]
        digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def _group(example: CorpusExample) -> str:
    return example.source if example.source.startswith("template:") else example.text


def split(
    examples: Sequence[CorpusExample], holdout: float, seed: int
) -> tuple[list[CorpusExample], list[CorpusExample]]:
    train: list[CorpusExample] = []
    held: list[CorpusExample] = []
    for example in examples:
        bucket = zlib.crc32(f"{seed}:{_group(example)}".encode()) % 10_000
        (held if bucket < holdout * 10_000 else train).append(example)
    return train, held


def targets(example: CorpusExample) -> NDArray[np.float32]:
    row = np.zeros(OUTPUTS, dtype=np.float32)
    row[: example.tier] = 1.0  # ordinal: tier 3 is "≥1", "≥2" and "≥3"
    for category in example.categories:
        row[TIER_HEADS + CATEGORY_ORDER.index(category)] = 1.0
    return row


def _rows(texts: Sequence[str]) -> list[NDArray[np.int64]]:
    return [hashed(features(normalize(text))) for text in texts]


def _forward(
    weights: NDArray[np.float32], bias: NDArray[np.float32], batch: list[NDArray[np.int64]]
) -> tuple[NDArray[np.float32], NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]:
    """Mean-of-rows logits for a batch, plus what the backward pass needs."""
    index = np.concatenate(batch) if batch else np.zeros(0, dtype=np.int64)
    segment = np.repeat(np.arange(len(batch)), [len(rows) for rows in batch])
    scale = np.concatenate(
        [np.full(len(r), 1.0 / max(len(r), POOL_FLOOR), np.float32) for r in batch]
    )
    logits = np.tile(bias, (len(batch), 1))
    np.add.at(logits, segment, weights[index] * scale[:, None])
    return logits, index, segment, scale


def fit(
    rows: list[NDArray[np.int64]], y: NDArray[np.float32], config: TrainConfig
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Adam with lazy (row-sparse) updates: a step touches only the rows its batch used, so a
    pass over a few thousand messages takes about a second instead of a minute."""
    rng = np.random.default_rng(config.seed)
    weights = np.zeros((BUCKETS, OUTPUTS), dtype=np.float32)
    bias = np.zeros(OUTPUTS, dtype=np.float32)
    m_w, v_w = np.zeros_like(weights), np.zeros_like(weights)
    m_b, v_b = np.zeros_like(bias), np.zeros_like(bias)
    beta1, beta2, eps, step = 0.9, 0.999, 1e-8, 0
    for _ in range(config.epochs):
        order = rng.permutation(len(rows))
        for start in range(0, len(order), config.batch_size):
            chosen = order[start : start + config.batch_size]
            logits, index, segment, scale = _forward(weights, bias, [rows[i] for i in chosen])
            grad_logits = (1.0 / (1.0 + np.exp(-logits)) - y[chosen]) / len(chosen)
            used, position = np.unique(index, return_inverse=True)
            grad_w = np.zeros((used.size, OUTPUTS), dtype=np.float32)
            np.add.at(grad_w, position, grad_logits[segment] * scale[:, None])
            step += 1
            correction = np.sqrt(1 - beta2**step) / (1 - beta1**step)
            m_w[used] = beta1 * m_w[used] + (1 - beta1) * grad_w
            v_w[used] = beta2 * v_w[used] + (1 - beta2) * grad_w * grad_w
            # Decoupled weight decay keeps rare n-grams from memorising single examples.
            weights[used] *= 1 - config.learning_rate * config.weight_decay
            weights[used] -= (
                config.learning_rate * correction * m_w[used] / (np.sqrt(v_w[used]) + eps)
            )
            grad_b = grad_logits.sum(axis=0)
            m_b[:] = beta1 * m_b + (1 - beta1) * grad_b
            v_b[:] = beta2 * v_b + (1 - beta2) * grad_b * grad_b
            bias -= config.learning_rate * correction * m_b / (np.sqrt(v_b) + eps)
    return weights, bias


def choose_thresholds(
    probs: NDArray[np.float32], tiers: NDArray[np.int64], config: TrainConfig
) -> NDArray[np.float32]:
    thresholds = np.full(TIER_HEADS, 0.5, dtype=np.float32)
    for k in range(1, TIER_HEADS + 1):
        negatives = np.sort(probs[tiers < k, k - 1])
        if negatives.size == 0:
            continue
        allowed = int(config.max_false_positive_rate[k - 1] * negatives.size)
        # The score of the highest negative that must stay below the line.
        cut = negatives[negatives.size - allowed - 1]
        thresholds[k - 1] = max(config.min_threshold, float(np.nextafter(cut, np.float32(1))))
    return thresholds


def tier_scores(predicted: Sequence[int], expected: Sequence[int]) -> tuple[TierScore, ...]:
    scores = []
    for tier in range(1, 5):
        support = sum(1 for e in expected if e == tier)
        caught = sum(1 for p, e in zip(predicted, expected, strict=True) if e == tier and p >= tier)
        flagged = [e for p, e in zip(predicted, expected, strict=True) if p == tier]
        precision = sum(1 for e in flagged if e >= tier) / len(flagged) if flagged else 1.0
        recall = caught / support if support else 1.0
        scores.append(TierScore(tier, support, recall, precision))
    return tuple(scores)


def train(
    examples: Sequence[CorpusExample], config: TrainConfig | None = None
) -> tuple[RiskClassifier, TrainReport]:
    config = config or TrainConfig()
    train_part, held = split(examples, config.holdout, config.seed)
    train_rows = _rows([e.text for e in train_part])
    y = np.stack([targets(e) for e in train_part])
    weights, bias = fit(train_rows, y, config)
    held_rows = _rows([e.text for e in held])
    held_tiers = np.array([e.tier for e in held], dtype=np.int64)
    logits, *_ = _forward(weights, bias, held_rows)
    probs = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
    thresholds = choose_thresholds(probs, held_tiers, config)
    model = RiskClassifier(weights, bias, thresholds, corpus_digest=corpus_digest(examples))
    predicted = [model.assess(e.text).tier for e in held]
    provenance: dict[str, int] = {}
    for example in examples:
        kind = example.source.split(":", 1)[0]
        provenance[kind] = provenance.get(kind, 0) + 1
    report = TrainReport(
        train_examples=len(train_part),
        heldout_examples=len(held),
        thresholds=tuple(round(float(t), 4) for t in thresholds),
        heldout_scores=tier_scores(predicted, [e.tier for e in held]),
        provenance=provenance,
    )
    return model, report
