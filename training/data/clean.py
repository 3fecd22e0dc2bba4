"""Cleaning: rules you can switch, each counted in a ``CleaningReport``.

The rules run in this order, each on what the previous ones kept:

1. scrubbing of personal data (phone numbers, e-mail addresses, Chinese resident id numbers,
   long digit runs; URLs when asked) into placeholders such as ``[电话]`` / ``[PHONE]``;
   first, so that two copies differing only in a phone number still count as duplicates;
2. length bounds. A message longer than ``max_message_chars`` (or a dialogue running past
   ``max_dialogue_chars``) *truncates the dialogue before that message*: the turns before it are
   good training data and keep their context, since no turn refers to a later one. Whatever is
   then outside the turn and character bounds is dropped;
3. language: the text's language (CJK-ratio rule of ``soulchat.text.detect_locale``) must match
   the expected one (``expected_language``, else the language the loader declared);
4. the self-harm filter (off by default, see below);
5. exact duplicates (the normalised text of the whole dialogue), the first one kept;
6. near duplicates: character shingles, MinHash + LSH to find candidates, each candidate
   confirmed by the exact Jaccard similarity of the shingle sets; the first one kept.

The self-harm filter drops a dialogue when any turn, user or assistant, reaches the crisis tier
of the project's safety screen (``SafetyPolicy().screen_inbound``). It has a cost: a model that
never saw crisis talk does not learn to respond to it, and may answer someone in crisis with
small talk or fall silent. The screen also flags a counselor's careful "are you thinking about
suicide?", so the filter removes precisely the good examples of answering a crisis. The original
SoulChat method removed such dialogues; we keep the filter off by default because the runtime
safety layer handles crises (it screens every message and shows crisis lines) and the model
itself should still answer with care, not go quiet. Screening costs about 0.2 ms a message
(two minutes for SMILECHAT's 620k messages).

Reports hold counts and dialogue ids, never dialogue text (it is sensitive health data).
"""

from __future__ import annotations

import hashlib
import operator
import re
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from soulchat.text import detect_locale
from training.data.schema import Dialogue, Message

MAX_EXAMPLES = 5  # dialogue ids kept per rule in the report


@dataclass
class CleaningConfig:
    scrub_pii: bool = True
    scrub_urls: bool = False  # links to public resources are common in counselor replies
    min_turns: int = 2  # a user turn and a reply: anything shorter teaches nothing
    max_turns: int | None = None
    min_message_chars: int = 1
    max_message_chars: int | None = 4000  # past this: truncate the dialogue before the message
    min_dialogue_chars: int = 0
    max_dialogue_chars: int | None = None  # past this: truncate before the message crossing it
    check_language: bool = True
    expected_language: str | None = None  # None: the language the loader declared
    drop_self_harm: bool = False
    self_harm_tier: int = 2  # SafetyPolicy's default crisis-notice tier
    dedupe_exact: bool = True
    dedupe_near: bool = True
    near_dup_threshold: float = 0.85
    shingle_size: int = 5
    minhash_bins: int = 64

    def validate(self) -> None:
        if not 0.0 < self.near_dup_threshold <= 1.0:
            raise ValueError("near_dup_threshold must be in (0, 1]")
        if self.min_turns < 1 or self.shingle_size < 1 or self.minhash_bins < 1:
            raise ValueError("min_turns, shingle_size and minhash_bins must be at least 1")
        if self.max_turns is not None and self.max_turns < self.min_turns:
            raise ValueError("max_turns must not be below min_turns")
        if not 0 <= self.self_harm_tier <= 4:
            raise ValueError("self_harm_tier must be 0-4")


