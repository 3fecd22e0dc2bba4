"""The risk classifier's training corpus: the shipped files, their balance, deterministic
template expansion, and validation that names the bad file and line."""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from safety.corpus import (
    CorpusExample,
    expand_template,
    load_corpus,
    load_templates,
    load_written,
    provenance,
    text_language,
)
from safety.rules import CATEGORIES

REPO = Path(__file__).resolve().parents[2]

# Words and themes that make a normal message look risky to a naive model: idioms with 死 /
# "kill" / "dead", knives, medication, ropes, bridges and rooftops, grief, news about suicide.
# A proxy for "hard negative" (it misses some), used to keep those the bulk of tier 0.
HARD_NEGATIVE = re.compile(
    r"(die|dying|dead|death|kill|murder|slay|suicid|overdos|knife|knives|blade|pill|meds|"
    r"sertraline|fluoxetine|prescri|rope|bridge|roof|cliff|jump|cut|blood|hang|shot|poison|"
    r"self harm|passed away|funeral|grave|buried|griev|grief|sad|depress|worried|heartbroken|"
    r"死|杀|殺|刀|药|藥|绳|繩|桥|橋|天台|頂樓|顶楼|楼顶|跳|割|血|自残|自殘|寄了|紫砂|去世|過世|"
    r"过世|难过|難過|抑郁|憂鬱|emo|担心|低落|失落|舍不得|"
    # ordinary farewells, sign-offs, doses and heights: what the semantic layer confused
    r"bye|goodbye|farewell|last day|see (?:you|u|ya)|tablet|dose|mg\b|height|"
    r"再见|再見|拜拜|告别|告別|离职|離職|最后一天|剂量|劑量|恐高|晚安)",
    re.IGNORECASE,
)

GOOD_LINE = {
    "text": "I'm fine, just tired",
    "tier": 0,
    "categories": [],
    "source": "written:soulchat",
}

GOOD_TEMPLATES = """
[slots]
opener = ["", "honestly"]

[[template]]
id = "t-one"
lang = "en"
tier = 2
categories = ["suicide"]
pattern = "{opener} i keep thinking about ending it {when}"
[template.slots]
when = ["lately", "every day", "again"]

[[template]]
id = "t-neg"
lang = "zh"
tier = 0
categories = []
pattern = "{who}累死了"
[template.slots]
who = ["我", "今天"]
"""


@pytest.fixture(scope="module")
def corpus() -> list[CorpusExample]:
    return load_corpus()


@pytest.fixture(scope="module")
def written() -> list[CorpusExample]:
    return load_written()


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def write_corpus(directory: Path, lines: list[Any], templates: str = GOOD_TEMPLATES) -> Path:
    """``lines``: dicts are written as JSON, strings as they are (for malformed lines)."""
    rendered = [
        line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines
    ]
    (directory / "written.jsonl").write_text("\n".join(rendered) + "\n", encoding="utf-8")
    (directory / "templates.toml").write_text(templates, encoding="utf-8")
    return directory


# ---------------------------------------------------------------- the shipped corpus


def test_shipped_corpus_loads(corpus: list[CorpusExample], written: list[CorpusExample]) -> None:
    assert len(written) >= 900
    assert 3000 <= len(corpus) <= 15000
    assert corpus[: len(written)] == written
    for example in corpus:
        assert example.text.strip()
        assert 0 <= example.tier <= 4
        assert example.categories <= CATEGORIES
        assert (example.tier == 0) == (not example.categories)
    assert {e.source for e in written} == {"written:soulchat"}
    assert all(e.source.startswith("template:") for e in corpus[len(written) :])


def test_every_tier_and_category_present(corpus: list[CorpusExample]) -> None:
    assert {example.tier for example in corpus} == {0, 1, 2, 3, 4}
    assert set().union(*(example.categories for example in corpus)) == CATEGORIES


def test_written_examples_cover_each_category(written: list[CorpusExample]) -> None:
    counts = Counter(c for example in written if example.tier > 0 for c in example.categories)
    assert set(counts) == CATEGORIES
    assert min(counts.values()) >= 25, counts
    tiers = Counter(example.tier for example in written)
    assert set(tiers) == {0, 1, 2, 3, 4}
    assert 0.35 <= tiers[0] / len(written) <= 0.45


def test_written_tier0_is_mostly_hard_negatives(written: list[CorpusExample]) -> None:
    normal = [example for example in written if example.tier == 0]
    hard = [example for example in normal if HARD_NEGATIVE.search(example.text)]
    # The keyword pattern undercounts (it misses "voices" at choir practice, a will, a farewell
    # post), so the bar is below the share the corpus was written to.
    assert len(hard) >= 0.4 * len(normal), f"{len(hard)} of {len(normal)}"


