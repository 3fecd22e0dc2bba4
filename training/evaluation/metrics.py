"""Automatic metrics, in plain Python so the numbers do not depend on a package's version.

Tokens: Chinese (``zh*``) text is scored by characters, every non-whitespace character one
token (punctuation included); any other language is lowercased and split into words
(letters/digits, with inner apostrophes: ``don't``) and single punctuation marks.

* BLEU-1..4 (headline): corpus-level cumulative BLEU-n (Papineni et al. 2002): clipped n-gram
  precisions summed over the corpus, uniform weights over 1..n, brevity penalty from the
  corpus lengths, no smoothing (a corpus with no matching 4-gram scores BLEU-4 0).
  Sentence-level BLEU, averaged over replies, is reported beside it with smoothing method 1
  (an epsilon of 0.1 for a precision with no match), as NLTK computes it.
* ROUGE-1/2/L: F1 (beta 1) per reply, averaged; ROUGE-L from the longest common subsequence.
* Distinct-1/2: unique n-grams over all n-grams, pooled over every reply.
* mean_length: characters (non-whitespace) for Chinese, words for other languages.
* question_share: see ``asks_question``; advice_share: see ``leads_with_advice``.
* same_language_share: the reply is written in the context's language (``written_in``): a
  Chinese context answered in English, or an English one in Chinese, does not count.

Scores are x100, as the SoulChat paper reports them; mean_length is not.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from training.evaluation.behaviour import asks_question, leads_with_advice
from training.evaluation.contexts import is_chinese

_WORD_OR_MARK = re.compile(r"\w+(?:'\w+)*|[^\w\s]")
_WORD = re.compile(r"\w")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
SMOOTHING_EPSILON = 0.1
MAX_BLEU_ORDER = 4


def tokenize(text: str, language: str) -> list[str]:
    if is_chinese(language):
        return [char for char in text if not char.isspace()]
    return _WORD_OR_MARK.findall(text.lower())


def written_in(text: str) -> str:
    """``zh`` when Chinese characters are at least half of the reply's letters, else
    ``other``: a Chinese reply may quote an English word, and an English one a name."""
    letters = [char for char in text if char.isalpha()]
    han = sum(1 for char in letters if _HAN.match(char))
    return "zh" if letters and han * 2 >= len(letters) else "other"


def reply_length(text: str, language: str) -> int:
    if is_chinese(language):
        return sum(1 for char in text if not char.isspace())
    return sum(1 for token in _WORD_OR_MARK.findall(text) if _WORD.match(token))


def ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


# -- BLEU ----------------------------------------------------------------------------------


def _clipped_matches(hypothesis: Sequence[str], reference: Sequence[str], n: int) -> int:
    hyp, ref = ngrams(hypothesis, n), ngrams(reference, n)
    return sum(min(count, ref[gram]) for gram, count in hyp.items())


def brevity_penalty(hypothesis_length: int, reference_length: int) -> float:
    if hypothesis_length == 0:
        return 0.0
    if hypothesis_length > reference_length:
        return 1.0
    return math.exp(1 - reference_length / hypothesis_length)


def corpus_bleu(
    hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]], order: int
) -> float:
    """Cumulative BLEU-``order`` of tokenised hypotheses against one reference each (0..1)."""
    log_precision = 0.0
    for n in range(1, order + 1):
        matches = sum(
            _clipped_matches(h, r, n) for h, r in zip(hypotheses, references, strict=True)
        )
        total = sum(max(len(h) - n + 1, 0) for h in hypotheses)
        if matches == 0 or total == 0:
            return 0.0
        log_precision += math.log(matches / total) / order
    hyp_length = sum(len(h) for h in hypotheses)
    ref_length = sum(len(r) for r in references)
    return brevity_penalty(hyp_length, ref_length) * math.exp(log_precision)


def sentence_bleu(hypothesis: Sequence[str], reference: Sequence[str], order: int) -> float:
    """Cumulative BLEU-``order`` of one reply, smoothing method 1 (0..1). Like NLTK, a reply
    without a single matching unigram scores 0."""
    if _clipped_matches(hypothesis, reference, 1) == 0:
        return 0.0
    log_precision = 0.0
    for n in range(1, order + 1):
        matches = _clipped_matches(hypothesis, reference, n)
        total = max(len(hypothesis) - n + 1, 1)
        log_precision += math.log((matches or SMOOTHING_EPSILON) / total) / order
    return brevity_penalty(len(hypothesis), len(reference)) * math.exp(log_precision)


# -- ROUGE ---------------------------------------------------------------------------------


def f1(overlap: float, hypothesis_size: int, reference_size: int) -> float:
    if overlap == 0 or hypothesis_size == 0 or reference_size == 0:
        return 0.0
    precision, recall = overlap / hypothesis_size, overlap / reference_size
    return 2 * precision * recall / (precision + recall)


def rouge_n(hypothesis: Sequence[str], reference: Sequence[str], n: int) -> float:
    overlap = _clipped_matches(hypothesis, reference, n)
    return f1(overlap, max(len(hypothesis) - n + 1, 0), max(len(reference) - n + 1, 0))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    previous = [0] * (len(b) + 1)
    for item in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if item == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(hypothesis: Sequence[str], reference: Sequence[str]) -> float:
    return f1(lcs_length(hypothesis, reference), len(hypothesis), len(reference))


# -- diversity -----------------------------------------------------------------------------


def distinct(token_lists: Sequence[Sequence[str]], n: int) -> float:
    """Unique n-grams over all n-grams, pooled over every reply (0..1)."""
    pooled: Counter[tuple[str, ...]] = Counter()
    for tokens in token_lists:
        pooled.update(ngrams(tokens, n))
    total = sum(pooled.values())
    return len(pooled) / total if total else 0.0


# -- everything at once --------------------------------------------------------------------

METRIC_NAMES: tuple[str, ...] = (
    *(f"bleu_{n}" for n in range(1, MAX_BLEU_ORDER + 1)),
    "rouge_1",
    "rouge_2",
    "rouge_l",
    "distinct_1",
    "distinct_2",
    "mean_length",
    "question_share",
    "advice_share",
    "same_language_share",
    *(f"sentence_bleu_{n}" for n in range(1, MAX_BLEU_ORDER + 1)),
)


def score(
    replies: Sequence[str], references: Sequence[str], languages: Sequence[str]
) -> dict[str, float]:
    """Every metric of ``METRIC_NAMES`` for replies against their references; each reply is
    tokenised by its own language."""
    if not replies or not len(replies) == len(references) == len(languages):
        raise ValueError("score needs one reference and one language per reply, and a reply")
    hyps = [tokenize(reply, lang) for reply, lang in zip(replies, languages, strict=True)]
    refs = [tokenize(ref, lang) for ref, lang in zip(references, languages, strict=True)]
    count = len(replies)
    scores: dict[str, float] = {}
    for n in range(1, MAX_BLEU_ORDER + 1):
        scores[f"bleu_{n}"] = corpus_bleu(hyps, refs, n)
    for n in (1, 2):
        scores[f"rouge_{n}"] = sum(rouge_n(h, r, n) for h, r in zip(hyps, refs, strict=True))
        scores[f"rouge_{n}"] /= count
    scores["rouge_l"] = sum(rouge_l(h, r) for h, r in zip(hyps, refs, strict=True)) / count
    scores["distinct_1"] = distinct(hyps, 1)
    scores["distinct_2"] = distinct(hyps, 2)
    scores["question_share"] = sum(asks_question(reply) for reply in replies) / count
    scores["advice_share"] = sum(leads_with_advice(reply) for reply in replies) / count
    same = sum(
        written_in(reply) == ("zh" if is_chinese(lang) else "other")
        for reply, lang in zip(replies, languages, strict=True)
    )
    scores["same_language_share"] = same / count
    for n in range(1, MAX_BLEU_ORDER + 1):
        sentence = sum(sentence_bleu(h, r, n) for h, r in zip(hyps, refs, strict=True))
        scores[f"sentence_bleu_{n}"] = sentence / count
    scaled = {name: 100 * value for name, value in scores.items()}
    lengths = (reply_length(reply, lang) for reply, lang in zip(replies, languages, strict=True))
    scaled["mean_length"] = sum(lengths) / count
    return {name: scaled[name] for name in METRIC_NAMES}
