"""What SoulChat says, in every language it speaks: one catalogue for the bots and the
operator desk. Adapters format; they do not write copy.

Each language of ``soulchat.locales`` has a module here (``en.py``, ``zh.py``) with the same
keys and the same ``{placeholders}``; a test holds them equal. Keys are grouped by prefix:
none for what the companion says, ``command.`` for the command menu, ``operator.`` for what
operators read, ``handover.`` for what a person is told about operators, ``tier.`` and
``outcome.`` for the names of risk tiers and case outcomes.
"""

from __future__ import annotations

import importlib

from soulchat.locales import CODES, FALLBACK, language_of

TEXTS: dict[str, dict[str, str]] = {
    code: importlib.import_module(f"bots.texts.{code}").MESSAGES for code in CODES
}


def text(locale: str, key: str, /, **values: object) -> str:
    """The message ``key`` in ``locale`` (a client tag is fine: "zh-TW" reads "zh")."""
    table = TEXTS.get(locale) or TEXTS.get(language_of(locale)) or TEXTS[FALLBACK]
    return table[key].format(**values) if values else table[key]