@dataclass
class CleaningReport:
    input: int = 0
    output: int = 0
    dropped: Counter[str] = field(default_factory=Counter)  # rule -> dialogues dropped
    truncated: Counter[str] = field(default_factory=Counter)  # rule -> dialogues shortened
    scrubbed: Counter[str] = field(default_factory=Counter)  # kind -> replacements made
    examples: dict[str, list[str]] = field(default_factory=dict)  # rule -> first dialogue ids

    def note(self, counter: Counter[str], rule: str, dialogue_id: str) -> None:
        counter[rule] += 1
        ids = self.examples.setdefault(rule, [])
        if len(ids) < MAX_EXAMPLES:
            ids.append(dialogue_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "output": self.output,
            "dropped": dict(sorted(self.dropped.items())),
            "truncated": dict(sorted(self.truncated.items())),
            "scrubbed": dict(sorted(self.scrubbed.items())),
            "examples": dict(sorted(self.examples.items())),
        }


# --- scrubbing --------------------------------------------------------------------------------

_PLACEHOLDERS = {
    "zh": {"phone": "[电话]", "email": "[邮箱]", "id": "[身份证号]", "number": "[号码]"},
    "en": {"phone": "[PHONE]", "email": "[EMAIL]", "id": "[ID]", "number": "[NUMBER]"},
}
_URL_PLACEHOLDER = {"zh": "[网址]", "en": "[URL]"}
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'，。！？；、）)】]+", re.IGNORECASE)
# Order matters: e-mails contain digits, an 18-digit id holds a phone-like run of digits.
_PII: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("id", re.compile(r"(?<![0-9])[1-9]\d{16}[0-9Xx](?![0-9A-Za-z])")),
    (
        "phone",
        re.compile(
            r"(?<![0-9+])(?:"
            r"(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}"  # Chinese mobile
            r"|0\d{2,3}-\d{7,8}"  # Chinese landline with area code
            r"|[48]00[-\s]?\d{3}[-\s]?\d{4}"  # 400 / 800 service lines
            r"|(?:\+?1[-.\s])?\(?\d{3}\)?[-.\s]\d{3}[-.\s]\d{4}"  # North American
            r"|\+\d{1,3}(?:[-.\s]?\d{2,4}){2,4}"  # other international
            r")(?![0-9])"
        ),
    ),
    ("number", re.compile(r"(?<![0-9])\d{9,}(?![0-9])")),  # bank cards, QQ numbers, ids
)
_MAYBE_PII = re.compile(r"@|\d{3}|\+\d")  # every pattern above needs one of these


def scrub_text(text: str, language: str, counts: Counter[str], *, urls: bool = False) -> str:
    """The text with personal data replaced by placeholders; ``counts`` gains one per
    replacement, by kind."""
    names = _PLACEHOLDERS.get(language, _PLACEHOLDERS["en"])
    if urls:
        text, found = _URL.subn(_URL_PLACEHOLDER.get(language, "[URL]"), text)
        counts["url"] += found
    if not _MAYBE_PII.search(text):
        return text  # most messages: one quick search instead of four
    for kind, pattern in _PII:
        text, found = pattern.subn(names[kind], text)
        counts[kind] += found
    return text


def _scrub(dialogue: Dialogue, config: CleaningConfig, counts: Counter[str]) -> Dialogue:
    texts = [
        scrub_text(m.content, dialogue.language, counts, urls=config.scrub_urls)
        for m in dialogue.messages
    ]
    if all(new is m.content for new, m in zip(texts, dialogue.messages, strict=True)):
        return dialogue
    messages = [replace(m, content=text) for m, text in zip(dialogue.messages, texts, strict=True)]
    return replace(dialogue, messages=messages)


# --- length bounds ----------------------------------------------------------------------------


def _truncate(dialogue: Dialogue, config: CleaningConfig) -> tuple[list[Message], str | None]:
    """The messages before the first one that breaks a length bound, and which bound."""
    total = 0
    for index, message in enumerate(dialogue.messages):
        size = len(message.content)
        if config.max_message_chars is not None and size > config.max_message_chars:
            return dialogue.messages[:index], "message_too_long"
        total += size
        if config.max_dialogue_chars is not None and total > config.max_dialogue_chars:
            return dialogue.messages[:index], "dialogue_too_long"
    return dialogue.messages, None


