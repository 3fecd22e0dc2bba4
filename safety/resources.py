"""Crisis lines (data in ``safety/data/crisis_resources.toml``) and the texts built from them.

Lines are chosen by **region** where one is known, then by language. The region (an ISO
3166-1 alpha-2 code such as AU) comes from the person's own choice, the region in their
client's language tag, or the deployment's default (``soulchat.locales.effective_region``).
A known region with lines gets that region's lines, in the person's language where the file
has them and always with the region's emergency number; anything else gets the lines the
file names for the language (``[default_regions]``), as before regions existed.

The shipped file was written offline; each entry records its source and the date it was
last verified so that stale numbers are visible in review.
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from soulchat.locales import CODES, language_of, normalize_region

# A footer shows at most this many contacts, unless a region's emergency number or one line
# per region shown needs more: the footer is one line under every reply, not the full list.
FOOTER_CONTACTS = 4

_REGION_CODE = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class CrisisLine:
    name: str
    contact: str
    region: str  # the region's name as shown ("Australia", "香港")
    locale: str  # the language the line's name and the notice around it are written in
    source: str
    last_verified: datetime.date
    emergency: bool = False
    note: str = ""
    region_codes: tuple[str, ...] = ()  # ISO 3166-1 alpha-2 codes of where it answers


class CrisisResources(Sequence[CrisisLine]):
    """The lines of one resources file, in file order, and the regions whose lines are shown
    for each language when the person's region is not known."""

    def __init__(
        self,
        lines: Iterable[CrisisLine],
        default_regions: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._lines = tuple(lines)
        self.default_regions: dict[str, tuple[str, ...]] = {
            lang: tuple(codes) for lang, codes in (default_regions or {}).items()
        }

    @overload
    def __getitem__(self, index: int) -> CrisisLine: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[CrisisLine]: ...

    def __getitem__(self, index: int | slice) -> CrisisLine | Sequence[CrisisLine]:
        return self._lines[index]

    def __len__(self) -> int:
        return len(self._lines)

    def __iter__(self) -> Iterator[CrisisLine]:
        return iter(self._lines)

    def __repr__(self) -> str:
        return f"CrisisResources({len(self._lines)} lines, regions {', '.join(self.regions)})"

    @property
    def regions(self) -> tuple[str, ...]:
        """The region codes that have lines, in file order."""
        return regions_of(self._lines)


def regions_of(lines: Iterable[CrisisLine]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(code for line in lines for code in line.region_codes))


# -- reading and validating a file --------------------------------------------------------------


def load_crisis_lines(path: Path | None = None) -> CrisisResources:
    """Read crisis lines; ``None`` reads the shipped file. A malformed file is a ValueError
    that names the file, the entry and the field, so a bad deployment fails at start-up, not
    mid-crisis. The result is a sequence of ``CrisisLine`` in file order."""
    if path is None:
        shipped = resources.files("safety").joinpath("data", "crisis_resources.toml")
        return _parse(shipped.read_bytes().decode("utf-8"), "safety/data/crisis_resources.toml")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read crisis resources file: {exc}") from exc
    return _parse(text, str(path))


def _region_code(code: str) -> str:
    if code == "UK":
        raise ValueError("'UK' is not an ISO 3166-1 code: the United Kingdom is 'GB'")
    if not _REGION_CODE.fullmatch(code):
        raise ValueError(
            f"{code!r} is not an ISO 3166-1 alpha-2 code (two capital letters, such as 'AU')"
        )
    return code


class _LineEntry(BaseModel):
    """One ``[[line]]`` table. Strict: a TOML string is not a date, nor "yes" a boolean."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str
    contact: str
    region: str
    region_codes: list[str] = Field(min_length=1)
    locale: str
    source: str
    last_verified: datetime.date
    emergency: bool = False
    note: str = ""

    @field_validator("name", "contact", "region", "source", "note")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-empty string")
        return value

    @field_validator("region_codes")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        for code in codes:
            _region_code(code)
        if len(set(codes)) != len(codes):
            raise ValueError("lists a region twice")
        return codes

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in CODES:
            raise ValueError(f"{value!r} is not one of {', '.join(CODES)}")
        return value

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"must be the organisation's web address (https://…), got {value!r}")
        return value

    @field_validator("last_verified")
    @classmethod
    def _not_in_future(cls, value: datetime.date) -> datetime.date:
        # A date ahead of today would hide the line from the staleness check (a day of
        # slack for time zones).
        if value > datetime.date.today() + datetime.timedelta(days=1):
            raise ValueError(f"{value} is in the future")
        return value

    def line(self) -> CrisisLine:
        return CrisisLine(
            name=self.name,
            contact=self.contact,
            region=self.region,
            locale=self.locale,
            source=self.source,
            last_verified=self.last_verified,
            emergency=self.emergency,
            note=self.note,
            region_codes=tuple(self.region_codes),
        )


class _Document(BaseModel):
    """The file: ``[default_regions]`` and the ``[[line]]`` entries (each validated on its
    own, so that an error names its entry)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    default_regions: dict[str, list[str]] = Field(default_factory=dict)
    line: list[Any]

    @field_validator("default_regions")
    @classmethod
    def _defaults(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for lang, codes in value.items():
            if lang not in CODES:
                raise ValueError(f"{lang!r} is not one of {', '.join(CODES)}")
            if not codes:
                raise ValueError(f"{lang}: lists no region")
            for code in codes:
                _region_code(code)
        return value


_MEANING = {
    "name": "a non-empty string",
    "contact": "a non-empty string (what the person dials or texts)",
    "region": "the region's name as shown, a non-empty string",
    "region_codes": 'a list of ISO 3166-1 alpha-2 codes such as ["AU"]',
    "locale": f"one of {', '.join(CODES)}",
    "source": "the organisation's web address (https://…)",
    "last_verified": "a date such as 2026-11-25",
    "emergency": "true or false",
    "note": "a non-empty string",
    "default_regions": 'a table of region code lists by language, such as en = ["US"]',
}


def _problems(exc: ValidationError) -> str:
    """pydantic's errors as one sentence per field: "missing source", "unknown field sorce",
    "last_verified must be a date such as 2026-11-25 (got 'soon')"."""
    said: list[str] = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "entry"
        if error["type"] == "missing":
            problem = f"missing {field}"
        elif error["type"] == "extra_forbidden":
            problem = f"unknown field {field}"
        elif error["type"] == "value_error":
            problem = f"{field} {error['ctx']['error']}"
        else:
            given = error.get("input")
            problem = f"{field} must be {_MEANING.get(field, 'valid')} (got {given!r})"
        if problem not in said:
            said.append(problem)
    return "; ".join(said)


def _parse(text: str, origin: str) -> CrisisResources:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{origin}: not valid TOML: {exc}") from exc
    if not isinstance(raw.get("line"), list) or not raw["line"]:
        raise ValueError(f"{origin}: expected one or more [[line]] entries")
    try:
        document = _Document.model_validate(raw)
    except ValidationError as exc:
        raise ValueError(f"{origin}: {_problems(exc)}") from None
    lines = [
        _entry(entry, f"{origin}: line entry {index}")
        for index, entry in enumerate(document.line, 1)
    ]
    for lang, codes in document.default_regions.items():
        for code in codes:
            if not any(code in line.region_codes and line.locale == lang for line in lines):
                raise ValueError(
                    f"{origin}: default_regions: {lang} lists {code!r}, which has no lines "
                    f'with locale = "{lang}"'
                )
    return CrisisResources(lines, document.default_regions)


def _entry(entry: Any, where: str) -> CrisisLine:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a table")
    if isinstance(entry.get("name"), str):
        where = f"{where} ({entry['name']!r})"
    try:
        return _LineEntry.model_validate(entry).line()
    except ValidationError as exc:
        raise ValueError(f"{where}: {_problems(exc)}") from None


# -- choosing lines ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """The lines to show someone and the language of the text around them."""

    language: str
    lines: tuple[CrisisLine, ...]
    region: str | None  # whose lines these are; None: the language's default lines


def select_lines(lines: Sequence[CrisisLine], locale: str, region: str | None = None) -> Selection:
    """The lines for ``region`` (an ISO 3166-1 alpha-2 code) if the file has any: those in the
    person's language, else in English, else in the region's first language, and in any case
    the region's emergency numbers. Otherwise the lines of the language (unsupported: "en";
    no lines in it: English) from the regions the file names for it in ``[default_regions]``
    (a plain list of lines, or a file without that table: all of the language's lines)."""
    lang = language_of(locale)
    code = normalize_region(region)
    regional = [line for line in lines if code is not None and code in line.region_codes]
    if code is not None and regional:
        return Selection(lang, tuple(_in_language(regional, lang)), code)
    chosen = [line for line in lines if line.locale == lang]
    if not chosen and lang != "en":
        lang, chosen = "en", [line for line in lines if line.locale == "en"]
    defaults = lines.default_regions.get(lang) if isinstance(lines, CrisisResources) else None
    if defaults:
        chosen = [line for line in chosen if set(line.region_codes) & set(defaults)]
    return Selection(lang, tuple(chosen), None)


def _in_language(regional: list[CrisisLine], lang: str) -> list[CrisisLine]:
    present = list(dict.fromkeys(line.locale for line in regional))
    use = lang if lang in present else "en" if "en" in present else present[0]
    chosen = [line for line in regional if line.locale == use]
    if not any(line.emergency for line in chosen):
        # Never without the emergency number, even if the file has it in another language.
        seen: set[str] = set()
        for line in regional:
            if line.emergency and line.contact not in seen:
                seen.add(line.contact)
                chosen.append(line)
    return chosen


def _urgent_first(lines: Iterable[CrisisLine], tier: int) -> list[CrisisLine]:
    """From tier 4 (imminent) emergency numbers come first; below that, crisis lines do.
    sorted() is stable, so the file's order is kept within each group."""
    return sorted(lines, key=lambda line: line.emergency != (tier >= 4))


def footer_lines(selection: Selection, tier: int) -> list[CrisisLine]:
    """What fits one line: every emergency number of the selection, and crisis lines up to
    FOOTER_CONTACTS in all, taken in turn from each region shown (one per region at least)."""
    emergency = [line for line in selection.lines if line.emergency]
    by_region: dict[tuple[str, ...], list[CrisisLine]] = {}
    for line in selection.lines:
        if not line.emergency:
            by_region.setdefault(line.region_codes, []).append(line)
    room = max(FOOTER_CONTACTS - len(emergency), len(by_region))
    taken: list[CrisisLine] = []
    depth = 0
    while len(taken) < room and any(depth < len(group) for group in by_region.values()):
        taken.extend(group[depth] for group in by_region.values() if depth < len(group))
        depth += 1
    kept = {id(line) for line in (*emergency, *taken[:room])}
    return _urgent_first((line for line in selection.lines if id(line) in kept), tier)


def region_choices(lines: Sequence[CrisisLine], locale: str) -> list[tuple[str, str]]:
    """(code, name) of every region with lines, in file order, named in ``locale``'s language
    where the file has a line in it: what a ``/region`` command offers."""
    lang = language_of(locale)
    choices: list[tuple[str, str]] = []
    for code in regions_of(lines):
        regional = [line for line in lines if code in line.region_codes]
        named = next((line for line in regional if line.locale == lang), regional[0])
        choices.append((code, named.region))
    return choices


# -- texts --------------------------------------------------------------------------------------

NOTICE_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "intro": "You don't have to go through this alone. You can reach someone right now:",
        "urgent": (
            "Your safety matters most right now. Please contact emergency services now, "
            "or ask someone near you to call for you:"
        ),
        "elsewhere": (
            "If you're somewhere else, please call your local emergency number or a crisis "
            "line where you are."
        ),
        "item": "• {name} ({region}): {contact}",
        "footer": "If you need someone now: ",
    },
    "zh": {
        "intro": "你不必独自承受这些。现在就可以联系能帮助你的人：",
        "urgent": "你的安全现在最重要。请立刻拨打急救电话，或请身边的人帮你拨打：",
        "elsewhere": "如果你在其他地方，请拨打当地的急救电话或心理援助热线。",
        "item": "• {name}（{region}）：{contact}",
        "footer": "如果你需要现在就和人聊聊：",
    },
}


def crisis_notice(
    locale: str, lines: Sequence[CrisisLine], tier: int, region: str | None = None
) -> str:
    """A short, warm notice listing the lines ``select_lines`` chooses for ``locale`` and
    ``region``. From tier 4 (imminent) emergency numbers come first; below that, crisis
    lines do."""
    selection = select_lines(lines, locale, region)
    texts = NOTICE_TEXTS[selection.language]
    listed = [
        texts["item"].format(name=line.name, region=line.region, contact=line.contact)
        for line in _urgent_first(selection.lines, tier)
    ]
    return "\n".join([texts["urgent" if tier >= 4 else "intro"], *listed, texts["elsewhere"]])


def resources_footer(
    locale: str, lines: Sequence[CrisisLine], tier: int, region: str | None = None
) -> str:
    """One line of crisis contacts to go with every reply while someone is at risk: the
    region's lines (or the language's), never without an emergency number they have."""
    selection = select_lines(lines, locale, region)
    contacts = " · ".join(
        f"{line.name} ({line.region}): {line.contact}" for line in footer_lines(selection, tier)
    )
    return NOTICE_TEXTS[selection.language]["footer"] + contacts
