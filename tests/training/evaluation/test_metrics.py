"""Metrics on examples worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import pytest

from training.evaluation.behaviour import asks_question, leads_with_advice, units
from training.evaluation.metrics import (
    METRIC_NAMES,
    brevity_penalty,
    corpus_bleu,
    distinct,
    lcs_length,
    reply_length,
    rouge_l,
    rouge_n,
    score,
    sentence_bleu,
    tokenize,
    written_in,
)

# hyp: the cat sat on the mat   ref: the cat is on the mat   (6 tokens each)
HYP = ["the", "cat", "sat", "on", "the", "mat"]
REF = ["the", "cat", "is", "on", "the", "mat"]


def test_tokenize_english_lowercases_words_and_splits_punctuation() -> None:
    assert tokenize("Don't worry, I'm HERE!", "en") == ["don't", "worry", ",", "i'm", "here", "!"]
    # Any other language falls back to the English rule.
    assert tokenize("Ça va?", "fr") == ["ça", "va", "?"]


def test_tokenize_chinese_by_characters_ignoring_whitespace() -> None:
    assert tokenize("我很 难过。", "zh") == ["我", "很", "难", "过", "。"]
    assert tokenize("我 OK", "zh-CN") == ["我", "O", "K"]


def test_reply_length_counts_chinese_characters_and_english_words() -> None:
    assert reply_length("I'm so tired, really.", "en") == 4  # I'm so tired really
    assert reply_length("我 很累。", "zh") == 4  # 我 很 累 。


def test_corpus_bleu_on_one_pair() -> None:
    # 1-grams: the x2, cat, on, mat match (sat does not): p1 = 5/6
    # 2-grams: the-cat, on-the, the-mat of 5: p2 = 3/5
    # 3-grams: on-the-mat of 4: p3 = 1/4;  4-grams: none of 3 match: p4 = 0
    # equal lengths: brevity penalty 1
    assert corpus_bleu([HYP], [REF], 1) == pytest.approx(5 / 6)
    assert corpus_bleu([HYP], [REF], 2) == pytest.approx(math.sqrt(5 / 6 * 3 / 5))  # 0.7071
    assert corpus_bleu([HYP], [REF], 3) == pytest.approx(0.5)  # (5/6 * 3/5 * 1/4) ** (1/3)
    assert corpus_bleu([HYP], [REF], 4) == 0.0  # no smoothing at corpus level


def test_corpus_bleu_pools_counts_before_dividing() -> None:
    # Second pair: hello there / hello there friend: 2 of 2 unigrams match.
    # p1 = (5 + 2) / (6 + 2) = 7/8; c = 8, r = 9: BP = exp(1 - 9/8)
    hyps = [HYP, ["hello", "there"]]
    refs = [REF, ["hello", "there", "friend"]]
    assert corpus_bleu(hyps, refs, 1) == pytest.approx(7 / 8 * math.exp(-1 / 8))  # 0.7722


def test_brevity_penalty() -> None:
    # the cat / the cat is on the mat: c = 2, r = 6: exp(1 - 6/2) = e^-2, precisions all 1
    assert corpus_bleu([["the", "cat"]], [REF], 2) == pytest.approx(math.exp(-2))
    assert brevity_penalty(7, 6) == 1.0
    assert brevity_penalty(0, 6) == 0.0


def test_sentence_bleu_smooths_a_missing_order_with_epsilon() -> None:
    # As above, but p4 = (0 + 0.1) / 3 instead of 0:
    # (5/6 * 3/5 * 1/4 * 0.1/3) ** (1/4) = 0.0041667 ** 0.25 = 0.25407
    assert sentence_bleu(HYP, REF, 4) == pytest.approx(0.25407, abs=1e-5)
    assert sentence_bleu(HYP, REF, 1) == pytest.approx(5 / 6)
    # No unigram in common: 0, whatever the smoothing (as NLTK).
    assert sentence_bleu(["hello"], REF, 4) == 0.0


def test_rouge_on_chinese_characters() -> None:
    hyp, ref = tokenize("我很难过。", "zh"), tokenize("我也很难过", "zh")
    # 1-grams: 我 很 难 过 match, P = 4/5, R = 4/5: F1 0.8
    assert rouge_n(hyp, ref, 1) == pytest.approx(0.8)
    # 2-grams: hyp 我很 很难 难过 过。, ref 我也 也很 很难 难过: 2 match, P = R = 2/4
    assert rouge_n(hyp, ref, 2) == pytest.approx(0.5)
    # LCS 我很难过 = 4: P = 4/5, R = 4/5
    assert lcs_length(hyp, ref) == 4
    assert rouge_l(hyp, ref) == pytest.approx(0.8)


def test_rouge_l_in_english() -> None:
    hyp = tokenize("I feel very sad today", "en")
    ref = tokenize("today I feel sad", "en")
    # LCS: i feel sad = 3; P = 3/5, R = 3/4; F1 = 2 * .6 * .75 / 1.35 = 2/3
    assert rouge_l(hyp, ref) == pytest.approx(2 / 3)
    assert rouge_n([], ref, 1) == 0.0


def test_distinct_pools_all_replies() -> None:
    first = tokenize("I hear you. I hear you.", "en")  # i hear you . i hear you .
    assert distinct([first], 1) == pytest.approx(4 / 8)
    # bigrams: i-hear hear-you you-. .-i i-hear hear-you you-. : 4 unique of 7
    assert distinct([first], 2) == pytest.approx(4 / 7)
    second = tokenize("Tell me more", "en")
    # unigrams: 7 unique of 11; bigrams: 4 + 2 unique of 7 + 2
    assert distinct([first, second], 1) == pytest.approx(7 / 11)
    assert distinct([first, second], 2) == pytest.approx(6 / 9)
    assert distinct([[]], 2) == 0.0


def test_question_rule() -> None:
    assert asks_question("How are you feeling?")
    assert asks_question("你愿意说说吗")  # a sentence ending in 吗, no question mark
    assert asks_question("你还好吗。我在这里。")
    assert asks_question("那你自己是怎么想的呢")
    assert not asks_question("我在这里陪着你。")
    assert not asks_question("That sounds really hard.")
    assert not asks_question("吗啡不是答案。")  # 吗 not at the end of a sentence


@pytest.mark.parametrize(
    "reply",
    [
        "Here are some tips:\n1. Take a walk.\n2. Call a friend.",
        "I'm sorry.\n- Sleep more\n- Eat well",
        "你可以：1.深呼吸；2.运动；3.找朋友聊聊。",
        "首先，好好休息。其次，多和家人沟通。",
        "① 规律作息 ② 适当运动",
        "一、调整心态\n二、寻求帮助",
        "You should talk to your manager about it.",
        "Try to get some sleep tonight.",
        "我建议你先和父母谈一谈。",
        "听起来很难。不妨换个角度想想。",
    ],
)
def test_replies_that_lead_with_advice(reply: str) -> None:
    assert leads_with_advice(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "That sounds really lonely. What has work been like lately?",
        "听起来你最近压力很大。愿意和我多说说发生了什么吗？",
        "1. That was hard.",  # a single item is not a list
        # The list starts only in the fourth sentence: the reply listened first.
        "I hear you. That must hurt. You've carried a lot.\n1. Rest.\n2. Talk to someone.",
        "I can tell you tried to fix it on your own.",  # "tried to" is not advice
    ],
)
def test_replies_that_do_not_lead_with_advice(reply: str) -> None:
    assert not leads_with_advice(reply)


def test_units_keep_numbered_markers_whole() -> None:
    assert units("Tips:\n1. Walk. 2. Rest") == ["Tips:", "1. Walk", "2. Rest"]
    assert units("我很难过。你呢？") == ["我很难过。", "你呢？"]


def test_score_reports_every_metric_times_100() -> None:
    replies = ["the cat sat on the mat", "你愿意说说吗？"]
    references = ["the cat is on the mat", "你愿意说说吗"]
    scores = score(replies, references, ["en", "zh"])
    assert list(scores) == list(METRIC_NAMES)
    # Pooled p1: (5 + 6) / (6 + 7); BP = 1 (13 > 12 tokens)
    assert scores["bleu_1"] == pytest.approx(100 * 11 / 13)
    # ROUGE-1: en 5/6 (P = R = 5/6); zh P = 6/7, R = 6/6: F1 = 12/13; averaged
    assert scores["rouge_1"] == pytest.approx(100 * (5 / 6 + 12 / 13) / 2)
    assert scores["question_share"] == pytest.approx(50.0)
    assert scores["advice_share"] == 0.0
    assert scores["same_language_share"] == 100.0
    # 6 words; 7 characters: mean 6.5, not scaled
    assert scores["mean_length"] == pytest.approx(6.5)


def test_a_reply_in_the_other_language_is_counted() -> None:
    """The default serves both languages with one model: a Chinese context answered in
    English (or the reverse) is a miss, a quoted English word or name is not."""
    replies = ["I hear you.", "我听到了，你提到的 stress 是什么感觉？", "听起来很难", "我在"]
    scores = score(replies, ["你好"] * 4, ["zh", "zh", "zh-CN", "en"])
    assert scores["same_language_share"] == pytest.approx(50.0)
    assert written_in("") == "other"
    assert written_in("张伟 told me") == "other"


def test_score_needs_aligned_inputs() -> None:
    with pytest.raises(ValueError):
        score([], [], [])
    with pytest.raises(ValueError):
        score(["a"], ["a", "b"], ["en"])
