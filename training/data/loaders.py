"""Loaders: each public counseling corpus, in its own real format, into ``Dialogue`` records.

Every loader ``load_x(path, *, skip_invalid=False, report=None)`` returns an iterator. A malformed
record raises ``DataError`` naming the file, line and field; with ``skip_invalid`` it is skipped
and counted in the ``LoadReport`` instead (the first few reasons kept). Problems with the file
itself (missing, not gzip, a JSON array that does not parse) always raise: skipping them would
silently drop the whole file. In a directory or archive of one dialogue per file, a broken file
is one bad record. Loaders are lazy: the report is complete once the generator is exhausted.

Common rules, whatever the format: roles become ``user`` / ``assistant``; message text is
stripped and must not be empty; consecutive turns of one speaker merge; leading assistant turns
are dropped (counted in the report and in ``meta["dropped_leading_assistant"]``) so every
dialogue opens with the help-seeker; a dialogue without any user turn is malformed.

Ids are stable across runs: ``smilechat-<id>``, ``cpsycound-case_12``, and for records that only
have a position, ``<source>-<file tag>-<n>`` where the tag is the file name without the source
name and extensions (``esconv_train.jsonl.gz`` line 12 -> ``esconv-train-12``; a file named just
``esconv.jsonl`` gives ``esconv-12``), so train and valid files of one corpus never collide.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import tarfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from soulchat.text import detect_locale
from training.data.schema import DataError, Dialogue, Message, Role, merge_consecutive

logger = logging.getLogger(__name__)

MAX_REASONS = 5  # how many skip reasons a report keeps: enough to fix the input, not a flood
_JSON_SUFFIXES = (".gz", ".jsonl", ".json", ".txt")


@dataclass
class LoadReport:
    """What loading one input did. Holds locations and field names, never dialogue text."""

    path: str
    format: str = ""
    loaded: int = 0
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)

    def skip(self, error: DataError) -> None:
        self.skipped += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(str(error))
        logger.debug("skipped a malformed record: %s", error)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "loaded": self.loaded,
            "skipped": self.skipped,
            "reasons": list(self.reasons),
            "notes": dict(sorted(self.notes.items())),
        }


@dataclass(frozen=True)
class Record:
    """One raw record and where it came from, so a parser can name the place of a problem."""

    path: str  # as shown in errors; an archive member is "archive.tar.gz:Data/case_1.txt"
    line: int | None  # 1-based line where the record starts, when known
    key: str  # stable position for ids: line number, array element number, file stem
    value: Any = None
    prefix: str = ""  # field prefix inside the file: "[3]." for the 4th element of an array
    error: DataError | None = None  # the record could not even be read (bad JSON, bad UTF-8)

    def fail(self, field_name: str, problem: str, line: int | None = None) -> DataError:
        return DataError(self.path, line or self.line, self.prefix + field_name, problem)


class Loader(Protocol):
    def __call__(
        self, path: str | Path, *, skip_invalid: bool = False, report: LoadReport | None = None
    ) -> Iterator[Dialogue]: ...


Parser = Callable[[Record, Counter[str]], Dialogue]


def _run(
    records: Iterable[Record],
    parse: Parser,
    *,
    skip_invalid: bool,
    report: LoadReport,
) -> Iterator[Dialogue]:
    for record in records:
        notes: Counter[str] = Counter()
        try:
            if record.error is not None:
                raise record.error
            dialogue = parse(record, notes)
        except DataError as exc:
            if not skip_invalid:
                raise
            report.skip(exc)
            continue
        report.loaded += 1
        report.notes.update(notes)
        yield dialogue


# --- reading raw records -------------------------------------------------------------------


def _open_binary(path: Path) -> BinaryIO:
    if not path.exists():
        raise DataError(path, None, "file", "no such file or directory")
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _read_bytes(path: Path) -> bytes:
    try:
        with _open_binary(path) as handle:
            return handle.read()
    except (OSError, EOFError) as exc:
        raise DataError(path, None, "file", f"cannot read ({exc})") from None


def _decode(data: bytes, path: str, line: int | None = None) -> str | DataError:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = line if line is not None else data.count(b"\n", 0, exc.start) + 1
        return DataError(path, where, "text", f"invalid UTF-8 at byte {exc.start}")


def _first_byte(path: Path) -> bytes:
    try:
        with _open_binary(path) as handle:
            head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except (OSError, EOFError) as exc:
        raise DataError(path, None, "file", f"cannot read ({exc})") from None
    return head[:1]


def json_records(path: str | Path) -> Iterator[Record]:
    """Records of a JSON file that is either one array of objects or one object a line
    (``.gz`` read as a stream). Each record carries the line where it starts."""
    path = Path(path)
    if _first_byte(path) == b"[":
        yield from _json_array_records(path)
    else:
        yield from _json_line_records(path)


def _json_line_records(path: Path) -> Iterator[Record]:
    name = str(path)
    try:
        with _open_binary(path) as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                text = _decode(raw, name, number)
                if isinstance(text, DataError):
                    yield Record(name, number, str(number), error=text)
                    continue
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    error = DataError(name, number, "line", f"not valid JSON ({exc.msg})")
                    yield Record(name, number, str(number), error=error)
                    continue
                yield Record(name, number, str(number), value)
    except (OSError, EOFError) as exc:
        raise DataError(path, None, "file", f"cannot read ({exc})") from None


def _json_array_records(path: Path) -> Iterator[Record]:
    name = str(path)
    text = _decode(_read_bytes(path), name)
    if isinstance(text, DataError):
        raise text  # one array: a broken file cannot be read past its first bad byte
    decoder = json.JSONDecoder()
    position, line, index = text.index("[") + 1, 1, 0
    counted = 0  # newlines are counted incrementally up to `counted`
    while True:
        position = _skip_space(text, position)
        if position < len(text) and text[position] == "]":
            return
        line += text.count("\n", counted, position)
        counted = position
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            bad_line = text.count("\n", 0, exc.pos) + 1
            raise DataError(name, bad_line, f"[{index}]", f"not valid JSON ({exc.msg})") from None
        yield Record(name, line, str(index + 1), value, prefix=f"[{index}].")
        index += 1
        position = _skip_space(text, end)
        if position < len(text) and text[position] == ",":
            position += 1
        elif position >= len(text) or text[position] != "]":
            bad_line = text.count("\n", 0, position) + 1
            raise DataError(name, bad_line, f"[{index}]", "expected ',' or ']' in the array")


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _natural_key(name: str) -> tuple[str, int, str]:
    match = re.search(r"(\d+)", name)
    return (name[: match.start()], int(match.group(1)), name) if match else (name, -1, name)


# --- shared checks ---------------------------------------------------------------------------


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _object(record: Record, value: Any, field_name: str = "record") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise record.fail(field_name, "expected a JSON object")
    return value


def _list(record: Record, obj: dict[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        raise record.fail(key, "missing")
    if not isinstance(value, list) or not value:
        raise record.fail(key, "expected a non-empty list")
    return value


def _content(record: Record, field_name: str, value: Any, line: int | None = None) -> str:
    if value is None:
        raise record.fail(field_name, "missing", line)
    if not isinstance(value, str):
        raise record.fail(field_name, "expected a string", line)
    text = value.replace("\r\n", "\n").strip()
    if not text:
        raise record.fail(field_name, "empty content", line)
    return text


def _role(
    record: Record, field_name: str, value: Any, roles: dict[str, Role | None]
) -> Role | None:
    """The normalised role, or None for a role that is dropped (system prompts)."""
    if value is None:
        raise record.fail(field_name, "missing")
    if not isinstance(value, str) or value.strip().lower() not in roles:
        allowed = ", ".join(sorted(roles))
        raise record.fail(field_name, f"unknown role {_short(value)} (expected {allowed})")
    return roles[value.strip().lower()]


def _file_tag(path: str | Path, source: str) -> str:
    name = Path(path).name.lower()
    while name.endswith(_JSON_SUFFIXES):
        name = name.rsplit(".", 1)[0]
    name = name.removeprefix(source).strip("-_. ")
    return f"{name}-" if name else ""


def _finish(
    record: Record,
    notes: Counter[str],
    *,
    dialogue_id: str,
    source: str,
    language: str,
    messages: list[Message],
    topic: str | None = None,
    meta: dict[str, Any] | None = None,
) -> Dialogue:
    merged = merge_consecutive(messages)
    meta = dict(meta or {})
    leading = 0
    while merged and merged[0].role == "assistant":
        merged.pop(0)
        leading += 1
    if leading:
        notes["dropped_leading_assistant"] += 1
        meta["dropped_leading_assistant"] = leading
    if not merged:
        raise record.fail("messages", "no user turn")
    return Dialogue(dialogue_id, source, language, merged, topic=topic or None, meta=meta)


def _text_or_none(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


# --- SoulChatCorpus and generic messages ------------------------------------------------------

_CHAT_ROLES: dict[str, Role | None] = {
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "system": None,
}


def _chat_messages(record: Record, obj: dict[str, Any], notes: Counter[str]) -> list[Message]:
    """A ``messages`` list in OpenAI (role/content) or ShareGPT (from/value) form."""
    key = "messages" if "messages" in obj or "conversations" not in obj else "conversations"
    messages: list[Message] = []
    for index, raw in enumerate(_list(record, obj, key)):
        where = f"{key}[{index}]"
        raw = _object(record, raw, where)
        role_key = "role" if "role" in raw or "from" not in raw else "from"
        role = _role(record, f"{where}.{role_key}", raw.get(role_key), _CHAT_ROLES)
        text_key = "content" if "content" in raw or "value" not in raw else "value"
        if role is None:
            notes["system_dropped"] += 1
            continue
        content = _content(record, f"{where}.{text_key}", raw.get(text_key))
        meta = raw.get("meta")
        messages.append(Message(role, content, dict(meta) if isinstance(meta, dict) else {}))
    return messages


def _parse_soulchat(record: Record, notes: Counter[str]) -> Dialogue:
    obj = _object(record, record.value)
    messages = _chat_messages(record, obj, notes)
    raw_id = obj.get("id")
    if isinstance(raw_id, str | int) and str(raw_id):
        suffix = str(raw_id)
    else:
        suffix = _file_tag(record.path, "soulchat") + record.key
    return _finish(
        record,
        notes,
        dialogue_id=f"soulchat-{suffix}",
        source="soulchat",
        language="zh",
        messages=messages,
        topic=_text_or_none(obj.get("topic")),
    )


def _parse_messages(record: Record, notes: Counter[str]) -> Dialogue:
    """Our own normalised form (kept as it is: id, source, language, topic, meta) or any
    ``{"messages": [...]}`` object, whose language is detected from its text."""
    obj = _object(record, record.value)
    messages = _chat_messages(record, obj, notes)
    source = _text_or_none(obj.get("source"))
    raw_id = obj.get("id")
    if source and isinstance(raw_id, str) and raw_id:
        dialogue_id = raw_id  # already one of ours: ids must survive a round trip
    elif isinstance(raw_id, str | int) and str(raw_id):
        dialogue_id = f"messages-{raw_id}"
    else:
        dialogue_id = f"messages-{_file_tag(record.path, 'messages')}{record.key}"
    language = _text_or_none(obj.get("language")) or detect_locale(
        " ".join(m.content for m in messages)
    )
    meta = obj.get("meta")
    return _finish(
        record,
        notes,
        dialogue_id=dialogue_id,
        source=source or "messages",
        language=language,
        messages=messages,
        topic=_text_or_none(obj.get("topic")),
        meta=dict(meta) if isinstance(meta, dict) else None,
    )


def load_soulchat(
    path: str | Path, *, skip_invalid: bool = False, report: LoadReport | None = None
) -> Iterator[Dialogue]:
    """SoulChatCorpus: a JSON array or JSON lines of ``{"id", "topic", "messages": [...]}``,
    with role/content or from/value keys, human/gpt aliases; system messages dropped."""
    report = report or LoadReport(str(path))
    report.format = "soulchat"
    return _run(json_records(path), _parse_soulchat, skip_invalid=skip_invalid, report=report)


def load_messages(
    path: str | Path, *, skip_invalid: bool = False, report: LoadReport | None = None
) -> Iterator[Dialogue]:
    """Generic messages JSONL: our normalised form, or OpenAI-style ``{"messages": [...]}``."""
    report = report or LoadReport(str(path))
    report.format = "messages"
    return _run(json_records(path), _parse_messages, skip_invalid=skip_invalid, report=report)


# --- SMILECHAT -------------------------------------------------------------------------------

_SMILE_ROLES: dict[str, Role | None] = {"client": "user", "counselor": "assistant"}


def _parse_smilechat(record: Record, notes: Counter[str]) -> Dialogue:
    if isinstance(record.value, list):  # the original release: one file holding the list
        turns: list[Any] = record.value
        raw_id: Any = record.key
        if not turns:
            raise record.fail("dialogue", "expected a non-empty list")
    else:
        obj = _object(record, record.value)
        turns, raw_id = _list(record, obj, "dialogue"), obj.get("id")
        if not isinstance(raw_id, str | int) or not str(raw_id):
            raise record.fail("id", "missing" if raw_id is None else "expected a string")
    messages: list[Message] = []
    for index, raw in enumerate(turns):
        where = f"dialogue[{index}]"
        raw = _object(record, raw, where)
        role = _role(record, f"{where}.role", raw.get("role"), _SMILE_ROLES)
        assert role is not None  # SMILECHAT has no dropped roles
        messages.append(Message(role, _content(record, f"{where}.content", raw.get("content"))))
    return _finish(
        record,
        notes,
        dialogue_id=f"smilechat-{raw_id}",
        source="smilechat",
        language="zh",
        messages=messages,
    )


def _smilechat_dir_records(directory: Path) -> Iterator[Record]:
    for file in sorted(directory.rglob("*.json"), key=lambda p: _natural_key(p.name)):
        name = str(file)
        text = _decode(_read_bytes(file), name)
        if isinstance(text, DataError):
            yield Record(name, text.line, file.stem, error=text)
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            error = DataError(name, exc.lineno, "file", f"not valid JSON ({exc.msg})")
            yield Record(name, exc.lineno, file.stem, error=error)
            continue
        if not isinstance(value, list):
            error = DataError(name, None, "dialogue", "expected a list of turns")
            yield Record(name, None, file.stem, error=error)
            continue
        yield Record(name, None, file.stem, value)


def load_smilechat(
    path: str | Path, *, skip_invalid: bool = False, report: LoadReport | None = None
) -> Iterator[Dialogue]:
    """SMILECHAT: a directory of ``<n>.json`` files each holding ``[{"role", "content"}]``
    (client / counselor), or JSON lines ``{"id": "<n>", "dialogue": [...]}``."""
    path = Path(path)
    report = report or LoadReport(str(path))
    report.format = "smilechat"
    records = _smilechat_dir_records(path) if path.is_dir() else json_records(path)
    return _run(records, _parse_smilechat, skip_invalid=skip_invalid, report=report)


# --- ESConv ----------------------------------------------------------------------------------

_ESCONV_ROLES: dict[str, Role | None] = {"usr": "user", "sys": "assistant"}
_ESCONV_META = ("emotion_type", "problem_type", "situation", "experience_type", "survey_score")


def _parse_esconv(record: Record, notes: Counter[str]) -> Dialogue:
    obj = _object(record, record.value)
    messages: list[Message] = []
    for index, raw in enumerate(_list(record, obj, "dialog")):
        where = f"dialog[{index}]"
        raw = _object(record, raw, where)
        role = _role(record, f"{where}.speaker", raw.get("speaker"), _ESCONV_ROLES)
        assert role is not None
        text = _content(record, f"{where}.text", raw.get("text"))
        meta: dict[str, Any] = {}
        strategy = raw.get("strategy")
        if role == "assistant" and strategy is not None:
            if not isinstance(strategy, str) or not strategy.strip():
                raise record.fail(f"{where}.strategy", "expected a non-empty string")
            meta["strategy"] = [strategy.strip()]  # a list, so merged turns keep them all
        messages.append(Message(role, text, meta))
    return _finish(
        record,
        notes,
        dialogue_id=f"esconv-{_file_tag(record.path, 'esconv')}{record.key}",
        source="esconv",
        language="en",
        messages=messages,
        topic=_text_or_none(obj.get("problem_type")),
        meta={key: obj[key] for key in _ESCONV_META if obj.get(key) is not None},
    )


def load_esconv(
    path: str | Path, *, skip_invalid: bool = False, report: LoadReport | None = None
) -> Iterator[Dialogue]:
    """ESConv JSON lines: ``dialog: [{"text", "speaker": "usr"|"sys", "strategy"}]``; the
    strategy goes to ``meta["strategy"]`` of assistant messages, emotion/problem/situation to the
    dialogue's meta, and the problem type becomes the topic."""
    report = report or LoadReport(str(path))
    report.format = "esconv"
    return _run(json_records(path), _parse_esconv, skip_invalid=skip_invalid, report=report)


