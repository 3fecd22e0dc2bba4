"""A bounded memory of keys seen lately: "say this once per group" without remembering every
group ever seen. The oldest key is forgotten first; a forgotten key is simply new again, so a
group the bot has not heard from in a long while may see a hint a second time."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

REMEMBERED = 10_000


class RecentKeys:
    def __init__(self, size: int = REMEMBERED) -> None:
        if size < 1:
            raise ValueError("RecentKeys needs room for at least one key")
        self.size = size
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def first_time(self, key: Hashable) -> bool:
        """True the first time ``key`` is seen (or the first time since it was forgotten);
        either way it is remembered now, as the newest."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return False
        self._keys[key] = None
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._keys)