def test_english_and_chinese_roughly_equal(
    corpus: list[CorpusExample], written: list[CorpusExample]
) -> None:
    for examples in (written, corpus):
        english = sum(1 for example in examples if text_language(example.text) == "en")
        assert 0.4 <= english / len(examples) <= 0.6
    languages = Counter(text_language(example.text) for example in corpus)
    assert languages["mixed"] >= 100


def test_no_duplicate_texts(corpus: list[CorpusExample]) -> None:
    keys = Counter(_key(example.text) for example in corpus)
    assert [text for text, count in keys.items() if count > 1] == []


def test_tier0_share(corpus: list[CorpusExample]) -> None:
    share = sum(1 for example in corpus if example.tier == 0) / len(corpus)
    assert 0.30 <= share <= 0.60


def test_expansion_is_deterministic_and_capped(corpus: list[CorpusExample]) -> None:
    assert load_corpus(seed=0) == corpus
    other_seed = load_corpus(seed=1)
    assert other_seed != corpus
    assert len(other_seed) == pytest.approx(len(corpus), rel=0.01)
    per_template = {k: v for k, v in provenance(corpus).items() if k.startswith("template:")}
    assert max(per_template.values()) == 40
    small = load_corpus(max_per_template=5)
    assert max(n for k, n in provenance(small).items() if k.startswith("template:")) == 5


def test_expansion_samples_the_cartesian_product() -> None:
    for template in load_templates():
        examples = expand_template(template, seed=3, max_per_template=40)
        assert len(examples) == min(40, template.combinations), template.id
        everything = {template.render(i) for i in range(template.combinations)}
        assert {example.text for example in examples} <= everything
        assert all(example.source == f"template:{template.id}" for example in examples)
        assert all(example.tier == template.tier for example in examples)


def test_without_templates_only_written(written: list[CorpusExample]) -> None:
    assert load_corpus(expand_templates=False) == written


def test_provenance_counts_sources(corpus: list[CorpusExample]) -> None:
    counts = provenance(corpus)
    assert sum(counts.values()) == len(corpus)
    assert counts["written:soulchat"] >= 900
    assert list(counts) == sorted(counts)


def test_package_data_ships_the_corpus() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "data/risk_corpus/*" in pyproject["tool"]["setuptools"]["package-data"]["safety"]


# ---------------------------------------------------------------- a corpus from a folder


def test_directory_corpus_expands_all_small_templates(tmp_path: Path) -> None:
    write_corpus(tmp_path, [GOOD_LINE])
    examples = load_corpus(directory=tmp_path)
    assert provenance(examples) == {"template:t-neg": 2, "template:t-one": 6, "written:soulchat": 1}
    texts = {example.text for example in examples}
    assert "i keep thinking about ending it lately" in texts  # empty opener, spaces tidied
    assert "honestly i keep thinking about ending it again" in texts
    assert "今天累死了" in texts


def test_expansion_repeating_written_text_with_same_label_is_dropped(tmp_path: Path) -> None:
    line = {"text": "我累死了", "tier": 0, "categories": [], "source": "written:soulchat"}
    write_corpus(tmp_path, [GOOD_LINE, line])
    examples = load_corpus(directory=tmp_path)
    assert [example.text for example in examples].count("我累死了") == 1


def test_expansion_repeating_written_text_with_other_label_is_an_error(tmp_path: Path) -> None:
    line = {"text": "我累死了", "tier": 1, "categories": ["suicide"], "source": "written:soulchat"}
    write_corpus(tmp_path, [GOOD_LINE, line])
    with pytest.raises(ValueError, match="t-neg"):
        load_corpus(directory=tmp_path)


# A lone surrogate: json.loads lets it through, and no UTF-8 writer takes it back.
LONE_SURROGATE = json.dumps({**GOOD_LINE, "text": "hi \ud800"})
assert "\\ud800" in LONE_SURROGATE

