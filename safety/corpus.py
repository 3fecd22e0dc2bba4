"""Training corpus for the risk classifier: hand-written examples plus template expansions.

Provenance
----------
Every example in this corpus was written by the SoulChat project, for this purpose, from the
project's own knowledge of how people write about distress: no third-party data set, no scraped
posts, no user conversations, no model-generated text copied in. ``provenance`` counts examples
per ``source`` so that this stays auditable:

* ``written:soulchat`` - one hand-written message per line of ``written.jsonl``;
* ``template:<id>`` - a sentence composed from template ``<id>`` in ``templates.toml``, whose
  pattern and slot values were written by hand in the same way.

The files live in the ``safety`` package under ``data/risk_corpus`` and are read with
``importlib.resources``, so the corpus loads from an installed wheel as well as a checkout.

Labels
------
Tiers follow C-SSRS practice, as in ``safety.screen``: 0 normal; 1 elevated (hopelessness,
passive wish to be dead); 2 at risk (active ideation without a plan, self-harm, method-seeking
questions); 3 high (intent, plan, means at hand, preparation, a recent attempt); 4 imminent
(an attempt in progress, a time set, an overdose already taken, violence about to happen).
Categories come from ``safety.rules.CATEGORIES``. A tier-0 example has no categories; any other
tier has at least one; an abuse subtype (``abuse_child`` ...) always comes with ``abuse``.

Every rule is checked on load: bad data is a ``ValueError`` naming the file and the line (or
the template), so a broken edit fails in the tests, not in a training run.
"""

from __future__ import annotations

import json
import random
import re
import string
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from safety.rules import CATEGORIES

__all__ = [
    "DEFAULT_MAX_PER_TEMPLATE",
    "LANGUAGES",
    "MAX_TIER",
    "CorpusExample",
    "Template",
    "expand_template",
    "load_corpus",
    "load_templates",
    "load_written",
    "provenance",
    "text_language",
]

MAX_TIER = 4
DEFAULT_MAX_PER_TEMPLATE = 40
WRITTEN_FILE = "written.jsonl"
TEMPLATES_FILE = "templates.toml"
WRITTEN_PREFIX = "written:"
TEMPLATE_PREFIX = "template:"
# "mixed": Chinese and English in one message ("今天的presentation我kill it了").
LANGUAGES: frozenset[str] = frozenset({"en", "zh", "mixed"})
ABUSE_SUBTYPES: frozenset[str] = frozenset({"abuse_child", "abuse_domestic", "abuse_sexual"})

_PACKAGE = "safety"
_RESOURCE_DIR = ("data", "risk_corpus")
_WRITTEN_KEYS = frozenset({"text", "tier", "categories", "source"})
_TEMPLATE_KEYS = frozenset({"id", "lang", "tier", "categories", "pattern", "slots"})
_TEMPLATE_REQUIRED = ("id", "lang", "tier", "categories", "pattern")
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_TEMPLATE_ID = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
_TEMPLATE_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*template[ \t]*\]\]", re.MULTILINE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_SPACES = re.compile(r"[ \t]+")
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.!?;:，。！？；：、])")
# How many candidate combinations to draw per kept one, so that combinations rendering to an
# already-seen text (an empty slot next to another) do not leave a template short.
_OVERDRAW = 3


@dataclass(frozen=True)
class CorpusExample:
    """One labelled message (or the last few user messages joined with newlines)."""

    text: str
    tier: int
    categories: frozenset[str]
    source: str


