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

Every rule is checked on load: bad data is a ``ValueError`` naming the file, the line (or the
template) and the field, so a broken edit fails in the tests, not in a training run. A line of
``written.jsonl`` and a ``[[template]]`` table are pydantic models (``_WrittenLine``,
``_TemplateEntry``): the JSON is parsed and checked in one pass, and each pydantic error is said
in the corpus's own words (``written.jsonl:12: tier: must be an integer 0-4, got 5``).
"""

from __future__ import annotations

import random
import re
import string
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

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
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
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


# --- the two record formats, as pydantic models ---------------------------------------------
# What a field must be, for the error message when pydantic's own check of it fails.
_EXPECTED = {
    "text": "a non-empty string",
    "tier": f"an integer 0-{MAX_TIER}",
    "categories": "a list of strings",
    "source": f"{WRITTEN_PREFIX!r} and a name",
    "id": "lower-case letters, digits, '-' or '_'",
    "lang": f"one of {sorted(LANGUAGES)}",
    "pattern": "a non-empty string",
    "slots": "a table of slot lists",
}


def _problem(message: str) -> PydanticCustomError:
    """A rule of the corpus broken; ``message`` is said as it is (no pydantic prefix)."""
    return PydanticCustomError("corpus", message)


def _check_text(text: str) -> str:
    if not text.strip():
        raise _problem(f"must be a non-empty string, got {text!r}")
    if text != text.strip():
        raise _problem("has leading or trailing whitespace")
    return text


def _distinct_values(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise _problem("repeats a value")
    return values


SlotName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]  # _NAME, in pydantic's regex
SlotValues = Annotated[list[str], Field(min_length=1), AfterValidator(_distinct_values)]
SlotTable = dict[SlotName, SlotValues]


class _Labelled(BaseModel):
    """Tier and categories, and the rules that tie them together."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    tier: Annotated[int, Field(ge=0, le=MAX_TIER)]
    categories: list[str]

    @field_validator("categories")
    @classmethod
    def _consistent_with_tier(cls, categories: list[str], info: ValidationInfo) -> list[str]:
        tier = info.data.get("tier")  # absent when the tier itself was refused
        if not categories:
            if tier:
                raise _problem(f"a tier-{tier} example needs at least one category")
            return categories
        unknown = sorted(set(categories) - CATEGORIES)
        if unknown:
            raise _problem(f"unknown categories {', '.join(unknown)}")
        if len(set(categories)) != len(categories):
            raise _problem("a category is repeated")
        if tier == 0:
            raise _problem("a tier-0 example has no categories")
        if ABUSE_SUBTYPES.intersection(categories) and "abuse" not in categories:
            raise _problem("an abuse subtype needs 'abuse' too")
        return categories


class _WrittenLine(_Labelled):
    """One line of ``written.jsonl``."""

    text: Annotated[str, AfterValidator(_check_text)]
    source: Annotated[str, Field(pattern=rf"^{WRITTEN_PREFIX}.")]


class _TemplateEntry(_Labelled):
    """One ``[[template]]`` table of ``templates.toml``."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    lang: Literal["en", "zh", "mixed"]
    pattern: Annotated[str, Field(pattern=r"\S")]
    slots: SlotTable = Field(default_factory=dict)


class _TemplatesFile(BaseModel):
    """The document: the shared ``[slots]`` table and the templates (each checked on its own,
    so that an error can name its ``[[template]]`` line)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    slots: SlotTable = Field(default_factory=dict)
    template: list[dict[str, Any]] = Field(default_factory=list)


def _describe(exc: ValidationError) -> str:
    """A pydantic error in the corpus's words: ``field: problem``, missing and unknown fields
    listed together, the first other problem otherwise."""
    errors = exc.errors(include_url=False)
    missing = [_field(e["loc"]) for e in errors if e["type"] == "missing"]
    if missing:
        return f"missing {', '.join(sorted(missing))}"
    unknown = [_field(e["loc"]) for e in errors if e["type"] == "extra_forbidden"]
    if unknown:
        return f"unknown field(s) {', '.join(sorted(unknown))}"
    error = errors[0]
    loc = error["loc"]
    if error["type"] == "json_invalid":
        return f"not valid JSON: {_json_detail(error)}"
    if not loc:
        return "expected a JSON object" if error["type"] == "model_type" else error["msg"]
    where = _field(loc)
    if loc[0] == "slots" and len(loc) >= 2:
        return _slot_problem(loc, error)
    if error["type"] == "corpus":
        return f"{where}: {error['msg']}"
    expected = _EXPECTED.get(str(loc[0]))
    if expected is None:
        return f"{where}: {error['msg']}"
    if len(loc) > 1:  # one element of a list of strings (categories)
        return f"{where}: must be a string, got {_short(error['input'])}"
    return f"{where}: must be {expected}, got {_short(error['input'])}"


