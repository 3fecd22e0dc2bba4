"""The one normalised form every loader produces and every later step reads.

A dialogue is a list of messages with roles ``user`` (the help-seeker) and ``assistant`` (the
counselor), consecutive turns of one speaker already merged. It is written as one JSON object
per line::

    {"id": "esconv-12", "source": "esconv", "language": "en", "topic": "job crisis",
     "messages": [{"role": "user", "content": "...", "meta": {}},
                  {"role": "assistant", "content": "...", "meta": {"strategy": ["Question"]}}],
     "meta": {"emotion_type": "anxiety"}}

Reading it back (``read_jsonl``) parses and checks each line in one pass with pydantic: a bad
record is a ``DataError`` naming the file, the line and the field
(``train.jsonl:12: messages[3].role: unknown role 'bot' (expected user or assistant)``).
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

Role = Literal["user", "assistant"]
ROLES: tuple[Role, ...] = ("user", "assistant")


class DataError(ValueError):
    """Malformed input, naming where: ``file:line: field: what is wrong``."""

    def __init__(self, path: str | Path, line: int | None, field_name: str, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.field_name = field_name
        self.problem = problem
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {field_name}: {problem}")


# --- field types: what pydantic checks when a record is read --------------------------------
# Message and Dialogue stay plain dataclasses for the code that builds and edits dialogues; their
# annotations carry the rules, and ``TypeAdapter(Dialogue)`` validates a JSON line straight into
# them. The per-message rules are constraints pydantic checks in Rust: a Python validator per
# message would cost more than the rest of the check (SMILECHAT has 600,000 messages).


def _blank_is_none(value: str | None) -> str | None:
    return value or None


# Some character that is not whitespace. A lone surrogate (the escape \ud800, which json.loads
# lets through and no UTF-8 writer accepts) is refused too, by the JSON parser or this check.
Content = Annotated[str, Field(pattern=r"\S")]
Name = Annotated[str, Field(min_length=1)]
Topic = Annotated[str | None, AfterValidator(_blank_is_none)]


@dataclass(slots=True)
class Message:
    role: Role
    content: Content
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Dialogue:
    id: Name
    source: Name
    language: Name
    messages: Annotated[list[Message], Field(min_length=1)]
    topic: Topic = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "language": self.language,
            "topic": self.topic,
            "messages": [
                {"role": m.role, "content": m.content, "meta": m.meta} for m in self.messages
            ],
            "meta": self.meta,
        }

    @classmethod
    def from_json(
        cls, obj: Any, *, path: str | Path = "<input>", line: int | None = None
    ) -> Dialogue:
        """A parsed JSON object (``to_json``'s form) checked into a ``Dialogue``."""
        try:
            return _DIALOGUE.validate_python(obj)
        except ValidationError as exc:
            raise _data_error(exc, path, line) from None

    @classmethod
    def from_json_line(
        cls, line_bytes: bytes | str, *, path: str | Path = "<input>", line: int | None = None
    ) -> Dialogue:
        """One JSON line parsed and checked in one pass (pydantic's JSON parser)."""
        try:
            return _DIALOGUE.validate_json(line_bytes)
        except ValidationError as exc:
            raise _data_error(exc, path, line, line_bytes) from None

    def assistant_turns(self) -> int:
        return sum(1 for m in self.messages if m.role == "assistant")


_DIALOGUE: TypeAdapter[Dialogue] = TypeAdapter(Dialogue)

# What each kind of pydantic error means in this format, said the way the loaders say it.
_PROBLEMS = {
    "missing": "missing",
    "string_type": "expected a string",
    "string_too_short": "expected a non-empty string",
    "string_pattern_mismatch": "empty text",
    "string_unicode": "invalid Unicode (a lone surrogate)",
    "list_type": "expected a non-empty list",
    "too_short": "expected a non-empty list",
    "dataclass_type": "expected an object",
    "dict_type": "expected an object",
}


def _data_error(
    exc: ValidationError, path: str | Path, line: int | None, raw: bytes | str | None = None
) -> DataError:
    """The first problem pydantic found, as ``file:line: field: problem``."""
    error = exc.errors(include_url=False)[0]
    kind = error["type"]
    if kind == "json_invalid":
        return DataError(path, line, "line", _json_problem(error, raw))
    field_name = _field_path(error["loc"])
    if not field_name:
        return DataError(path, line, "record", "expected a JSON object")
    if kind == "literal_error":
        allowed = " or ".join(ROLES)
        problem = f"unknown role {_short(error['input'])} (expected {allowed})"
    else:
        problem = _PROBLEMS.get(kind, error["msg"])
    return DataError(path, line, field_name, problem)


def _json_problem(error: ErrorDetails, raw: bytes | str | None) -> str:
    if isinstance(raw, bytes):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            return f"invalid UTF-8 at byte {bad.start}"
    detail = str(error.get("ctx", {}).get("error", error["msg"])).replace("line 1 column", "column")
    if "surrogate" in detail or "hex escape" in detail:
        detail += "; an escape in \\ud800-\\udfff must be one half of a surrogate pair"
    return f"not valid JSON ({detail})"


def _field_path(loc: tuple[int | str, ...]) -> str:
    """``("messages", 3, "role")`` -> ``messages[3].role``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def merge_consecutive(messages: Iterable[Message]) -> list[Message]:
    """One message per speaker turn: consecutive same-role messages join with a newline,
    their metadata lists concatenated (an ESConv supporter turn split over three utterances
    keeps all three strategies)."""
    merged: list[Message] = []
    for message in messages:
        if not message.content.strip():
            continue
        if merged and merged[-1].role == message.role:
            last = merged[-1]
            last.content = last.content + "\n" + message.content
            for key, value in message.meta.items():
                previous = last.meta.get(key)
                values = previous if isinstance(previous, list) else [previous]
                values = [v for v in values if v is not None]
                values += value if isinstance(value, list) else [value]
                last.meta[key] = values
        else:
            merged.append(Message(message.role, message.content, dict(message.meta)))
    return merged


def open_text(path: str | Path) -> io.TextIOBase:
    """Open a text file, transparently gunzipping ``.gz``."""
    path = Path(path)
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def write_jsonl(dialogues: Iterable[Dialogue], path: str | Path) -> int:
    return write_json_lines((dialogue.to_json() for dialogue in dialogues), path)


def write_json_lines(records: Iterable[dict[str, Any]], path: str | Path) -> int:
    """One JSON object a line (gzipped for ``.gz``), creating the folder; returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def _open_binary(path: str | Path) -> BinaryIO:
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _lines(path: str | Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) for every non-blank line."""
    try:
        with _open_binary(path) as handle:
            for number, raw in enumerate(handle, start=1):
                if raw.strip():
                    yield number, raw
    except FileNotFoundError:
        raise DataError(path, None, "file", "no such file or directory") from None
    except (OSError, EOFError) as exc:
        raise DataError(path, None, "file", f"cannot read ({exc})") from None


def read_json_lines(path: str | Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed object) for every non-blank line; bad JSON or bad UTF-8 names its
    line."""
    for number, raw in _lines(path):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(path, number, "line", f"invalid UTF-8 at byte {exc.start}") from None
        try:
            yield number, json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(path, number, "line", f"not valid JSON ({exc.msg})") from None


def read_jsonl(path: str | Path) -> Iterator[Dialogue]:
    """Read the normalised form back (what ``soulchat data prepare`` writes): each line is
    parsed and checked by pydantic in one pass."""
    for number, raw in _lines(path):
        yield Dialogue.from_json_line(raw, path=path, line=number)
