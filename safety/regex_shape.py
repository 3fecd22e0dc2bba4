"""What a regular expression can cost, read from its structure rather than timed.

Python's ``re`` backtracks and promises nothing about time: ``\\d+楼`` costs the square of a
run of digits, because every start inside the run reads the rest of it. The lexicon is made
linear by construction instead, with two properties every rule must have (``safety.rules``
refuses a rule without them):

1. **Bounded reach.** Every quantifier has a finite maximum (``{0,40}``, never ``*``, ``+``
   or ``{2,}``), so one match attempt reads a bounded stretch of text from where it starts,
   lookaheads included (``Shape.reach``). A search tries each start once, so a rule costs at
   most (characters) x (what one attempt can cost), and the second factor depends on the
   pattern alone, never on the message.
2. **One way to split a repeat.** A repeated group (maximum above one) must split a given
   text into its repetitions one way only, or backtracking retries every other split
   (``(?: (?:want|want to|to)){0,8}`` reads "want to want to ..." in 2^n ways). Either its
   body is deterministic on one character of lookahead (at each choice inside it, the
   alternatives begin with different characters, and a run of one character class stops at
   a character the class does not contain: ``(?:\\w{1,40} ){0,3}``), or, where the body is a
   finite set of strings, that set is a uniquely decodable code (checked exactly with the
   Sardinas-Patterson test). ``Shape.hazards`` lists each repeat that fails.

The analysis reads the parse tree of ``re._parser`` (the stdlib's own parser, so it sees the
pattern exactly as the engine does).
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# The stdlib's own parser and its opcodes (private modules, without type stubs).
sre: Any = importlib.import_module("re._constants")
sre_parse: Any = importlib.import_module("re._parser")

__all__ = ["Shape", "shape", "uniquely_decodable"]

_UNBOUNDED = sre.MAXREPEAT
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_SINGLE = (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY)
# The most strings a repeated body may spell out for the exact (Sardinas-Patterson) check.
_ENUMERATION_LIMIT = 4000

Item = tuple[Any, Any]


@dataclass(frozen=True)
class Shape:
    """``reach``: the most characters one match attempt reads from its start (lookaheads
    included; None when a quantifier is unbounded). ``behind``: the most a lookbehind reads
    before the start. ``hazards``: repeats that can split the same text more than one way."""

    reach: int | None
    behind: int
    hazards: tuple[str, ...]


def shape(pattern: str, flags: int = 0) -> Shape:
    tree = sre_parse.parse(pattern, flags)
    fold = bool(tree.state.flags & sre.SRE_FLAG_IGNORECASE)
    dotall = bool(tree.state.flags & sre.SRE_FLAG_DOTALL)
    analysis = _Analysis(fold, dotall)
    _, reach = analysis.width(tree.data)
    hazards: list[str] = []
    analysis.walk(tree.data, frozenset({_END}), hazards, conflicts=None)
    return Shape(reach=reach, behind=analysis.behind, hazards=tuple(dict.fromkeys(hazards)))


# ---- character sets ----------------------------------------------------------------------
# A FIRST or FOLLOW set is a frozenset of these: ("lit", char), ("in", items), ("any",),
# or _END (the end of the pattern or of a lookaround: nothing more is read).
_END = ("end",)
Char = tuple[Any, ...]

# Category pairs no character belongs to both of.
_DISJOINT_CATEGORIES = {
    frozenset({sre.CATEGORY_WORD, sre.CATEGORY_SPACE}),
    frozenset({sre.CATEGORY_DIGIT, sre.CATEGORY_SPACE}),
    frozenset({sre.CATEGORY_SPACE, sre.CATEGORY_NOT_SPACE}),
    frozenset({sre.CATEGORY_DIGIT, sre.CATEGORY_NOT_DIGIT}),
    frozenset({sre.CATEGORY_WORD, sre.CATEGORY_NOT_WORD}),
}


def _in_category(category: Any, char: str) -> bool:
    if category == sre.CATEGORY_DIGIT:
        return char.isdecimal()
    if category == sre.CATEGORY_NOT_DIGIT:
        return not char.isdecimal()
    if category == sre.CATEGORY_SPACE:
        return char.isspace()
    if category == sre.CATEGORY_NOT_SPACE:
        return not char.isspace()
    if category == sre.CATEGORY_WORD:
        return char.isalnum() or char == "_"
    if category == sre.CATEGORY_NOT_WORD:
        return not (char.isalnum() or char == "_")
    if category == sre.CATEGORY_LINEBREAK:
        return char == "\n"
    if category == sre.CATEGORY_NOT_LINEBREAK:
        return char != "\n"
    return True  # unknown: assume it may contain anything


def _in_class(items: Sequence[Item], char: str, fold: bool) -> bool:
    variants = {v for v in (char, char.lower(), char.upper()) if len(v) == 1} if fold else {char}
    negated = bool(items) and items[0][0] == sre.NEGATE
    hit = False
    for op, av in items[1:] if negated else items:
        if op == sre.LITERAL:
            hit = any(ord(v) == av for v in variants)
        elif op == sre.RANGE:
            hit = any(av[0] <= ord(v) <= av[1] for v in variants)
        elif op == sre.CATEGORY:
            hit = any(_in_category(av, v) for v in variants)
        elif op == sre.NOT_LITERAL:
            hit = any(ord(v) != av for v in variants)
        else:
            hit = True  # unknown item: assume it matches
        if hit:
            break
    return hit != negated


def _finite_members(items: Sequence[Item]) -> list[str] | None:
    """The characters of a class made of literals and ranges only, else None."""
    members: list[str] = []
    for op, av in items:
        if op == sre.LITERAL:
            members.append(chr(av))
        elif op == sre.RANGE and av[1] - av[0] < 70000:
            members.extend(chr(c) for c in range(av[0], av[1] + 1))
        else:
            return None
    return members


def _categories(items: Sequence[Item]) -> set[Any] | None:
    if all(op == sre.CATEGORY for op, _ in items):
        return {av for _, av in items}
    return None


def _overlap(a: Char, b: Char, fold: bool, dotall: bool) -> bool:
    if a == _END or b == _END:
        return a == b
    if a[0] == "lit" and b[0] == "lit":
        return a[1] == b[1] or (fold and a[1].lower() == b[1].lower())
    if b[0] == "lit":
        a, b = b, a
    if a[0] == "lit":
        if b[0] == "any":
            return dotall or a[1] != "\n"
        return _in_class(b[1], a[1], fold)
    if a[0] == "any" or b[0] == "any":
        return True
    for one, other in ((a, b), (b, a)):
        members = _finite_members(one[1])
        if members is not None:
            return any(_in_class(other[1], m, fold) for m in members)
    cats_a, cats_b = _categories(a[1]), _categories(b[1])
    if cats_a is not None and cats_b is not None:
        return not all(frozenset({x, y}) in _DISJOINT_CATEGORIES for x in cats_a for y in cats_b)
    return True  # two classes this analysis cannot compare: assume they share a character


def _char_of(op: Any, av: Any, fold: bool) -> Char:
    if op == sre.LITERAL:
        char = chr(av)
        return ("lit", char.lower() if fold else char)
    if op == sre.IN:
        return ("in", tuple(av))
    if op == sre.NOT_LITERAL:
        return ("in", ((sre.NEGATE, None), (sre.LITERAL, av)))
    return ("any",)


# ---- the analysis --------------------------------------------------------------------------
class _Analysis:
    def __init__(self, fold: bool, dotall: bool) -> None:
        self.fold = fold
        self.dotall = dotall
        self.behind = 0

    # -- reach -------------------------------------------------------------------------------
    def width(self, items: Iterable[Item]) -> tuple[int | None, int | None]:
        """(most characters consumed, most characters read) by a sequence; None: unbounded."""
        consumed: int | None = 0
        read: int | None = 0
        for op, av in items:
            used, seen = self._item_width(op, av)
            read = (
                None
                if read is None or consumed is None or seen is None
                else max(read, consumed + seen)
            )
            consumed = None if consumed is None or used is None else consumed + used
        if read is not None and consumed is not None:
            read = max(read, consumed)
        return consumed, read

    def _item_width(self, op: Any, av: Any) -> tuple[int | None, int | None]:
        if op in _SINGLE:
            return 1, 1
        if op == sre.AT:
            return 0, 1  # \b looks at the next character
        if op == sre.SUBPATTERN:
            return self.width(av[3])
        if op == sre.ATOMIC_GROUP:
            return self.width(av)
        if op == sre.BRANCH:
            widths = [self.width(alternative) for alternative in av[1]]
            if any(c is None or r is None for c, r in widths):
                return None, None
            return max(c or 0 for c, _ in widths), max(r or 0 for _, r in widths)
        if op in _REPEATS:
            _, high, body = av
            if high == _UNBOUNDED:
                return None, None
            used, seen = self.width(body)
            if used is None or seen is None:
                return None, None
            if high == 0:
                return 0, 0
            return high * used, (high - 1) * used + seen
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            direction, body = av
            _, seen = self.width(body)
            if direction < 0:  # a lookbehind reads before the start, a fixed width
                self.behind = max(self.behind, seen or 0)
                return 0, 0
            return 0, seen
        if op == sre.GROUPREF_EXISTS:
            _, yes, no = av
            widths = [self.width(yes), self.width(no) if no else (0, 0)]
            if any(c is None or r is None for c, r in widths):
                return None, None
            return max(c or 0 for c, _ in widths), max(r or 0 for _, r in widths)
        return None, None  # a backreference reads as much as its group did

    # -- FIRST sets --------------------------------------------------------------------------
    def first(self, items: Sequence[Item]) -> tuple[frozenset[Char], bool]:
        """The characters a sequence can begin with, and whether it can match nothing."""
        chars: set[Char] = set()
        for op, av in items:
            item_chars, nullable = self._item_first(op, av)
            chars |= item_chars
            if not nullable:
                return frozenset(chars), False
        return frozenset(chars), True

    def _item_first(self, op: Any, av: Any) -> tuple[frozenset[Char], bool]:
        if op in _SINGLE:
            return frozenset({_char_of(op, av, self.fold)}), False
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            return frozenset(), True  # zero width: leaving the constraint out only adds
        if op == sre.SUBPATTERN:
            return self.first(av[3])
        if op == sre.ATOMIC_GROUP:
            return self.first(av)
        if op == sre.BRANCH:
            chars: set[Char] = set()
            nullable = False
            for alternative in av[1]:
                alt_chars, alt_nullable = self.first(alternative)
                chars |= alt_chars
                nullable = nullable or alt_nullable
            return frozenset(chars), nullable
        if op in _REPEATS:
            low, _, body = av
            chars_body, nullable = self.first(body)
            return chars_body, nullable or low == 0
        if op == sre.GROUPREF_EXISTS:
            _, yes, no = av
            yes_chars, yes_null = self.first(yes)
            no_chars, no_null = self.first(no) if no else (frozenset(), True)
            return yes_chars | no_chars, yes_null or no_null
        return frozenset({("any",)}), True

    def _disjoint(self, a: frozenset[Char], b: frozenset[Char]) -> bool:
        return not any(_overlap(x, y, self.fold, self.dotall) for x in a for y in b)

    # -- hazards -----------------------------------------------------------------------------
    def walk(
        self,
        items: Sequence[Item],
        follow: frozenset[Char],
        hazards: list[str],
        conflicts: list[str] | None,
    ) -> None:
        """Visit a sequence right to left, so each item knows what may follow it.
        ``conflicts`` collects choices that the next character does not decide, for the
        nearest repeat around them (None: not inside a repeated group)."""
        after = follow
        for op, av in reversed(items):
            self._visit(op, av, after, hazards, conflicts)
            chars, nullable = self._item_first(op, av)
            after = chars | after if nullable else chars

    def _visit(
        self,
        op: Any,
        av: Any,
        follow: frozenset[Char],
        hazards: list[str],
        conflicts: list[str] | None,
    ) -> None:
        if op == sre.SUBPATTERN:
            self.walk(av[3], follow, hazards, conflicts)
        elif op == sre.ATOMIC_GROUP:
            self.walk(av, follow, hazards, conflicts)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            # A lookaround stops at its first success: nothing after it is read by it.
            self.walk(av[1], frozenset({_END}), hazards, conflicts)
        elif op == sre.BRANCH:
            if conflicts is not None:
                starts = []
                for alternative in av[1]:
                    chars, nullable = self.first(alternative)
                    starts.append(chars | follow if nullable else chars)
                for i, one in enumerate(starts):
                    if any(not self._disjoint(one, other) for other in starts[i + 1 :]):
                        conflicts.append("alternatives that begin alike")
                        break
            for alternative in av[1]:
                self.walk(alternative, follow, hazards, conflicts)
        elif op in _REPEATS:
            self._visit_repeat(op, av, follow, hazards, conflicts)
        elif op == sre.GROUPREF_EXISTS:
            _, yes, no = av
            self.walk(yes, follow, hazards, conflicts)
            if no:
                self.walk(no, follow, hazards, conflicts)

    def _visit_repeat(
        self,
        op: Any,
        av: Any,
        follow: frozenset[Char],
        hazards: list[str],
        conflicts: list[str] | None,
    ) -> None:
        low, high, body = av
        body_chars, body_nullable = self.first(body)
        possessive = op == sre.POSSESSIVE_REPEAT
        # Inside a repeated group, "once more or stop here" is a choice too.
        if (
            conflicts is not None
            and low != high
            and not possessive
            and (body_nullable or not self._disjoint(body_chars, follow))
        ):
            conflicts.append("a quantifier that the next character does not stop")
        body_follow = body_chars | follow if high > 1 else follow
        if high <= 1 or possessive:
            self.walk(body, body_follow, hazards, conflicts)
            return
        inner: list[str] = []
        self.walk(body, body_follow, hazards, inner)
        if body_nullable:
            inner.append("a body that can match nothing")
        if inner and not self._decodable(body):
            hazards.append(
                f"{_describe(op, av)}: {inner[0]}, and its repetitions are not a uniquely"
                " decodable set of strings"
            )

    def _decodable(self, body: Sequence[Item]) -> bool:
        words = _spell(body, self.fold)
        return words is not None and uniquely_decodable(words)


def _describe(op: Any, av: Any) -> str:
    text = _unparse([(op, av)])
    return text if len(text) <= 70 else text[:67] + "..."


_CATEGORY_TEXT = {
    sre.CATEGORY_DIGIT: r"\d",
    sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S",
    sre.CATEGORY_WORD: r"\w",
    sre.CATEGORY_NOT_WORD: r"\W",
}
_AT_TEXT = {
    sre.AT_BEGINNING: "^",
    sre.AT_BEGINNING_STRING: r"\A",
    sre.AT_BOUNDARY: r"\b",
    sre.AT_NON_BOUNDARY: r"\B",
    sre.AT_END: "$",
    sre.AT_END_STRING: r"\Z",
}


def _unparse(items: Iterable[Item]) -> str:
    """A pattern written back from its parse tree, for messages (close, not exact)."""
    out = []
    for op, av in items:
        if op == sre.LITERAL:
            out.append(_escape(chr(av)))
        elif op == sre.NOT_LITERAL:
            out.append(f"[^{_escape(chr(av))}]")
        elif op == sre.ANY:
            out.append(".")
        elif op == sre.IN:
            out.append(_unparse_class(av))
        elif op == sre.AT:
            out.append(_AT_TEXT.get(av, ""))
        elif op == sre.SUBPATTERN:
            out.append(f"(?:{_unparse(av[3])})")
        elif op == sre.ATOMIC_GROUP:
            out.append(f"(?>{_unparse(av)})")
        elif op == sre.BRANCH:
            out.append("(?:" + "|".join(_unparse(a) for a in av[1]) + ")")
        elif op in _REPEATS:
            low, high, body = av
            inner = _unparse(body)
            if len(body) != 1 or body[0][0] not in (*_SINGLE, sre.SUBPATTERN, sre.BRANCH):
                inner = f"(?:{inner})"
            top = "" if high == _UNBOUNDED else str(high)
            count = f"{{{low}}}" if low == high else f"{{{low},{top}}}"
            suffix = "?" if op == sre.MIN_REPEAT else "+" if op == sre.POSSESSIVE_REPEAT else ""
            out.append(inner + count + suffix)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            direction, body = av
            kind = (
                ("=" if op == sre.ASSERT else "!")
                if direction > 0
                else ("<=" if op == sre.ASSERT else "<!")
            )
            out.append(f"(?{kind}{_unparse(body)})")
        else:
            out.append("(...)")
    return "".join(out)


def _unparse_class(items: Sequence[Item]) -> str:
    if len(items) == 1 and items[0][0] == sre.CATEGORY:
        return _CATEGORY_TEXT.get(items[0][1], "[...]")
    parts = []
    for op, av in items:
        if op == sre.NEGATE:
            parts.append("^")
        elif op == sre.LITERAL:
            parts.append(_escape(chr(av)))
        elif op == sre.RANGE:
            parts.append(f"{_escape(chr(av[0]))}-{_escape(chr(av[1]))}")
        elif op == sre.CATEGORY:
            parts.append(_CATEGORY_TEXT.get(av, ""))
    return "[" + "".join(parts) + "]"


def _escape(char: str) -> str:
    return char if char.isalnum() or char == " " or ord(char) > 127 else "\\" + char


# ---- spelling a body out, and unique decodability -------------------------------------------
def _spell(items: Sequence[Item], fold: bool) -> list[str] | None:
    """Every string a sequence matches (with repeats), or None when there are too many or
    a class is not a short list of characters. Zero-width assertions are left out, which
    only adds strings."""
    words = [""]
    for op, av in items:
        options = _spell_item(op, av, fold)
        if options is None or len(words) * len(options) > _ENUMERATION_LIMIT:
            return None
        words = [w + o for w in words for o in options]
    return words


def _spell_item(op: Any, av: Any, fold: bool) -> list[str] | None:
    if op == sre.LITERAL:
        char = chr(av)
        return [char.lower() if fold else char]
    if op == sre.IN:
        members = _finite_members(av)
        if members is None or len(members) > 64:
            return None
        return [m.lower() for m in members] if fold else members
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return [""]
    if op == sre.SUBPATTERN:
        return _spell(av[3], fold)
    if op == sre.ATOMIC_GROUP:
        return _spell(av, fold)
    if op == sre.BRANCH:
        words: list[str] = []
        for alternative in av[1]:
            spelled = _spell(alternative, fold)
            if spelled is None:
                return None
            words += spelled
        return words
    if op in _REPEATS:
        low, high, body = av
        if high == _UNBOUNDED or high > 4:
            return None
        once = _spell(body, fold)
        if once is None:
            return None
        words, current = [], [""]
        for count in range(high + 1):
            if count >= low:
                words += current
            if count < high:
                current = [w + o for w in current for o in once]
                if len(current) > _ENUMERATION_LIMIT:
                    return None
        return words
    return None


def uniquely_decodable(words: Iterable[str]) -> bool:
    """Whether no string is a concatenation of these words in two different ways
    (Sardinas-Patterson). A word listed twice, or the empty word, is two ways already."""
    counts = Counter(words)
    if "" in counts or any(n > 1 for n in counts.values()):
        return False
    code = set(counts)

    def dangling(prefixes: set[str], strings: set[str]) -> set[str]:
        return {s[len(p) :] for p in prefixes for s in strings if s != p and s.startswith(p)}

    suffixes = dangling(code, code)
    seen: set[frozenset[str]] = set()
    while suffixes:
        if suffixes & code:
            return False
        key = frozenset(suffixes)
        if key in seen:
            return True
        seen.add(key)
        suffixes = dangling(code, suffixes) | dangling(suffixes, code)
    return True
