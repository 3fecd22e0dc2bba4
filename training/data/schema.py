"""The one normalised form every loader produces and every later step reads.

A dialogue is a list of messages with roles ``user`` (the help-seeker) and ``assistant`` (the
counselor), consecutive turns of one speaker already merged. It is written as one JSON object
per line::

    {"id": "esconv-12", "source": "esconv", "language": "en", "topic": "job crisis",
     "messages": [{"role": "user", "content": "...", "meta": {}},
                  {"role": "assistant", "content": "...", "meta": {"strategy": ["Question"]}}],
     "meta": {"emotion_type": "anxiety"}}
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

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


@dataclass
class Message:
    role: Role
    content: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Dialogue:
    id: str
    source: str
    language: str
    messages: list[Message]
    topic: str | None = None
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
        if not isinstance(obj, dict):
            raise DataError(path, line, "record", "expected a JSON object")
        messages = obj.get("messages")
        if not isinstance(messages, list) or not messages:
            raise DataError(path, line, "messages", "expected a non-empty list")
        parsed: list[Message] = []
        for index, raw in enumerate(messages):
            if not isinstance(raw, dict):
                raise DataError(path, line, f"messages[{index}]", "expected an object")
            role, content = raw.get("role"), raw.get("content")
            if role not in ROLES:
                raise DataError(path, line, f"messages[{index}].role", f"unknown role {role!r}")
            if not isinstance(content, str):
                raise DataError(path, line, f"messages[{index}].content", "expected a string")
            parsed.append(Message(role, content, dict(raw.get("meta") or {})))
        for name in ("id", "source", "language"):
            if not isinstance(obj.get(name), str) or not obj[name]:
                raise DataError(path, line, name, "expected a non-empty string")
        topic = obj.get("topic")
        return cls(
            id=obj["id"],
            source=obj["source"],
            language=obj["language"],
            messages=parsed,
            topic=topic if isinstance(topic, str) and topic else None,
            meta=dict(obj.get("meta") or {}),
        )

    def assistant_turns(self) -> int:
        return sum(1 for m in self.messages if m.role == "assistant")


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


def read_json_lines(path: str | Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed object) for every non-blank line; bad JSON names its line."""
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(path, number, "line", f"not valid JSON ({exc.msg})") from None


def read_jsonl(path: str | Path) -> Iterator[Dialogue]:
    """Read the normalised form back (what ``soulchat data prepare`` writes)."""
    for number, obj in read_json_lines(path):
        yield Dialogue.from_json(obj, path=path, line=number)
