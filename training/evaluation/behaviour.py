"""Two behaviours the method cares about, decided by simple, documented surface rules.

``asks_question``: the reply contains ``?`` or ``？``, or one of its sentences (split at
``。！!；;.…~～`` and newlines) ends with the question particle 吗 or 呢. Rhetorical questions
count too: the rule cannot tell them apart.

``leads_with_advice``: the reply *opens* with advice instead of listening. Its units are its
lines and sentences (split at newlines, after ``。！？!?；;``, and at a ``.`` followed by a
space unless a digit precedes it, so ``1. Walk`` stays whole); the lead is the first three
units. The reply leads with advice when either

* it holds a list of at least two items and the first item is in the lead. An item is a
  marker at the start of a unit, or after a colon or a space inside one: ``1.`` ``1)`` ``1、``
  ``(1)`` ``①`` ``一、`` ``第一，`` ``首先`` ``其次`` ``first,`` ``second,``; or a bullet ``-``
  ``*`` ``+`` (followed by a space) ``•`` ``●`` ``▪`` ``·`` at the start of a unit; or
* a lead unit holds an advice phrase: "here are some/a few", "you should", "you could/can/
  might try", "I (would) suggest/recommend", "my advice", "some/a few tips", 建议你/您,
  我建议, 你可以尝试/试着/试试, 可以尝试, 不妨, 你应该, 以下是, 一些/几点/几个建议,
  一些/几个/几种方法; or starts with an imperative: "try", "consider", "make sure",
  "remember to", "don't forget", 试着, 尝试.
"""

from __future__ import annotations

import re

LEAD_UNITS = 3
MIN_LIST_ITEMS = 2

_SENTENCE_BREAK = re.compile(r"[。！!；;.…~～\n]+")
_UNIT_BREAK = re.compile(r"\n+|(?<=[。！？!?；;])|(?<!\d)\.\s+")
_NUMBERED = (
    r"(?:\*\*)?(?:\d{1,2}[.)、．）](?!\d)|[(（]\d{1,2}[)）]|[①-⑳]"
    r"|[一二三四五六七八九十]{1,2}[、．.](?!\d)|第[一二三四五六七八九十]{1,2}[，,、：:]"
    r"|首先|其次|first(?:ly)?,|second(?:ly)?,)"
)
_ITEM_AT_START = re.compile(rf"^\s*(?:#+\s*)?(?:{_NUMBERED}|[-*+]\s|[•●▪·])", re.IGNORECASE)
_ITEM_INLINE = re.compile(rf"(?<=[:：\s]){_NUMBERED}", re.IGNORECASE)
_ADVICE_PHRASE = re.compile(
    r"\b(?:here are (?:some|a few)|you should|you (?:could|can|might) try"
    r"|i (?:would |'d )?(?:suggest|recommend)|my advice|(?:some|a few) tips)\b"
    r"|建议你|建议您|我建议|你可以(?:尝试|试着|试试)|可以尝试|不妨|你应该|以下是"
    r"|(?:一些|几点|几个)建议|(?:一些|几个|几种)方法",
    re.IGNORECASE,
)
_IMPERATIVE_START = re.compile(
    r"^\s*(?:(?:try|consider|make sure|remember to|don't forget)\b|试着|尝试)", re.IGNORECASE
)


def asks_question(reply: str) -> bool:
    if "?" in reply or "？" in reply:
        return True
    sentences = (part.strip() for part in _SENTENCE_BREAK.split(reply))
    return any(sentence.endswith(("吗", "呢")) for sentence in sentences)


def units(reply: str) -> list[str]:
    return [part.strip() for part in _UNIT_BREAK.split(reply) if part.strip()]


def list_items(unit: str) -> int:
    starts = 1 if _ITEM_AT_START.match(unit) else 0
    inline = sum(1 for match in _ITEM_INLINE.finditer(unit) if match.start() > 0)
    return starts + inline


def leads_with_list(reply: str) -> bool:
    counts = [list_items(unit) for unit in units(reply)]
    first = next((index for index, count in enumerate(counts) if count), None)
    return first is not None and first < LEAD_UNITS and sum(counts) >= MIN_LIST_ITEMS


def leads_with_advice_phrase(reply: str) -> bool:
    lead = units(reply)[:LEAD_UNITS]
    return any(_ADVICE_PHRASE.search(unit) or _IMPERATIVE_START.match(unit) for unit in lead)


def leads_with_advice(reply: str) -> bool:
    return leads_with_list(reply) or leads_with_advice_phrase(reply)
