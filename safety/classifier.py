"""The risk classifier: a hashed n-gram linear model the project trains on its own corpus.

It sits beside the lexicon. The lexicon is precise about what it knows (means, doses, timing,
idioms); the classifier generalises to phrasing no rule spells out ("I gave my dog to my
sister and wrote letters to everyone"). Both read the same normalised text.

The model is fastText-shaped and small on purpose: features are hashed into ``BUCKETS`` rows,
a message's logits are the mean of its feature rows plus a bias, so scoring costs one gather
and one sum (tens of microseconds) and needs only numpy. Outputs are

* four ordinal heads, P(tier ≥ k) for k = 1..4 — an ordinal target lets "tier 3" evidence
  count towards "tier ≥ 2" rather than compete with it;
* one sigmoid head per category.

A message is scored whole and clause by clause, and the clause with the highest risk wins, so
one alarming sentence is not diluted by a long, ordinary paragraph around it.

Training lives in ``safety.classifier_train``; the trained weights ship as
``safety/data/risk_classifier.npz`` with the thresholds chosen on held-out corpus data.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from io import BytesIO
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from safety.normalize import normalize
from safety.rules import CATEGORIES

BUCKETS = 1 << 17
CATEGORY_ORDER: tuple[str, ...] = tuple(sorted(CATEGORIES))
TIER_HEADS = 4  # P(tier >= 1) .. P(tier >= 4)
OUTPUTS = TIER_HEADS + len(CATEGORY_ORDER)
SHIPPED = "risk_classifier.npz"
# Logits are the feature rows' sum over max(count, POOL_FLOOR): a mean for real messages, but
# a two-word message ("hey", "ok thanks") cannot borrow the full weight of its one n-gram.
POOL_FLOOR = 8

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[a-z]+|\d+(?:[.,]\d+)?|[^\s{_CJK}a-z\d]")
# Clause boundaries survive normalisation as spaces only for Latin text, so split the raw text.
# Sentence punctuation, a full stop after a word, or whitespace then "but" / "and then" / "so".
# The whitespace before the word is read once per run of it: from the run's start (possessive,
# so a run with no "but" after it is not read again from each of its characters, which cost
# the square of the run), or from just after a line break inside it (the first alternative
# ends there). The parts are those of the plain `\s+(?:but|and then|so)\s+`, which
# test_classifier.py checks on random text.
_CLAUSE = re.compile(
    r"[。！？!?;；\n]+|(?<=[a-z])[.](?=\s)"
    r"|(?<!\s)\s++(?:but|and then|so)\s+|(?<=\n)[^\S\n]++\n*+(?:but|and then|so)\s+",
    re.I,
)
_MIN_CLAUSE_CHARS = 4


def model_bytes(path: Path | None, shipped: str) -> tuple[bytes, str]:
    """A model file's bytes and where they came from: ``path``, or the file ``shipped`` with
    the package (read through importlib.resources, so an installed wheel works too)."""
    if path is None:
        return resources.files("safety").joinpath("data", shipped).read_bytes(), (
            f"safety/data/{shipped}"
        )
    return Path(path).read_bytes(), str(path)


def _number_shape(token: str) -> str:
    """Counts and doses matter by size, not value: "40" and "60" are the same signal."""
    whole = token.split(".")[0].split(",")[0]
    return f"#{min(len(whole), 4)}"


def features(normalised: str) -> list[str]:
    """The n-gram features of normalised text: Chinese character 1-3-grams, English words
    and word pairs, character trigrams inside words (robust to typos), number shapes,
    emoji and symbols."""
    tokens: list[str] = []
    out: list[str] = []
    for match in _TOKEN.finditer(normalised):
        token = match.group()
        if "\u3400" <= token[0] <= "\ufaff":
            out.extend(token)
            out.extend(f"{token[i : i + 2]}" for i in range(len(token) - 1))
            out.extend(f"{token[i : i + 3]}" for i in range(len(token) - 2))
            tokens.append("<zh>")
        elif token[0].isdigit():
            shape = _number_shape(token)
            out.append(shape)
            tokens.append(shape)
        elif token[0].isalpha():
            out.append(f"w:{token}")
            padded = f"<{token}>"
            if len(token) > 3:
                out.extend(f"c:{padded[i : i + 3]}" for i in range(len(padded) - 2))
            tokens.append(token)
        else:
            out.append(f"s:{token}")
            tokens.append(token)
    out.extend(f"b:{a} {b}" for a, b in itertools.pairwise(tokens))
    return out


def hashed(feature_list: list[str]) -> NDArray[np.int64]:
    """Feature names to row indices; crc32 is stable across processes, unlike ``hash``."""
    unique = dict.fromkeys(feature_list)
    return np.fromiter(
        (zlib.crc32(f.encode("utf-8", "surrogatepass")) % BUCKETS for f in unique),
        dtype=np.int64,
        count=len(unique),
    )


def clauses(text: str) -> Iterator[str]:
    """The whole text, then each clause long enough to mean something on its own."""
    yield text
    parts = [part.strip() for part in _CLAUSE.split(text) if part and part.strip()]
    if len(parts) > 1:
        yield from (part for part in parts if len(part) >= _MIN_CLAUSE_CHARS)


@dataclass(frozen=True)
class ClassifierVerdict:
    tier: int
    categories: frozenset[str]
    score: float  # the probability behind the tier given (P(tier ≥ t)); 0.0 at tier 0


def verdict(
    probs: NDArray[np.float32], tier_thresholds: NDArray[np.float32], category_threshold: float
) -> ClassifierVerdict:
    """A tier and categories from one text's head probabilities (shared with the semantic
    layer, whose heads have the same layout)."""
    # The heads are separate sigmoids; "tier ≥ 4" cannot be likelier than "tier ≥ 3".
    tier_probs = np.minimum.accumulate(probs[:TIER_HEADS])
    tier = 0
    for k in range(TIER_HEADS, 0, -1):
        if tier_probs[k - 1] >= tier_thresholds[k - 1]:
            tier = k
            break
    if tier == 0:
        return ClassifierVerdict(0, frozenset(), 0.0)
    category_probs = probs[TIER_HEADS:]
    chosen = {CATEGORY_ORDER[i] for i, p in enumerate(category_probs) if p >= category_threshold}
    if not chosen:  # a tier always travels with at least its likeliest category
        chosen = {CATEGORY_ORDER[int(np.argmax(category_probs))]}
    return ClassifierVerdict(tier, frozenset(chosen), float(tier_probs[tier - 1]))


def _sigmoid(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


class RiskClassifier:
    def __init__(
        self,
        weights: NDArray[np.float32],
        bias: NDArray[np.float32],
        tier_thresholds: NDArray[np.float32],
        category_threshold: float = 0.5,
        corpus_digest: str = "",
    ) -> None:
        if weights.shape != (BUCKETS, OUTPUTS) or bias.shape != (OUTPUTS,):
            raise ValueError(
                f"classifier weights have shape {weights.shape}, bias {bias.shape}; "
                f"expected ({BUCKETS}, {OUTPUTS}) and ({OUTPUTS},)"
            )
        if tier_thresholds.shape != (TIER_HEADS,):
            raise ValueError("classifier needs one threshold per tier head")
        self.weights = weights
        self.bias = bias
        self.tier_thresholds = tier_thresholds
        self.category_threshold = category_threshold
        self.corpus_digest = corpus_digest

    # -- scoring -----------------------------------------------------------------------------
    def probabilities(self, normalised: str) -> NDArray[np.float32]:
        """All heads' probabilities for one normalised text."""
        rows = hashed(features(normalised))
        if rows.size == 0:
            return _sigmoid(self.bias)
        pooled = self.weights[rows].sum(axis=0) / max(rows.size, POOL_FLOOR)
        return _sigmoid(self.bias + pooled)

    def assess(self, text: str) -> ClassifierVerdict:
        best = ClassifierVerdict(0, frozenset(), 0.0)
        for part in clauses(text):
            found = verdict(
                self.probabilities(normalize(part)), self.tier_thresholds, self.category_threshold
            )
            if (found.tier, found.score) > (best.tier, best.score):
                best = found
        return best

    # -- files -------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Only rows the training touched are written (float16), so the file stays small."""
        used = np.flatnonzero(np.any(self.weights != 0, axis=1)).astype(np.int32)
        np.savez_compressed(
            path,
            rows=used,
            weights=self.weights[used].astype(np.float16),
            bias=self.bias.astype(np.float32),
            tier_thresholds=self.tier_thresholds.astype(np.float32),
            category_threshold=np.float32(self.category_threshold),
            categories=np.array(CATEGORY_ORDER),
            buckets=np.int64(BUCKETS),
            corpus_digest=np.array(self.corpus_digest),
        )

    @classmethod
    def load(cls, path: Path | None = None) -> RiskClassifier:
        """Read a saved model; ``None`` reads the one shipped with the package."""
        data, origin = model_bytes(path, SHIPPED)
        try:
            archive = np.load(BytesIO(data), allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{origin}: not a risk classifier file: {exc}") from exc
        if int(archive["buckets"]) != BUCKETS or tuple(archive["categories"]) != CATEGORY_ORDER:
            raise ValueError(f"{origin}: trained for other features or categories; retrain it")
        weights = np.zeros((BUCKETS, OUTPUTS), dtype=np.float32)
        weights[archive["rows"]] = archive["weights"].astype(np.float32)
        return cls(
            weights,
            archive["bias"].astype(np.float32),
            archive["tier_thresholds"].astype(np.float32),
            float(archive["category_threshold"]),
            str(archive["corpus_digest"]),
        )
