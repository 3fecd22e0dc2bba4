"""The risk classifier: features, training, the shipped model and its file format."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest

from safety.classifier import BUCKETS, RiskClassifier, clauses, features, hashed
from safety.classifier_train import TrainConfig, corpus_digest, split, tier_scores, train
from safety.corpus import CorpusExample, load_corpus
from safety.normalize import normalize
from safety.policy import load_classifier
from safety.screen import LexiconScreen, RiskScreen

SUICIDE = frozenset({"suicide"})


def example(text: str, tier: int, source: str = "written:test") -> CorpusExample:
    return CorpusExample(text, tier, SUICIDE if tier else frozenset(), source)


def tiny_corpus() -> list[CorpusExample]:
    risky = [
        "i have saved up all my pills and tonight i will take them",
        "the rope is ready in the garage and i said goodbye",
        "i wrote letters to everyone and gave my cat away, i am ready",
        "bought charcoal, sealing the room tonight",
    ]
    calm = [
        "we had pizza and watched a film tonight",
        "the garage door is stuck again, need a repair",
        "i wrote a letter to my grandma for her birthday",
        "bought flowers for my mum today",
    ]
    rows = []
    for i in range(6):
        rows += [example(f"{text} {i}", 3, f"template:r{i}") for text in risky]
        rows += [example(f"{text} {i}", 0, f"template:c{i}") for text in calm]
    return rows


def test_features_cover_chinese_english_numbers_and_emoji() -> None:
    found = features(normalize("我不想活了 I took 40 pills 💊"))
    assert {"不", "不想", "不想活", "w:pills", "#2", "s:💊"} <= set(found)
    assert "c:<pi" in found  # character trigrams inside words survive typos
    assert "b:took #2" in found


def test_hashing_is_stable_and_in_range() -> None:
    rows = hashed(["w:pills", "w:pills", "不想"])
    assert rows.tolist() == hashed(["w:pills", "不想"]).tolist()  # duplicates count once
    assert all(0 <= r < BUCKETS for r in rows)


def test_a_long_message_is_also_read_clause_by_clause() -> None:
    parts = list(clauses("Work was fine. Dinner was nice! I have the pills ready tonight"))
    assert parts[0].startswith("Work") and "I have the pills ready tonight" in parts


# The clause split as it was first written; its parts are the reference for the linear one.
_PLAIN_CLAUSE = re.compile(r"[。！？!?;；\n]+|(?<=[a-z])[.](?=\s)|\s+(?:but|and then|so)\s+", re.I)


def test_clauses_are_those_of_the_plain_split() -> None:
    # The plain split read a run of whitespace again from each of its characters (a message
    # of 4,096 spaces took a third of a second); the one shipped reads it once.
    pieces = [" ", "  ", "\n", "\t", "\r\n", "\u3000", "\x85", "a", "x", "But", "but", "so"]
    pieces += ["and then", "and", "then", ".", "a.", "。", "!", "ok", "\n\n", " \n "]
    rng = random.Random(7)
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        parts = [p.strip() for p in _PLAIN_CLAUSE.split(text) if p and p.strip()]
        expected = [text] + ([p for p in parts if len(p) >= 4] if len(parts) > 1 else [])
        assert list(clauses(text)) == expected, repr(text)


def test_training_learns_a_tiny_corpus_and_is_deterministic(tmp_path: Path) -> None:
    corpus = tiny_corpus()
    config = TrainConfig(epochs=15, holdout=0.3, seed=1)
    model, report = train(corpus, config)
    again, _ = train(corpus, config)
    assert np.array_equal(model.weights, again.weights)
    assert report.train_examples + report.heldout_examples == len(corpus)
    assert model.assess("i saved up all my pills and will take them tonight").tier >= 2
    assert model.assess("we watched a film and had pizza").tier == 0
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = RiskClassifier.load(path)
    assert np.allclose(loaded.weights, model.weights, atol=1e-2)  # stored as float16
    assert loaded.corpus_digest == corpus_digest(corpus)


def test_the_held_out_part_never_shares_a_template_with_training() -> None:
    corpus = tiny_corpus()
    train_part, held = split(corpus, holdout=0.3, seed=0)
    assert held and train_part
    assert not {e.source for e in train_part} & {e.source for e in held}


def test_tier_scores() -> None:
    scores = tier_scores(predicted=[3, 0, 3, 1], expected=[3, 3, 0, 1])
    three = scores[2]
    assert (three.support, three.recall, three.precision) == (2, 0.5, 0.5)


def test_the_shipped_model_was_trained_on_the_shipped_corpus() -> None:
    """Edit the corpus, then run `soulchat safety train-classifier` and commit the model."""
    assert RiskClassifier.load().corpus_digest == corpus_digest(load_corpus())


def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a risk classifier file"):
        RiskClassifier.load(bad)


def test_small_talk_is_never_more_than_elevated() -> None:
    screen = RiskScreen(LexiconScreen(), load_classifier())
    for text in ("hey", "hello", "thanks!", "good morning", "你好", "在吗", "哈哈哈", "ok"):
        assert screen.assess(text).tier <= 1, text


def test_the_classifier_catches_what_no_rule_spells_out() -> None:
    with_classifier = RiskScreen(LexiconScreen(), load_classifier())
    lexicon_only = RiskScreen(LexiconScreen(), None)
    found = 0
    texts = [
        "I've put my affairs in order and I'm at peace with my decision",
        "我把所有东西都安排好了，不想再拖累任何人，就这样吧",
    ]
    for text in texts:
        found += with_classifier.assess(text).tier > lexicon_only.assess(text).tier
    assert found >= 1