def _length_problem(messages: list[Message], config: CleaningConfig) -> str | None:
    if len(messages) < config.min_turns:
        return "too_few_turns"
    if config.max_turns is not None and len(messages) > config.max_turns:
        return "too_many_turns"
    if any(len(m.content) < config.min_message_chars for m in messages):
        return "message_too_short"
    if sum(len(m.content) for m in messages) < config.min_dialogue_chars:
        return "dialogue_too_short"
    return None


# --- language and self-harm -------------------------------------------------------------------


def detect_language(dialogue: Dialogue) -> str:
    return detect_locale(" ".join(m.content for m in dialogue.messages), default="unknown")


def _language_ok(dialogue: Dialogue, expected: str | None) -> tuple[bool, str]:
    expected = expected or dialogue.language
    if expected not in ("zh", "en"):
        return True, dialogue.language  # the CJK-ratio rule only tells Chinese from English
    detected = detect_language(dialogue)
    return detected == expected, detected


def _self_harm_screen(tier: int) -> Callable[[Dialogue], bool]:
    from safety.policy import SafetyPolicy  # loaded only when the filter is on

    policy = SafetyPolicy()

    def reaches_crisis(dialogue: Dialogue) -> bool:
        return any(policy.screen_inbound(m.content).tier >= tier for m in dialogue.messages)

    return reaches_crisis