@dataclass(frozen=True)
class Template:
    """A pattern with ``{slots}``; each combination of slot values renders one example.

    ``slots`` holds the pattern's slots in order of first use, each with its values (local
    values from the template, or the shared ``[slots]`` table of the file). ``origin`` is
    ``"file:line"`` for error messages.
    """

    id: str
    lang: str
    tier: int
    categories: frozenset[str]
    pattern: str
    slots: tuple[tuple[str, tuple[str, ...]], ...]
    origin: str

    @property
    def combinations(self) -> int:
        """Size of the cartesian product of the slot values."""
        total = 1
        for _, values in self.slots:
            total *= len(values)
        return total

    def render(self, index: int) -> str:
        """The text of combination ``index`` (mixed radix over the slots, last slot fastest)."""
        if not 0 <= index < self.combinations:
            raise IndexError(f"template {self.id!r}: combination {index} out of range")
        chosen: dict[str, str] = {}
        for name, values in reversed(self.slots):
            index, digit = divmod(index, len(values))
            chosen[name] = values[digit]
        return _tidy(self.pattern.format_map(chosen))


def text_language(text: str) -> str:
    """ "zh" for Chinese, "en" for text without Chinese characters, "mixed" for Chinese with
    English words in it (two or more Latin letters in a row)."""
    if not _CJK.search(text):
        return "en"
    return "mixed" if _LATIN_WORD.search(text) else "zh"


def provenance(examples: Iterable[CorpusExample]) -> dict[str, int]:
    """Examples per ``source`` ("written:soulchat", "template:<id>"), sorted by source."""
    counts = Counter(example.source for example in examples)
    return dict(sorted(counts.items()))


def load_written(path: Path | None = None) -> list[CorpusExample]:
    """Read the hand-written examples; ``None`` reads the shipped ``written.jsonl``."""
    text, origin = _read(WRITTEN_FILE, path)
    examples: list[CorpusExample] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        example = _parse_written_line(line, where)
        key = _dedup_key(example.text)
        if key in first_line:
            raise ValueError(f"{where}: duplicate text (first at line {first_line[key]})")
        first_line[key] = number
        examples.append(example)
    if not examples:
        raise ValueError(f"{origin}: no examples")
    return examples