BAD_LINES: list[tuple[Any, str]] = [
    ("{not json", "not valid JSON"),
    ('["a list"]', "JSON object"),
    ({**GOOD_LINE, "tier": 5}, "tier"),
    ({**GOOD_LINE, "tier": "0"}, "tier"),
    ({**GOOD_LINE, "tier": True}, "tier"),
    ({**GOOD_LINE, "tier": 2, "categories": ["suicidal"]}, "unknown categories"),
    ({**GOOD_LINE, "categories": ["suicide"]}, "tier-0"),
    ({**GOOD_LINE, "tier": 2}, "at least one category"),
    ({**GOOD_LINE, "tier": 2, "categories": ["abuse_child"]}, "'abuse' too"),
    ({**GOOD_LINE, "tier": 2, "categories": ["suicide", "suicide"]}, "repeated"),
    ({**GOOD_LINE, "text": ""}, "non-empty"),
    ({**GOOD_LINE, "text": "   "}, "non-empty"),
    ({**GOOD_LINE, "text": " padded "}, "whitespace"),
    ({k: v for k, v in GOOD_LINE.items() if k != "source"}, "missing source"),
    ({**GOOD_LINE, "source": "reddit"}, "source"),
    ({**GOOD_LINE, "lang": "en"}, "unknown field"),
    ({**GOOD_LINE, "text": "I'm FINE,  just tired"}, "duplicate text"),
    ({**GOOD_LINE, "text": 3}, "text: must be a non-empty string, got 3"),
    ({**GOOD_LINE, "categories": "suicide", "tier": 2}, "categories: must be a list of strings"),
    ({**GOOD_LINE, "categories": [1], "tier": 2}, r"categories\.0: must be a string"),
    (LONE_SURROGATE, "not valid JSON: .* surrogate pair"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_LINES)
def test_bad_written_line_names_file_and_line(tmp_path: Path, bad: Any, message: str) -> None:
    write_corpus(tmp_path, [GOOD_LINE, bad])
    with pytest.raises(ValueError, match=message) as caught:
        load_corpus(expand_templates=False, directory=tmp_path)
    assert f"{tmp_path / 'written.jsonl'}:2:" in str(caught.value)


def test_broken_utf8_names_the_line(tmp_path: Path) -> None:
    write_corpus(tmp_path, [GOOD_LINE])
    with (tmp_path / "written.jsonl").open("ab") as handle:
        handle.write(b'{"text": "caf\xe9", "tier": 0}\n')
    with pytest.raises(ValueError, match=r"written\.jsonl:2: invalid UTF-8 at byte \d+"):
        load_written(tmp_path / "written.jsonl")


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    write_corpus(tmp_path, [GOOD_LINE, "", {**GOOD_LINE, "tier": 9, "text": "x"}])
    with pytest.raises(ValueError, match=r"written\.jsonl:3:"):
        load_written(tmp_path / "written.jsonl")


BAD_TEMPLATES: list[tuple[str, str, str]] = [
    ('{when}"', '{when} {nowhere}"', "defined neither"),
    ("tier = 2", "tier = 7", "tier"),
    ('categories = ["suicide"]', 'categories = ["sucide"]', "unknown categories"),
    ('categories = ["suicide"]', "categories = []", "at least one category"),
    ('lang = "en"', 'lang = "fr"', "lang"),
    ('lang = "en"', 'lang = "zh"', "no Chinese characters"),
    ('when = ["lately"', 'unused = ["x"]\nwhen = ["lately"', "not used"),
    ('when = ["lately", "every day", "again"]', 'when = ["lately", "lately"]', "repeats"),
    ('when = ["lately", "every day", "again"]', "when = []", "non-empty list"),
    ("{opener} i keep", "{opener!r} i keep", "bad slot"),
    ('id = "t-one"', 'id = "T One"', "id: must be"),
    ('id = "t-one"\n', 'id = "t-one"\ncolour = "red"\n', "unknown field"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD_TEMPLATES)
def test_bad_template_names_file_and_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert GOOD_TEMPLATES.count(old) == 1
    write_corpus(tmp_path, [GOOD_LINE], GOOD_TEMPLATES.replace(old, new, 1))
    with pytest.raises(ValueError, match=message) as caught:
        load_corpus(directory=tmp_path)
    # The first [[template]] header is on line 5 of GOOD_TEMPLATES.
    assert f"{tmp_path / 'templates.toml'}:5" in str(caught.value)


def test_duplicate_template_id_is_an_error(tmp_path: Path) -> None:
    write_corpus(tmp_path, [GOOD_LINE], GOOD_TEMPLATES.replace('id = "t-neg"', 'id = "t-one"'))
    with pytest.raises(ValueError, match=r"templates\.toml:14: .*duplicate template id"):
        load_corpus(directory=tmp_path)


def test_invalid_toml_is_an_error(tmp_path: Path) -> None:
    write_corpus(tmp_path, [GOOD_LINE], "[[template]\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_corpus(directory=tmp_path)


def test_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_per_template"):
        load_corpus(max_per_template=0)


def test_text_language() -> None:
    assert text_language("kill the process") == "en"
    assert text_language("累死了") == "zh"
    assert text_language("今天的presentation我kill it了") == "mixed"
