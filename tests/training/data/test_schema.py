"""The normalised form read back: pydantic checks every line, errors name file, line, field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from training.data.schema import DataError, Dialogue, Message, read_jsonl, write_jsonl

GOOD: dict[str, Any] = {
    "id": "esconv-1",
    "source": "esconv",
    "language": "en",
    "topic": "job crisis",
    "messages": [
        {"role": "user", "content": "I lost my job", "meta": {}},
        {"role": "assistant", "content": "That sounds hard.", "meta": {"strategy": ["Question"]}},
    ],
    "meta": {"emotion_type": "anxiety"},
}


def with_message(**changes: Any) -> dict[str, Any]:
    return {**GOOD, "messages": [{**GOOD["messages"][0], **changes}, GOOD["messages"][1]]}


def write_lines(path: Path, lines: list[Any]) -> Path:
    rendered = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    path.write_text("\n".join(rendered) + "\n", encoding="utf-8")
    return path


def test_write_then_read_is_the_same_dialogues(tmp_path: Path) -> None:
    dialogue = Dialogue(
        "d1",
        "smilechat",
        "zh",
        [Message("user", "我最近很累"), Message("assistant", "听起来你很辛苦。", {"s": [1]})],
        topic="压力",
        meta={"n": 1},
    )
    path = tmp_path / "out.jsonl.gz"
    write_jsonl([dialogue, dialogue], path)
    assert list(read_jsonl(path)) == [dialogue, dialogue]


def test_null_and_empty_topic_mean_none_and_meta_may_be_left_out(tmp_path: Path) -> None:
    bare = {k: v for k, v in GOOD.items() if k != "meta"}
    bare["messages"] = [{"role": "user", "content": "hi"}]
    path = write_lines(tmp_path / "d.jsonl", [{**bare, "topic": None}, {**bare, "topic": ""}, ""])
    dialogues = list(read_jsonl(path))
    assert [d.topic for d in dialogues] == [None, None]
    assert dialogues[0].meta == {} and dialogues[0].messages[0].meta == {}


BAD: list[tuple[Any, str]] = [
    ("{not json", "line: not valid JSON"),
    ('["a list"]', "record: expected a JSON object"),
    ({**GOOD, "messages": []}, "messages: expected a non-empty list"),
    ({**GOOD, "messages": "hi"}, "messages: expected a non-empty list"),
    ({k: v for k, v in GOOD.items() if k != "messages"}, "messages: missing"),
    ({**GOOD, "messages": ["hi"]}, "messages[0]: expected an object"),
    (with_message(role="bot"), "messages[0].role: unknown role 'bot' (expected user or assistant)"),
    (with_message(role=None), "messages[0].role: unknown role None"),
    (with_message(content=3), "messages[0].content: expected a string"),
    (with_message(content=""), "messages[0].content: empty text"),
    (with_message(content=" \n\u3000"), "messages[0].content: empty text"),
    (with_message(meta=[1]), "messages[0].meta: expected an object"),
    ({**GOOD, "id": ""}, "id: expected a non-empty string"),
    ({**GOOD, "id": 12}, "id: expected a string"),
    ({k: v for k, v in GOOD.items() if k != "source"}, "source: missing"),
    ({**GOOD, "topic": 5}, "topic: expected a string"),
    ({**GOOD, "meta": "x"}, "meta: expected an object"),
    ('{"id": "a\\ud800", "source": "s"}', "line: not valid JSON"),  # a lone surrogate
]


@pytest.mark.parametrize(("bad", "message"), BAD)
def test_bad_record_names_file_line_and_field(tmp_path: Path, bad: Any, message: str) -> None:
    path = write_lines(tmp_path / "d.jsonl", [GOOD, "", bad])
    with pytest.raises(DataError) as caught:
        list(read_jsonl(path))
    assert str(caught.value).startswith(f"{path}:3: ")
    assert message in str(caught.value)
    assert caught.value.line == 3


def test_broken_utf8_names_its_line_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + b'{"id": "\xff"}\n')
    with pytest.raises(DataError, match=r"d\.jsonl:2: line: invalid UTF-8 at byte 8"):
        list(read_jsonl(path))


def test_from_json_refuses_a_lone_surrogate_that_json_loads_let_through() -> None:
    record = json.loads(json.dumps(with_message(content="hi \ud800")))
    with pytest.raises(DataError, match=r"f\.jsonl:7: messages\[0\]\.content: invalid Unicode"):
        Dialogue.from_json(record, path="f.jsonl", line=7)
    assert Dialogue.from_json(GOOD).messages[1].meta == {"strategy": ["Question"]}


def test_a_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        list(read_jsonl(tmp_path / "absent.jsonl"))
