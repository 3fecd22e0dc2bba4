"""Text normalisation shared by the inbound screen and the output filter.

Rules are written against one canonical form so that each pattern does not have to spell out
every variant a person might type:

* NFKC (full-width letters, digits and punctuation become half-width), then casefold;
* traditional Chinese folded onto simplified (see ``safety.lexicon.t2s``);
* zero-width characters and emoji variation selectors removed (they split words invisibly);
* apostrophes removed, so "I'm" / "I’m" / "Im" all read ``im`` and "don't" reads ``dont``;
* other punctuation and symbols become a single space, except a decimal point or thousands
  separator between digits;
* between two Chinese characters, whitespace and hesitation marks (``…``, ``~``, ``-``, ``.``)
  vanish, so "我 不 想…活了" reads ``我不想活了``; clause punctuation (，。！？) stays a space so
  that "好累，死了算了" does not read as the idiom 累死了;
* a space is put between Chinese and Latin letters so that ``\\b`` works in mixed text.

Emoji (category So) are kept: a pill emoji is one of the strongest risk signals there is.
"""

from __future__ import annotations

import re
import unicodedata

from safety.lexicon.t2s import TRADITIONAL_TO_SIMPLIFIED

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_APOSTROPHES = "'\u2018\u2019\u02bc\u02b9`\u00b4\u2032"
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ufe00-\ufe0f]")
# Decimal points and thousands separators survive: "2.5g" is a dose, not "2 5g".
_NUMBER_PUNCT = re.compile(r"(?<=\d)[.,](?=\d)")
_PLACEHOLDER = {".": "\ue000", ",": "\ue001"}
# Punctuation first becomes this private-use mark, so it can be told apart from whitespace
# between Chinese characters, then a plain space at the end.
_BREAK = "\ue002"
# Marks people drop inside a Chinese phrase while hesitating or dodging a filter.
_SOFT_SEPARATORS = re.compile(rf"(?<=[{_CJK}])[\s\u2026~\-_.*\u00b7\u2022\u2014]+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_CJK_LATIN = re.compile(rf"(?<=[{_CJK}])(?=[a-z])|(?<=[a-z])(?=[{_CJK}])")
_CJK_DIGIT_SPACE = re.compile(rf"(?<=[{_CJK}]) (?=\d)|(?<=\d) (?=[{_CJK}])")


def _separator_table() -> dict[int, str | None]:
    """Map whitespace to a space, punctuation and non-emoji symbols to _BREAK."""
    table: dict[int, str | None] = {}
    for code in range(0x30000):  # nothing above the supplementary ideographs needs mapping
        char = chr(code)
        category = unicodedata.category(char)
        if char.isspace() or category[0] == "Z":
            table[code] = " "
        elif category[0] == "P" or category in ("Cc", "Sm", "Sk", "Sc"):
            table[code] = _BREAK
    for char in _APOSTROPHES:
        table[ord(char)] = None
    for traditional, simplified in TRADITIONAL_TO_SIMPLIFIED.items():
        table[ord(traditional)] = simplified
    # "…", "~", "-", "_", "*", "·", "•", "—" stay until _SOFT_SEPARATORS has looked at them.
    for char in "\u2026~-_.*\u00b7\u2022\u2014":
        del table[ord(char)]
    return table


_TABLE = _separator_table()
_LEFTOVER = re.compile(r"[\u2026~\-_.*\u00b7\u2022\u2014]+")


def normalize(text: str) -> str:
    """Return the canonical form every lexicon pattern is matched against."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _INVISIBLE.sub("", text)
    text = _NUMBER_PUNCT.sub(lambda m: _PLACEHOLDER[m.group()], text)
    text = text.translate(_TABLE)
    text = _SOFT_SEPARATORS.sub("", text)
    text = _LEFTOVER.sub(" ", text).replace(_BREAK, " ")
    text = text.replace(_PLACEHOLDER["."], ".").replace(_PLACEHOLDER[","], ",")
    text = _SPACES.sub(" ", text)
    text = _CJK_LATIN.sub(" ", text)
    text = _CJK_DIGIT_SPACE.sub("", text)
    return text.strip()
