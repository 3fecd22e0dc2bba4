"""The structural bounds that make the lexicon linear (``safety.regex_shape``)."""

from __future__ import annotations

import pytest

from safety.regex_shape import shape, uniquely_decodable


@pytest.mark.parametrize(
    ("pattern", "reach"),
    [
        (r"\bkill myself\b", 12),  # \b looks at the character after the last one
        (r"a.{0,200}b", 202),
        (r"(?:\w{1,40} ){0,3}die", 126),
        (r"\bcut\b(?=.{0,20}tonight)", 30),  # a lookahead reads on without consuming
        (r"(?<!\d)\d{2,9}片", 10),  # a lookbehind reads before the start, not after it
        (r"(?:pills?|tablets?)", 7),
    ],
)
def test_reach_is_what_one_attempt_can_read(pattern: str, reach: int) -> None:
    assert shape(pattern).reach == reach


@pytest.mark.parametrize(
    "pattern",
    [r"\d+楼", r"a.*b", r"(?:\w+ ){0,3}", r"[0-9]{2,}", r"x(?=.*now)", r"(?:💊 ?){3,}", r"x*+"],
)
def test_an_unbounded_quantifier_has_no_reach(pattern: str) -> None:
    assert shape(pattern).reach is None


def test_lookbehind_width_is_reported_apart() -> None:
    assert shape(r"(?<!promise i )\bnot\b").behind == 10


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?:\w{1,40} ){0,3}die",  # a word stops at the space that ends it
        r"(?: \w{1,40}){0,2} suicidal",  # ... or at the space the next one begins with
        r"(?:just |such |only |a total |a huge ){0,3}burden",  # a prefix-free list of words
        r"(?: (?:want|wanna|to|be|been|feel|feel like)){0,8} x",  # uniquely decodable
        r"(?:a|ab){0,5}c",  # "a" and "ab" begin alike, but no text splits two ways
        r"(?:\w{1,9}+){0,3}x",  # possessive: takes what it can and never gives it back
        r"(?:💊 ?){3}",
        r"\S{0,4}(?:安眠药|药)\S{0,6}",  # not inside a repeat: bounded choices, no re-splitting
    ],
)
def test_repeats_that_split_text_one_way_are_accepted(pattern: str) -> None:
    assert shape(pattern).hazards == ()


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?:\w{1,9}){0,3}x",  # "abcdef" is 1+5, 2+4, 3+3 ... letters
        r"(?:\w{1,5} ?){0,3}",  # the space is optional, so words run together
        r"(?: (?:want|want to|to)){0,8} x",  # " want to" is one word or two
        r"(?:a|a){0,3}",  # the same string twice
        r"(?:x?){0,3}",  # a repetition that matches nothing
        r"(?:\d{1,3}\d?){0,4}",
    ],
)
def test_repeats_that_split_text_several_ways_are_hazards(pattern: str) -> None:
    assert shape(pattern).hazards


def test_sardinas_patterson() -> None:
    assert uniquely_decodable(["a", "ab", "bb"])
    assert uniquely_decodable([" want", " to", " wanna"])
    assert not uniquely_decodable(["a", "ab", "b"])  # "ab" is also "a" + "b"
    assert not uniquely_decodable(["0", "01", "10"])  # "010" is 0|10 and 01|0
    assert not uniquely_decodable(["", "a"])
    assert not uniquely_decodable(["a", "a"])