def load_templates(path: Path | None = None) -> list[Template]:
    """Read and check the templates; ``None`` reads the shipped ``templates.toml``."""
    text, origin = _read(TEMPLATES_FILE, path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{origin}: not valid TOML: {exc}") from exc
    unknown = sorted(set(document) - {"slots", "template"})
    if unknown:
        raise ValueError(f"{origin}: unknown top-level key(s) {', '.join(unknown)}")
    shared = _parse_slots(document.get("slots", {}), f"{origin}: [slots]")
    entries = document.get("template", [])
    if not isinstance(entries, list):
        raise ValueError(f"{origin}: 'template' must be an array of tables ([[template]])")
    header_lines = [text.count("\n", 0, m.start()) + 1 for m in _TEMPLATE_HEADER.finditer(text)]
    templates: list[Template] = []
    seen: dict[str, str] = {}
    for position, entry in enumerate(entries):
        if len(header_lines) == len(entries):
            where = f"{origin}:{header_lines[position]}"
        else:
            where = f"{origin}: template entry {position + 1}"
        template = _parse_template(entry, shared, where)
        if template.id in seen:
            first = seen[template.id]
            raise ValueError(f"{where}: duplicate template id {template.id!r} (first at {first})")
        seen[template.id] = where
        templates.append(template)
    return templates


def expand_template(
    template: Template, seed: int = 0, max_per_template: int = DEFAULT_MAX_PER_TEMPLATE
) -> list[CorpusExample]:
    """Up to ``max_per_template`` distinct examples from ``template``: every combination when
    there are that few, otherwise a sample of the cartesian product that depends only on the
    seed and the template id (not on file order or ``PYTHONHASHSEED``)."""
    _check_cap(max_per_template)
    total = template.combinations
    if total <= max_per_template:
        indices: Iterable[int] = range(total)
    else:
        rng = random.Random(f"{seed}:{template.id}")
        indices = rng.sample(range(total), min(total, max_per_template * _OVERDRAW))
    source = f"{TEMPLATE_PREFIX}{template.id}"
    examples: list[CorpusExample] = []
    seen: set[str] = set()
    for index in indices:
        text = template.render(index)
        key = _dedup_key(text)
        if key in seen:
            continue
        where = f"{template.origin}: template {template.id!r}"
        if not text:
            raise ValueError(f"{where}: combination {index} renders an empty text")
        _check_language(text, template.lang, where)
        seen.add(key)
        examples.append(CorpusExample(text, template.tier, template.categories, source))
        if len(examples) == max_per_template:
            break
    return examples


def load_corpus(
    expand_templates: bool = True,
    seed: int = 0,
    *,
    max_per_template: int = DEFAULT_MAX_PER_TEMPLATE,
    directory: Path | None = None,
) -> list[CorpusExample]:
    """The hand-written examples, then (with ``expand_templates``) each template's expansions.

    ``directory`` reads ``written.jsonl`` and ``templates.toml`` from a folder instead of the
    shipped package data (tests, or a corpus under review). The result has no two texts that
    differ only in case or spacing: an expansion that repeats an earlier text with the same
    labels is dropped, and one with different labels is a ``ValueError``.
    """
    _check_cap(max_per_template)
    written = load_written(None if directory is None else Path(directory) / WRITTEN_FILE)
    if not expand_templates:
        return written
    templates = load_templates(None if directory is None else Path(directory) / TEMPLATES_FILE)
    corpus = list(written)
    owners: dict[str, CorpusExample] = {_dedup_key(example.text): example for example in written}
    for template in templates:
        for example in expand_template(template, seed, max_per_template):
            key = _dedup_key(example.text)
            earlier = owners.get(key)
            if earlier is None:
                owners[key] = example
                corpus.append(example)
            elif (earlier.tier, earlier.categories) != (example.tier, example.categories):
                raise ValueError(
                    f"{template.origin}: template {template.id!r} renders {example.text!r} "
                    f"with tier {example.tier} {sorted(example.categories)}, but "
                    f"{earlier.source} has it with tier {earlier.tier} "
                    f"{sorted(earlier.categories)}"
                )
    return corpus


def _read(name: str, path: Path | None) -> tuple[str, str]:
    if path is None:
        shipped = resources.files(_PACKAGE).joinpath(*_RESOURCE_DIR, name)
        origin = "/".join((_PACKAGE, *_RESOURCE_DIR, name))
        try:
            return shipped.read_bytes().decode("utf-8"), origin
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{origin}: cannot read corpus file: {exc}") from exc
    try:
        return Path(path).read_text(encoding="utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read corpus file: {exc}") from exc


def _parse_written_line(line: str, where: str) -> CorpusExample:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not valid JSON: {exc.msg}") from exc
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object")
    missing = sorted(_WRITTEN_KEYS - set(record))
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(record) - _WRITTEN_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    text = _check_text(record["text"], where)
    source = record["source"]
    if (
        not isinstance(source, str)
        or not source.startswith(WRITTEN_PREFIX)
        or source == WRITTEN_PREFIX
    ):
        raise ValueError(f"{where}: source must be {WRITTEN_PREFIX!r} and a name, got {source!r}")
    tier, categories = _check_labels(record["tier"], record["categories"], where)
    return CorpusExample(text, tier, categories, source)


def _parse_template(entry: Any, shared: Mapping[str, tuple[str, ...]], where: str) -> Template:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a table")
    origin = where
    if isinstance(entry.get("id"), str):
        where = f"{where}: template {entry['id']!r}"
    missing = [key for key in _TEMPLATE_REQUIRED if key not in entry]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(entry) - _TEMPLATE_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    template_id = entry["id"]
    if not isinstance(template_id, str) or not _TEMPLATE_ID.match(template_id):
        raise ValueError(f"{where}: id must be lower-case letters, digits, '-' or '_'")
    lang = entry["lang"]
    if lang not in LANGUAGES:
        raise ValueError(f"{where}: lang {lang!r} is not one of {sorted(LANGUAGES)}")
    tier, categories = _check_labels(entry["tier"], entry["categories"], where)
    pattern = entry["pattern"]
    if not isinstance(pattern, str) or not pattern.strip():
        raise ValueError(f"{where}: pattern must be a non-empty string")
    local = _parse_slots(entry.get("slots", {}), f"{where}: slots")
    used = _pattern_slots(pattern, where)
    if not used:
        raise ValueError(f"{where}: pattern has no {{slots}}; write it in written.jsonl instead")
    unused = sorted(set(local) - set(used))
    if unused:
        raise ValueError(f"{where}: slot(s) {', '.join(unused)} not used in the pattern")
    slots: list[tuple[str, tuple[str, ...]]] = []
    for name in used:
        values = local.get(name, shared.get(name))
        if values is None:
            raise ValueError(f"{where}: slot {{{name}}} is defined neither here nor in [slots]")
        slots.append((name, values))
    return Template(template_id, lang, tier, categories, pattern, tuple(slots), origin)


def _parse_slots(table: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table of slot lists")
    slots: dict[str, tuple[str, ...]] = {}
    for name, values in table.items():
        if not _NAME.match(name):
            raise ValueError(f"{where}: slot name {name!r} must be lower_snake_case")
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}: slot {name!r} must be a non-empty list of strings")
        if not all(isinstance(value, str) for value in values):
            raise ValueError(f"{where}: slot {name!r} must hold only strings")
        if len(set(values)) != len(values):
            raise ValueError(f"{where}: slot {name!r} repeats a value")
        slots[name] = tuple(values)
    return slots


def _pattern_slots(pattern: str, where: str) -> list[str]:
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ValueError(f"{where}: bad pattern: {exc}") from exc
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not _NAME.match(name) or spec or conversion:
            raise ValueError(f"{where}: bad slot {{{name}}} in pattern; use plain {{slot_name}}")
        if name not in names:
            names.append(name)
    return names


def _check_labels(tier: Any, categories: Any, where: str) -> tuple[int, frozenset[str]]:
    if isinstance(tier, bool) or not isinstance(tier, int) or not 0 <= tier <= MAX_TIER:
        raise ValueError(f"{where}: tier must be an integer 0-{MAX_TIER}, got {tier!r}")
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise ValueError(f"{where}: categories must be a list of strings")
    unknown = sorted(set(categories) - CATEGORIES)
    if unknown:
        raise ValueError(f"{where}: unknown categories {', '.join(unknown)}")
    if len(set(categories)) != len(categories):
        raise ValueError(f"{where}: a category is repeated")
    if tier == 0 and categories:
        raise ValueError(f"{where}: a tier-0 example has no categories")
    if tier > 0 and not categories:
        raise ValueError(f"{where}: a tier-{tier} example needs at least one category")
    if ABUSE_SUBTYPES.intersection(categories) and "abuse" not in categories:
        raise ValueError(f"{where}: an abuse subtype needs 'abuse' too")
    return tier, frozenset(categories)


def _check_text(text: Any, where: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: text must be a non-empty string")
    if text != text.strip():
        raise ValueError(f"{where}: text has leading or trailing whitespace")
    return text


def _check_language(text: str, lang: str, where: str) -> None:
    found = text_language(text)
    if lang == "en" and found != "en":
        raise ValueError(f"{where}: lang 'en' but {text!r} has Chinese characters")
    if lang == "zh" and found == "en":
        raise ValueError(f"{where}: lang 'zh' but {text!r} has no Chinese characters")
    if lang == "mixed" and found != "mixed":
        raise ValueError(f"{where}: lang 'mixed' but {text!r} is not Chinese with English")


def _check_cap(max_per_template: int) -> None:
    if isinstance(max_per_template, bool) or max_per_template < 1:
        raise ValueError(f"max_per_template must be at least 1, got {max_per_template!r}")


def _tidy(text: str) -> str:
    """Spacing left by empty slot values: runs of spaces, a space before punctuation."""
    return _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", text)).strip()


def _dedup_key(text: str) -> str:
    return " ".join(text.casefold().split())
