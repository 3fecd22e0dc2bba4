"""Crisis lines (data in ``safety/data/crisis_resources.toml``) and the notice built from them.

The shipped file was written offline from the project's domain notes; each entry records its
source and the date it was last verified so that stale numbers are visible in review.
"""

from __future__ import annotations

import datetime
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from safety.locales import SUPPORTED, language

_REQUIRED = ("name", "contact", "region", "locale", "source", "last_verified")
_KNOWN = frozenset((*_REQUIRED, "emergency", "note"))


@dataclass(frozen=True)
class CrisisLine:
    name: str
    contact: str
    region: str
    locale: str
    source: str
    last_verified: datetime.date
    emergency: bool = False
    note: str = ""


def load_crisis_lines(path: Path | None = None) -> list[CrisisLine]:
    """Read crisis lines; ``None`` reads the shipped file. A malformed file is a ValueError
    that names the file and the entry, so a bad deployment fails at start-up, not mid-crisis."""
    if path is None:
        shipped = resources.files("safety").joinpath("data", "crisis_resources.toml")
        return _parse(shipped.read_bytes().decode("utf-8"), "safety/data/crisis_resources.toml")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read crisis resources file: {exc}") from exc
    return _parse(text, str(path))


def _parse(text: str, origin: str) -> list[CrisisLine]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{origin}: not valid TOML: {exc}") from exc
    entries = document.get("line")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{origin}: expected one or more [[line]] entries")
    return [
        _entry(entry, f"{origin}: line entry {index}") for index, entry in enumerate(entries, 1)
    ]


def _entry(entry: Any, where: str) -> CrisisLine:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a table")
    if isinstance(entry.get("name"), str):
        where = f"{where} ({entry['name']!r})"
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(entry) - _KNOWN)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for key in ("name", "contact", "region", "locale", "source", "note"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
            raise ValueError(f"{where}: {key} must be a non-empty string")
    if entry["locale"] not in SUPPORTED:
        raise ValueError(f"{where}: locale {entry['locale']!r} is not one of {SUPPORTED}")
    if not entry["source"].startswith(("https://", "http://")):
        raise ValueError(f"{where}: source must be the organisation's web address")
    verified = entry["last_verified"]
    # A TOML datetime is also a date; a verification date has no time of day.
    if not isinstance(verified, datetime.date) or isinstance(verified, datetime.datetime):
        raise ValueError(f"{where}: last_verified must be a date such as 2026-11-25")
    emergency = entry.get("emergency", False)
    if not isinstance(emergency, bool):
        raise ValueError(f"{where}: emergency must be true or false")
    return CrisisLine(
        name=entry["name"],
        contact=entry["contact"],
        region=entry["region"],
        locale=entry["locale"],
        source=entry["source"],
        last_verified=verified,
        emergency=emergency,
        note=entry.get("note", ""),
    )


_TEXTS: dict[str, dict[str, str]] = {
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
    },
    "zh": {
        "intro": "你不必独自承受这些。现在就可以联系能帮助你的人：",
        "urgent": "你的安全现在最重要。请立刻拨打急救电话，或请身边的人帮你拨打：",
        "elsewhere": "如果你不在中国大陆，请拨打当地的急救电话或心理援助热线。",
        "item": "• {name}（{region}）：{contact}",
    },
}


def crisis_notice(locale: str, lines: list[CrisisLine], tier: int) -> str:
    """A short, warm notice listing the lines for ``locale`` (unsupported locales get "en").
    From tier 4 (imminent) emergency numbers come first; below that, crisis lines do."""
    lang = language(locale)
    chosen = [line for line in lines if line.locale == lang]
    if not chosen and lang != "en":
        lang, chosen = "en", [line for line in lines if line.locale == "en"]
    urgent = tier >= 4
    # sorted() is stable, so the file's order is kept within each group.
    chosen = sorted(chosen, key=lambda line: line.emergency != urgent)
    texts = _TEXTS[lang]
    listed = [
        texts["item"].format(name=line.name, region=line.region, contact=line.contact)
        for line in chosen
    ]
    return "\n".join([texts["urgent" if urgent else "intro"], *listed, texts["elsewhere"]])