# --- EmoLLM / XTuner ---------------------------------------------------------------------------


def _parse_emollm(record: Record, notes: Counter[str]) -> Dialogue:
    obj = _object(record, record.value)
    messages: list[Message] = []
    system: str | None = None
    for index, raw in enumerate(_list(record, obj, "conversation")):
        where = f"conversation[{index}]"
        raw = _object(record, raw, where)
        if index == 0 and _text_or_none(raw.get("system")):
            system = _text_or_none(raw.get("system"))
            notes["system_dropped"] += 1
        messages.append(Message("user", _content(record, f"{where}.input", raw.get("input"))))
        output = _content(record, f"{where}.output", raw.get("output"))
        messages.append(Message("assistant", output))
    return _finish(
        record,
        notes,
        dialogue_id=f"emollm-{_file_tag(record.path, 'emollm')}{record.key}",
        source="emollm",
        language="zh",
        messages=messages,
        meta={"system": system} if system else None,
    )


def load_emollm(
    path: str | Path, *, skip_invalid: bool = False, report: LoadReport | None = None
) -> Iterator[Dialogue]:
    """EmoLLM / XTuner: ``[{"conversation": [{"system", "input", "output"}, ...]}]``; the system
    prompt is not a turn, it is kept in ``meta["system"]``."""
    report = report or LoadReport(str(path))
    report.format = "emollm"
    return _run(json_records(path), _parse_emollm, skip_invalid=skip_invalid, report=report)