def _describe_document(exc: ValidationError) -> str:
    """A problem with the shape of ``templates.toml`` itself (the templates come later)."""
    errors = exc.errors(include_url=False)
    unknown = [_field(e["loc"]) for e in errors if e["type"] == "extra_forbidden"]
    if unknown:
        return f"unknown top-level key(s) {', '.join(sorted(unknown))}"
    error = errors[0]
    loc = error["loc"]
    if loc[0] == "slots":
        if len(loc) == 1:
            return "[slots]: expected a table of slot lists"
        return f"[slots]: {_slot_problem(loc, error)}"
    if len(loc) == 1:
        return "'template' must be an array of tables ([[template]])"
    return f"template entry {int(loc[1]) + 1}: expected a table"


def _slot_problem(loc: tuple[int | str, ...], error: ErrorDetails) -> str:
    name = str(loc[1])
    if len(loc) > 2 and loc[2] == "[key]":
        return f"slot name {name!r} must be lower_snake_case"
    if error["type"] == "corpus":
        return f"slot {name!r} {error['msg']}"
    if len(loc) > 2:
        return f"slot {name!r} must hold only strings"
    return f"slot {name!r} must be a non-empty list of strings"


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _json_detail(error: ErrorDetails) -> str:
    detail = str(error.get("ctx", {}).get("error", error["msg"])).replace("line 1 column", "column")
    if "surrogate" in detail or "hex escape" in detail:
        detail += " (an escape in \\ud800-\\udfff must be one half of a surrogate pair)"
    return detail


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
    return list(_keyed_written(path).values())


def _keyed_written(path: Path | None) -> dict[str, CorpusExample]:
    """The hand-written examples in file order, by their ``_dedup_key``."""
    text, origin = _read(WRITTEN_FILE, path)
    examples: dict[str, CorpusExample] = {}
    first_line: dict[str, int] = {}
    validate = _WrittenLine.model_validate_json
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = validate(line)
        except ValidationError as exc:
            raise ValueError(f"{origin}:{number}: {_describe(exc)}") from None
        key = _dedup_key(record.text)
        if key in first_line:
            raise ValueError(f"{origin}:{number}: duplicate text (first at line {first_line[key]})")
        first_line[key] = number
        categories = frozenset(record.categories)
        examples[key] = CorpusExample(record.text, record.tier, categories, record.source)
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
    try:
        parsed = _TemplatesFile.model_validate(document)
    except ValidationError as exc:
        raise ValueError(f"{origin}: {_describe_document(exc)}") from None
    shared = {name: tuple(values) for name, values in parsed.slots.items()}
    entries = parsed.template
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
    return [example for _, example in _keyed_expansion(template, seed, max_per_template)]


def _keyed_expansion(
    template: Template, seed: int, max_per_template: int
) -> list[tuple[str, CorpusExample]]:
    _check_cap(max_per_template)
    total = template.combinations
    if total <= max_per_template:
        indices: Iterable[int] = range(total)
    else:
        rng = random.Random(f"{seed}:{template.id}")
        indices = rng.sample(range(total), min(total, max_per_template * _OVERDRAW))
    source = f"{TEMPLATE_PREFIX}{template.id}"
    where = f"{template.origin}: template {template.id!r}"
    examples: list[tuple[str, CorpusExample]] = []
    seen: set[str] = set()
    for index in indices:
        text = template.render(index)
        key = _dedup_key(text)
        if key in seen:
            continue
        if not text:
            raise ValueError(f"{where}: combination {index} renders an empty text")
        _check_language(text, template.lang, where)
        seen.add(key)
        examples.append((key, CorpusExample(text, template.tier, template.categories, source)))
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
    owners = _keyed_written(None if directory is None else Path(directory) / WRITTEN_FILE)
    corpus = list(owners.values())
    if not expand_templates:
        return corpus
    templates = load_templates(None if directory is None else Path(directory) / TEMPLATES_FILE)
    for template in templates:
        for key, example in _keyed_expansion(template, seed, max_per_template):
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
        reader = shipped.read_bytes
    else:
        origin = str(path)
        reader = Path(path).read_bytes
    try:
        data = reader()
    except OSError as exc:
        raise ValueError(f"{origin}: cannot read corpus file: {exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(f"{origin}:{line}: invalid UTF-8 at byte {exc.start}") from None
    # As read_text would: universal newlines, so that line numbers and splitlines agree.
    return text.replace("\r\n", "\n").replace("\r", "\n"), origin


def _parse_template(
    entry: dict[str, Any], shared: Mapping[str, tuple[str, ...]], where: str
) -> Template:
    origin = where
    if isinstance(entry.get("id"), str):
        where = f"{where}: template {entry['id']!r}"
    try:
        record = _TemplateEntry.model_validate(entry)
    except ValidationError as exc:
        raise ValueError(f"{where}: {_describe(exc)}") from None
    pattern = record.pattern
    local = {name: tuple(values) for name, values in record.slots.items()}
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
    categories = frozenset(record.categories)
    return Template(record.id, record.lang, record.tier, categories, pattern, tuple(slots), origin)


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
