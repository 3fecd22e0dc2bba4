"""The semantic layer: its head, how the screen counts it, its training, and the real encoder."""

from __future__ import annotations

import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from safety.classifier import CATEGORY_ORDER, OUTPUTS, TIER_HEADS
from safety.corpus import CorpusExample
from safety.screen import LexiconScreen, RiskScreen
from safety.semantic import (
    DIM,
    PIECE_CHARS,
    E5Embedder,
    SemanticHead,
    SemanticScreen,
    pieces,
)
from safety.semantic_train import SemanticTrainConfig, embed_corpus, train


class KeywordEmbedder:
    """Deterministic stand-in for the encoder: words hashed into the embedding's dimensions.
    Records what it was asked to embed."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        self.calls.append(list(texts))
        rows = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            for word in text.lower().split():
                row[zlib.crc32(word.encode()) % DIM] += 1.0
            row /= max(float(np.linalg.norm(row)), 1e-6)
        return rows


def fixed_head(tier: int, category: str = "suicide") -> SemanticHead:
    """A head that gives every text the same tier (via huge biases)."""
    b2 = np.full(OUTPUTS, -20.0, dtype=np.float32)
    b2[:tier] = 20.0
    b2[TIER_HEADS + CATEGORY_ORDER.index(category)] = 20.0
    return SemanticHead(
        np.zeros((DIM, 4), np.float32),
        np.zeros(4, np.float32),
        np.zeros((4, OUTPUTS), np.float32),
        b2,
        np.array([0.5, 0.5, 0.5, 0.5], np.float32),
    )


def test_a_head_survives_a_round_trip_through_its_file(tmp_path: Path) -> None:
    head = fixed_head(3)
    head.save(tmp_path / "head.npz")
    again = SemanticHead.load(tmp_path / "head.npz")
    vector = np.ones((1, DIM), np.float32) / np.sqrt(DIM)
    assert np.allclose(again.probabilities(vector), head.probabilities(vector), atol=1e-3)
    assert list(again.tier_thresholds) == [0.5] * 4


def test_a_file_that_is_not_a_head_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.npz"
    path.write_bytes(b"not numpy")
    with pytest.raises(ValueError, match=r"broken\.npz: not a semantic risk head"):
        SemanticHead.load(path)


def test_a_head_of_the_wrong_shape_is_refused() -> None:
    head = fixed_head(1)
    with pytest.raises(ValueError, match="expected"):
        replace(head, w2=np.zeros((4, OUTPUTS - 1), np.float32))


def test_long_messages_are_read_by_their_head_and_tail() -> None:
    assert pieces("   ") == []
    assert pieces(" short ") == ["short"]
    long = "a" * PIECE_CHARS + "b" * PIECE_CHARS + "c" * PIECE_CHARS
    head, tail = pieces(long)
    assert head == "a" * PIECE_CHARS and tail.endswith("c" * PIECE_CHARS)


@pytest.mark.parametrize(("tier", "expected"), [(0, 0), (1, 1), (2, 1), (3, 3), (4, 4)])
def test_the_layer_counts_only_from_tier_3(tier: int, expected: int) -> None:
    verdict = SemanticScreen(fixed_head(tier), KeywordEmbedder()).assess("any words at all")
    assert verdict.tier == expected


def test_the_screen_takes_the_semantic_tier_when_it_is_higher() -> None:
    embedder = KeywordEmbedder()
    screen = RiskScreen(LexiconScreen(), None, SemanticScreen(fixed_head(4), embedder))
    found = screen.assess("I sorted who gets the cat")
    assert found.tier == 4 and "sem.t4" in found.signals and "suicide" in found.categories


def test_the_lexicon_keeps_its_reasons_when_it_already_knows_as_much() -> None:
    screen = RiskScreen(LexiconScreen(), None, SemanticScreen(fixed_head(3), KeywordEmbedder()))
    found = screen.assess("I took 40 pills an hour ago")
    assert found.tier == 4 and not any(s.startswith("sem.") for s in found.signals)


def test_a_conversation_costs_one_encoding_of_its_latest_message() -> None:
    embedder = KeywordEmbedder()
    screen = RiskScreen(LexiconScreen(), None, SemanticScreen(fixed_head(0), embedder))
    screen.assess_conversation(["first", "second", "third and latest"])
    assert embedder.calls == [["third and latest"]]


def _toy_corpus() -> list[CorpusExample]:
    risky = ["tonight i end it", "pills lined up tonight end", "goodbye forever tonight end"]
    calm = ["lunch was nice today", "the match was fun", "my cat sleeps a lot"]
    examples = []
    for n in range(40):
        for text in risky:
            examples.append(CorpusExample(f"{text} {n}", 4, frozenset({"suicide"}), "test"))
        for text in calm:
            examples.append(CorpusExample(f"{text} {n}", 0, frozenset(), "test"))
    return examples


def test_training_separates_what_the_corpus_separates(tmp_path: Path) -> None:
    examples = _toy_corpus()
    config = SemanticTrainConfig(epochs=30, hidden=16, dropout=0.0, holdout=0.2)
    head, report = train(examples, KeywordEmbedder(), config, cache=tmp_path / "emb.npz")
    screen = SemanticScreen(head, KeywordEmbedder())
    assert screen.assess("pills lined up tonight end 99").tier == 4
    assert screen.assess("lunch was nice today 99").tier == 0
    assert report.heldout_examples > 0
    assert report.train_examples + report.heldout_examples == len(examples)
    assert report.heldout_scores[3].recall == 1.0


def test_corpus_embeddings_are_cached_for_the_same_texts(tmp_path: Path) -> None:
    cache, embedder = tmp_path / "emb.npz", KeywordEmbedder()
    first = embed_corpus(["a b", "c d"], embedder, cache)
    again = embed_corpus(["a b", "c d"], embedder, cache)
    assert len(embedder.calls) == 1 and np.allclose(first, again, atol=1e-3)
    embed_corpus(["other"], embedder, cache)
    assert len(embedder.calls) == 2  # other texts: the cache is not used


# -- the real encoder and the shipped head --------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> SemanticScreen:
    return SemanticScreen(SemanticHead.load())


def test_the_real_encoder_gives_unit_vectors_even_for_broken_text() -> None:
    rows = E5Embedder().embed(["hello", "nul\x00inside", "lone \ud800 surrogate", "你好"])
    assert rows.shape == (4, DIM)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-3)


@pytest.mark.parametrize(
    "text",
    [
        "I already gave my guitar to my brother and wrote everyone letters. Tonight is the night.",
        "swallowed the whole packet of my mum's sleeping tablets about twenty minutes ago",
        "我把猫托付给邻居了，信也写好了，今晚过后就不会再给任何人添麻烦",
        "藥已經全部吞落肚，而家好暈",
    ],
)
def test_the_shipped_layer_finds_high_risk_in_plain_words(
    shipped: SemanticScreen, text: str
) -> None:
    assert shipped.assess(text).tier >= 3


@pytest.mark.parametrize(
    "text",
    [
        "what time does the pharmacy close on sundays?",
        "finally finished the report, going to bed",
        "周末去爬山，有点恐高但还是想试试",
        "笑死我了，这个视频太好笑",
    ],
)
def test_the_shipped_layer_leaves_everyday_messages_alone(
    shipped: SemanticScreen, text: str
) -> None:
    assert shipped.assess(text).tier <= 1


def test_the_shipped_head_was_trained_on_the_corpus_as_it_is() -> None:
    """Edit the corpus, then run `soulchat safety train-semantic`."""
    from safety.classifier_train import corpus_digest
    from safety.corpus import load_corpus

    assert SemanticHead.load().corpus_digest == corpus_digest(load_corpus())


def test_the_encoder_leaves_the_processs_openmp_settings_as_they_were(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its one-thread setting is for its own engine: torch, loaded later, must not inherit it."""
    import os

    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    E5Embedder().embed(["hello"])
    assert os.environ["OMP_NUM_THREADS"] == "7"
    assert "OMP_WAIT_POLICY" not in os.environ