# --- CPsyCounD ---------------------------------------------------------------------------------

_CPSY_LABEL = re.compile(r"(来访者|心理咨询师)\s*[：:]\s*")
# "来访者（姚先生）：", "来访者1：" in sessions with two clients; the qualifier stays in the text
_CPSY_QUALIFIED = re.compile(r"(来访者|心理咨询师)[^：:\n]{1,12}[：:]")
# "妈妈：", "A：": another client-side participant of a family session
_CPSY_OTHER = re.compile(r"[\u4e00-\u9fffA-Za-z]{1,6}[：:]")
_CPSY_STAGE = re.compile(r"[（(][^\n]*[）)]")  # "（经过一段时间的沙盘游戏）"


def _paragraphs(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, paragraph) pairs; paragraphs are separated by blank lines."""
    lines: list[str] = []
    start = 0
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if line.strip():
            start = start or number
            lines.append(line.strip())
        elif lines:
            yield start, "\n".join(lines)
            lines, start = [], 0
    if lines:
        yield start, "\n".join(lines)


def _cpsy_turn(paragraph: str) -> tuple[Role | None, str]:
    """The role a paragraph opens with (None: it continues the previous turn) and its text."""
    match = _CPSY_LABEL.match(paragraph)
    if match:
        role: Role = "user" if match.group(1) == "来访者" else "assistant"
        return role, paragraph[match.end() :]
    qualified = _CPSY_QUALIFIED.match(paragraph)
    if qualified:
        return ("user" if qualified.group(1) == "来访者" else "assistant"), paragraph
    if _CPSY_OTHER.match(paragraph):
        return "user", paragraph
    return None, paragraph


def _parse_cpsycound(record: Record, notes: Counter[str]) -> Dialogue:
    """Paragraphs open with ``来访者：`` or ``心理咨询师：``. In the real files some do not:
    numbered advice items continue the previous turn, fully parenthesised stage directions
    ("（一段时间后）") are dropped, other named speakers are family members on the client side,
    and a bare label closing a cut-off file is dropped; an empty turn anywhere else is malformed."""
    messages: list[Message] = []
    paragraphs = list(_paragraphs(record.value))
    for number, (line, paragraph) in enumerate(paragraphs, start=1):
        if _CPSY_STAGE.fullmatch(paragraph):
            notes["stage_directions_dropped"] += 1
            continue
        role, text = _cpsy_turn(paragraph)
        if role is not None and not text.strip() and number == len(paragraphs):
            notes["trailing_empty_label_dropped"] += 1  # a cut-off file: nothing is lost
            continue
        if role is None:
            if not messages:
                raise record.fail("paragraph", "text before the first speaker label", line)
            messages[-1].content += "\n" + paragraph
            notes["unlabelled_paragraphs_joined"] += 1
            continue
        messages.append(Message(role, _content(record, "paragraph", text, line)))
    if not messages:
        raise record.fail("text", "no dialogue paragraphs")
    return _finish(
        record,
        notes,
        dialogue_id=f"cpsycound-{record.key}",
        source="cpsycound",
        language="zh",
        messages=messages,
    )


def _text_record(name: str, key: str, data: bytes) -> Record:
    text = _decode(data, name)
    if isinstance(text, DataError):
        return Record(name, text.line, key, error=text)
    return Record(name, None, key, text)


def _cpsycound_records(path: Path) -> Iterator[Record]:
    if path.is_dir():
        for file in sorted(path.rglob("*.txt"), key=lambda p: _natural_key(p.name)):
            yield _text_record(str(file), file.stem, _read_bytes(file))
        return
    if path.suffix == ".txt":
        yield _text_record(str(path), path.stem, _read_bytes(path))
        return
    if not path.exists():
        raise DataError(path, None, "file", "no such file or directory")
    try:
        # A stream over the archive: members are read in place, never extracted to disk.
        with tarfile.open(path, "r|*") as archive:
            for member in archive:
                name = Path(member.name).name
                if not member.isfile() or not name.endswith(".txt") or name.startswith("._"):
                    continue
                handle = archive.extractfile(member)
                data = handle.read() if handle else b""
                yield _text_record(f"{path}:{member.name}", Path(name).stem, data)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(path, None, "file", f"cannot read the archive ({exc})") from None


def load_cpsycound(
    path: str | Path, *, skip_invalid: bool = False, report: LoadReport | None = None
) -> Iterator[Dialogue]:
    """CPsyCounD: ``Data/case_<n>.txt`` files in a directory, a ``.tar.gz`` archive or one
    ``.txt`` file."""
    report = report or LoadReport(str(path))
    report.format = "cpsycound"
    records = _cpsycound_records(Path(path))
    return _run(records, _parse_cpsycound, skip_invalid=skip_invalid, report=report)


# --- Counsel Chat ------------------------------------------------------------------------------


def _parse_counsel_chat(record: Record, notes: Counter[str]) -> Dialogue:
    """One therapist's answer to one posted question: a single exchange. The question's
    title often restates it, so the title stands in only where the body is empty."""
    obj = _object(record, record.value)
    question = _text_or_none(obj.get("question")) or _content(record, "title", obj.get("title"))
    if not _text_or_none(obj.get("question")):
        notes["title_as_question"] += 1
    answer = _content(record, "answer", obj.get("answer"))
    question_id = _text_or_none(str(obj["question_id"])) if "question_id" in obj else None
    meta = {
        key: obj[key] for key in ("question_id", "upvotes", "split") if obj.get(key) is not None
    }
    return _finish(
        record,
        notes,
        dialogue_id=f"counselchat-{question_id or 'q'}-{record.key}",
        source="counsel_chat",
        language="en",
        messages=[Message("user", question), Message("assistant", answer)],
        topic=_text_or_none(obj.get("topic")),
        meta=meta,
    )


def load_counsel_chat(
    path: str | Path, *, skip_invalid: bool = False, report: LoadReport | None = None
) -> Iterator[Dialogue]:
    """Counsel Chat JSON lines: ``{"question_id", "title", "question", "topic", "answer",
    "upvotes", "split"}``, one licensed therapist's answer a line (several answers share a
    question; the default split keeps them together, since they open with the same words)."""
    report = report or LoadReport(str(path))
    report.format = "counsel_chat"
    return _run(json_records(path), _parse_counsel_chat, skip_invalid=skip_invalid, report=report)


# --- registry and detection --------------------------------------------------------------------

LOADERS: dict[str, Loader] = {
    "soulchat": load_soulchat,
    "smilechat": load_smilechat,
    "cpsycound": load_cpsycound,
    "esconv": load_esconv,
    "emollm": load_emollm,
    "counsel_chat": load_counsel_chat,
    "messages": load_messages,
}
FORMATS: tuple[str, ...] = ("auto", *LOADERS)

_NAME_HINTS = (
    ("esconv", "esconv"),
    ("smile", "smilechat"),
    ("cpsycoun", "cpsycound"),
    ("emollm", "emollm"),
    ("counsel", "counsel_chat"),
    ("soulchat", "soulchat"),
)
_KEY = re.compile(r'"([A-Za-z_]+)"\s*:')


def _sniff(path: Path) -> str:
    try:
        with _open_binary(path) as handle:
            return handle.read(65536).decode("utf-8", errors="replace")
    except (OSError, EOFError) as exc:
        raise DataError(path, None, "file", f"cannot read ({exc})") from None


def _format_from_keys(keys: set[str], head: str, name: str) -> str | None:
    if {"messages", "source", "language"} <= keys:
        return "messages"  # our own form first: its metadata may hold any other key
    if "conversation" in keys:
        return "emollm"
    if {"question", "answer"} <= keys:
        return "counsel_chat"
    if {"dialog", "speaker"} <= keys:
        return "esconv"
    if "dialogue" in keys or re.search(r'"role"\s*:\s*"(client|counselor)"', head):
        return "smilechat"
    if keys & {"messages", "conversations"}:
        if "soulchat" in name or keys & {"from", "value", "topic"}:
            return "soulchat"
        return "messages"
    return None


def detect_format(path: str | Path) -> str:
    """The format of an input, from what it holds first and its name second."""
    path = Path(path)
    name = path.name.lower()
    if not path.exists():
        raise DataError(path, None, "file", "no such file or directory")
    if path.is_dir():
        if next(path.rglob("*.txt"), None) is not None:
            return "cpsycound"
        if next(path.rglob("*.json"), None) is not None:
            return "smilechat"
    elif name.endswith((".tar.gz", ".tgz", ".tar", ".txt")):
        return "cpsycound"
    else:
        head = _sniff(path)
        found = _format_from_keys(set(_KEY.findall(head)), head, name)
        if found:
            return found
    for hint, fmt in _NAME_HINTS:
        if hint in name:
            return fmt
    choices = ", ".join(LOADERS)
    raise DataError(path, None, "format", f"cannot tell the format; pass one of {choices}")


def load(
    path: str | Path,
    fmt: str = "auto",
    *,
    skip_invalid: bool = False,
    report: LoadReport | None = None,
) -> Iterator[Dialogue]:
    """Load one input in any known format (``fmt="auto"`` detects it)."""
    chosen = detect_format(path) if fmt == "auto" else fmt
    if chosen not in LOADERS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return LOADERS[chosen](path, skip_invalid=skip_invalid, report=report)
