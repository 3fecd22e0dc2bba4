"""Normalisation: the canonical text every lexicon pattern is written against."""

from __future__ import annotations

import re

import pytest

from safety import Rule
from safety.lexicon import DEFAULT_RULES
from safety.lexicon.replies import RULES as REPLY_RULES
from safety.lexicon.t2s import TRADITIONAL_TO_SIMPLIFIED
from safety.normalize import normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I’m going to END it all TONIGHT!!!", "im going to end it all tonight"),
        ("ｋｉｌｌ　ｍｙｓｅｌｆ", "kill myself"),
        ("I don't want to live", "i dont want to live"),
        ("self-harm", "self harm"),
        ("ki\u200bll my\u200dself", "kill myself"),
        ("took 2.5g of paracetamol", "took 2.5g of paracetamol"),
        ("我 不 想…活了", "我不想活了"),
        ("自-杀", "自杀"),
        ("我想自殺", "我想自杀"),
        ("遺書已經寫好了", "遗书已经写好了"),
        ("吃了 30 片安眠藥", "吃了30片安眠药"),
        ("我想kill myself", "我想 kill myself"),
        ("💊💊💊 goodbye", "💊💊💊 goodbye"),
        ("  \n\t ", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_clause_punctuation_keeps_chinese_clauses_apart() -> None:
    # "好累，死了算了" must not read as the idiom 累死了.
    assert normalize("我好累，死了算了") == "我好累 死了算了"
    assert "累死了" not in normalize("我好累。死了算了")


def test_t2s_table_is_a_fold() -> None:
    for traditional, simplified in TRADITIONAL_TO_SIMPLIFIED.items():
        assert len(traditional) == len(simplified) == 1
        assert traditional != simplified
        # Applying the table twice changes nothing: no value is itself a key.
        assert simplified not in TRADITIONAL_TO_SIMPLIFIED


_HAN = re.compile(r"[\u3400-\u9fff]")


@pytest.mark.parametrize("rule", [*DEFAULT_RULES, *REPLY_RULES], ids=lambda rule: rule.id)
def test_rule_patterns_are_written_in_simplified_chinese(rule: Rule) -> None:
    # A traditional character in a pattern could never match: input is folded first.
    text = f"{rule.pattern} {rule.exclude}"
    traditional = {ch for ch in _HAN.findall(text) if ch in TRADITIONAL_TO_SIMPLIFIED}
    assert not traditional


@pytest.mark.parametrize("rule", [*DEFAULT_RULES, *REPLY_RULES], ids=lambda rule: rule.id)
def test_rule_patterns_are_lower_case(rule: Rule) -> None:
    # Input is casefolded, so an upper-case literal in a pattern would be dead.
    text = f"{rule.pattern} {rule.exclude}"
    literals = re.sub(r"\\[A-Za-z]|\(\?[a-zA-Z]", "", text)
    assert literals == literals.lower()