# --- duplicates -------------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Case and spacing folded: what makes two texts the same for exact deduplication.
    (NFKC would also fold full-width forms, but it is the slowest step on 50k dialogues and
    copies that differ only in width are rare.)"""
    return _SPACE.sub(" ", text.casefold()).strip()


def exact_key(dialogue: Dialogue) -> bytes:
    text = "\x1e".join(f"{m.role}\x1f{m.content}" for m in dialogue.messages)
    return hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=16).digest()


def shingle_hashes(text: str, size: int) -> list[int]:
    """Hashes of the character ``size``-grams of the text. Python's hash of a tuple of ints is
    the same in every process (only str and bytes hashes are salted), and the whole list is
    built in C: this is what makes 50k dialogues take seconds, not minutes."""
    codes = array("I", text.encode("utf-32-le"))
    if len(codes) <= size:
        return [hash(tuple(codes))]
    return list(map(hash, zip(*(codes[i:] for i in range(size)), strict=False)))


def shingles(text: str, size: int) -> set[int]:
    return set(shingle_hashes(text, size))


def jaccard(a: set[int], b: set[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _rows_per_band(threshold: float, bins: int) -> int:
    """The most rows per band that still make a pair at the threshold a candidate with at
    least 99% probability (more rows: fewer false candidates to check)."""
    best = 1
    for rows in range(1, bins + 1):
        bands = bins // rows
        if (1.0 - threshold**rows) ** bands <= 0.01:
            best = rows
    return best


_HASH_SPAN = 1 << 64
_HASH_LOW = -(1 << 63)


def minhash(hashes: Iterable[int], bins: int) -> array[int]:
    """One-permutation MinHash: the smallest hash in each of ``bins`` equal slices of the hash
    range (one sort instead of ``bins`` passes), empty bins filled from the next full one."""
    ordered = sorted(hashes)
    width = _HASH_SPAN // bins
    signature: list[int | None] = []
    for index in range(bins):
        low = _HASH_LOW + index * width
        position = bisect_left(ordered, low)
        inside = position < len(ordered) and ordered[position] < low + width
        signature.append(ordered[position] if inside else None)
    filled = array("q", [0] * bins)
    for index in range(bins):
        for step in range(bins):
            value = signature[(index + step) % bins]
            if value is not None:
                filled[index] = value ^ step  # the offset keeps borrowed values distinct
                break
    return filled


class NearDuplicateIndex:
    """Remembers kept texts; ``is_duplicate`` tells whether a new text is within the Jaccard
    threshold of one already kept, and keeps it when it is not."""

    def __init__(self, threshold: float = 0.85, shingle_size: int = 5, bins: int = 64) -> None:
        self.threshold = threshold
        self.shingle_size = shingle_size
        self.bins = bins
        self.rows = _rows_per_band(threshold, bins)
        self.bands = bins // self.rows
        self._buckets: dict[int, list[int]] = {}
        self._texts: list[str] = []
        self._signatures: list[array[int]] = []
        # Kept texts a lookup looked at: what keeps the index fast is that this stays near
        # the number of lookups, not their square.
        self.candidates_examined = 0

    def is_duplicate(self, text: str) -> bool:
        hashes = shingle_hashes(text, self.shingle_size)
        signature = minhash(hashes, self.bins)
        keys = [
            hash((band, *signature[band * self.rows : (band + 1) * self.rows]))
            for band in range(self.bands)
        ]
        own: set[int] | None = None  # built only for a plausible candidate
        seen: set[int] = set()
        for other in (other for key in keys for other in self._buckets.get(key, ())):
            if other in seen:
                continue
            seen.add(other)
            self.candidates_examined += 1
            # The signature estimate is cheap; the exact Jaccard only runs on plausible pairs.
            agree = sum(map(operator.eq, signature, self._signatures[other])) / self.bins
            if agree < self.threshold - 0.2:
                continue
            own = own if own is not None else set(hashes)
            if jaccard(own, shingles(self._texts[other], self.shingle_size)) >= self.threshold:
                return True
        index = len(self._texts)
        self._texts.append(text)
        self._signatures.append(signature)
        for key in keys:
            self._buckets.setdefault(key, []).append(index)
        return False


def near_text(dialogue: Dialogue) -> str:
    """What near-duplicate detection compares: the words, without spacing or punctuation."""
    return _NOT_WORD.sub("", " ".join(m.content for m in dialogue.messages).casefold())


# --- the pipeline -----------------------------------------------------------------------------


def _per_dialogue(
    dialogues: Iterable[Dialogue], config: CleaningConfig, report: CleaningReport
) -> Iterator[Dialogue]:
    """The rules that look at one dialogue at a time (1-4)."""
    screen = _self_harm_screen(config.self_harm_tier) if config.drop_self_harm else None
    for dialogue in dialogues:
        report.input += 1
        if config.scrub_pii:
            dialogue = _scrub(dialogue, config, report.scrubbed)
        messages, cut = _truncate(dialogue, config)
        if cut:
            report.note(report.truncated, cut, dialogue.id)
            dialogue = replace(dialogue, messages=messages)
        problem = _length_problem(dialogue.messages, config)
        if problem:
            report.note(report.dropped, problem, dialogue.id)
            continue
        if config.check_language or config.expected_language:
            ok, detected = _language_ok(dialogue, config.expected_language)
            if not ok:
                report.note(report.dropped, "language_mismatch", dialogue.id)
                continue
            dialogue = replace(dialogue, language=detected)
        if screen is not None and screen(dialogue):
            report.note(report.dropped, "self_harm", dialogue.id)
            continue
        yield dialogue


def clean(
    dialogues: Iterable[Dialogue], config: CleaningConfig | None = None
) -> tuple[list[Dialogue], CleaningReport]:
    """The dialogues that pass every rule switched on, in input order, and what was done."""
    config = config or CleaningConfig()
    config.validate()
    report = CleaningReport()
    seen: set[bytes] = set()
    index = NearDuplicateIndex(config.near_dup_threshold, config.shingle_size, config.minhash_bins)
    kept: list[Dialogue] = []
    for dialogue in _per_dialogue(dialogues, config, report):
        if config.dedupe_exact:
            key = exact_key(dialogue)
            if key in seen:
                report.note(report.dropped, "exact_duplicate", dialogue.id)
                continue
            seen.add(key)
        if config.dedupe_near and index.is_duplicate(near_text(dialogue)):
            report.note(report.dropped, "near_duplicate", dialogue.id)
            continue
        kept.append(dialogue)
    report.output = len(kept)
    return kept, report
