"""Loaders: each corpus format, written here in its real shape, into the normalised form."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from training.data.loaders import LOADERS, LoadReport, detect_format, load
from training.data.schema import DataError, Dialogue, write_jsonl


def write_lines(path: Path, records: list[Any]) -> Path:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_array(path: Path, records: list[Any]) -> Path:
    path.write_text(json.dumps(records, ensure_ascii=False, indent=4), encoding="utf-8")
    return path


def roles(dialogue: Dialogue) -> list[str]:
    return [m.role for m in dialogue.messages]


def texts(dialogue: Dialogue) -> list[str]:
    return [m.content for m in dialogue.messages]


# --- ESConv ------------------------------------------------------------------------------------

ESCONV = {
    "experience_type": "Current Experience",
    "emotion_type": "anxiety",
    "problem_type": "job crisis",
    "situation": "I may lose my job.",
    "survey_score": {"seeker": {"empathy": "5"}},
    "dialog": [
        {"text": "Hi there, how are you?", "speaker": "sys", "strategy": "Question"},
        {"text": "Hello.", "speaker": "usr"},
        {"text": "I'm anxious about my job.", "speaker": "usr"},
        {"text": "That sounds hard.", "speaker": "sys", "strategy": "Reflection of feelings"},
        {"text": "What happened?", "speaker": "sys", "strategy": "Question"},
        {"text": "I may be laid off.", "speaker": "usr"},
    ],
}


def test_esconv_merges_turns_keeps_strategies_and_metadata(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "esconv.jsonl", [ESCONV, ESCONV])
    report = LoadReport(str(path))
    dialogues = list(load(path, "esconv", report=report))

    first = dialogues[0]
    assert [d.id for d in dialogues] == ["esconv-1", "esconv-2"]
    assert (first.source, first.language, first.topic) == ("esconv", "en", "job crisis")
    # the opening supporter turn is dropped, so the dialogue starts with the seeker
    assert roles(first) == ["user", "assistant", "user"]
    assert texts(first)[0] == "Hello.\nI'm anxious about my job."
    assert first.messages[1].meta == {"strategy": ["Reflection of feelings", "Question"]}
    assert first.messages[0].meta == {}
    assert first.meta["emotion_type"] == "anxiety"
    assert first.meta["situation"] == "I may lose my job."
    assert first.meta["dropped_leading_assistant"] == 1
    assert report.notes["dropped_leading_assistant"] == 2
    assert (report.loaded, report.skipped, report.format) == (2, 0, "esconv")


def test_esconv_gz_ids_carry_the_file_tag(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "esconv_valid.jsonl.gz", [ESCONV])
    assert detect_format(path) == "esconv"
    assert [d.id for d in load(path)] == ["esconv-valid-1"]


# --- Counsel Chat ------------------------------------------------------------------------------

COUNSEL = {
    "question_id": "12",
    "title": "How do I stop feeling worthless?",
    "question": "I barely sleep and I keep thinking I am worthless.",
    "topic": "depression",
    "answer": "It sounds exhausting to carry that thought every night. What happens when it comes?",
    "upvotes": "3",
    "split": "train",
}


def test_counsel_chat_answers_become_single_exchanges(tmp_path: Path) -> None:
    second = {**COUNSEL, "answer": "Another therapist's answer.", "question": ""}
    path = write_lines(tmp_path / "counsel_chat.jsonl", [COUNSEL, second, {"question_id": "9"}])
    report = LoadReport(str(path))
    first, other = load(path, skip_invalid=True, report=report)
    assert detect_format(path) == "counsel_chat"
    assert (first.id, first.source, first.language, first.topic) == (
        "counselchat-12-1",
        "counsel_chat",
        "en",
        "depression",
    )
    assert roles(first) == ["user", "assistant"]
    assert texts(first) == [COUNSEL["question"], COUNSEL["answer"]]
    assert first.meta == {"question_id": "12", "upvotes": "3", "split": "train"}
    assert texts(other)[0] == COUNSEL["title"]  # an empty body: the title is the question
    assert report.notes["title_as_question"] == 1
    assert (report.loaded, report.skipped) == (2, 1)  # the record without text is refused


def test_counsel_chat_is_recognised_by_its_keys_whatever_the_name(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "answers.jsonl", [COUNSEL])
    assert detect_format(path) == "counsel_chat"


# --- SMILECHAT ---------------------------------------------------------------------------------

SMILE_TURNS = [
    {"role": "client", "content": "我最近很焦虑。"},
    {"role": "client", "content": "晚上睡不着。"},
    {"role": "counselor", "content": "听起来你压力很大，愿意多说一点吗？"},
    {"role": "client", "content": "是工作的事。"},
]


def test_smilechat_json_lines(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "smile.jsonl", [{"id": "7", "dialogue": SMILE_TURNS}])
    (dialogue,) = load(path)
    assert (dialogue.id, dialogue.source, dialogue.language) == ("smilechat-7", "smilechat", "zh")
    assert roles(dialogue) == ["user", "assistant", "user"]
    assert texts(dialogue)[0] == "我最近很焦虑。\n晚上睡不着。"


def test_smilechat_directory_of_files(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    for number in (10, 2):
        (folder / f"{number}.json").write_text(json.dumps(SMILE_TURNS), encoding="utf-8")
    assert detect_format(folder) == "smilechat"
    assert [d.id for d in load(folder)] == ["smilechat-2", "smilechat-10"]  # natural order


# --- CPsyCounD ---------------------------------------------------------------------------------

CASE = (
    "来访者：我最近总是失眠。\r\n\r\n"
    "来访者：而且白天没有精神。\r\n\r\n"
    "心理咨询师：听起来很辛苦。我有几个建议：\r\n\r\n"
    "1. 规律作息。\r\n\r\n"
    "（来访者进行深呼吸）\r\n\r\n"
    "来访者:谢谢你。\r\n\r\n"
    "妈妈：我也想帮她。\r\n\r\n"
    "心理咨询师：好的，我们一起努力。\r\n\r\n"
    "来访者：\r\n"
)


def test_cpsycound_paragraphs(tmp_path: Path) -> None:
    folder = tmp_path / "Data"
    folder.mkdir()
    (folder / "case_12.txt").write_text(CASE, encoding="utf-8")
    report = LoadReport(str(folder))
    (dialogue,) = load(folder, report=report)
    assert (dialogue.id, dialogue.source, dialogue.language) == (
        "cpsycound-case_12",
        "cpsycound",
        "zh",
    )
    assert roles(dialogue) == ["user", "assistant", "user", "assistant"]
    assert texts(dialogue) == [
        "我最近总是失眠。\n而且白天没有精神。",  # two paragraphs in a row merge
        "听起来很辛苦。我有几个建议：\n1. 规律作息。",  # a numbered item continues the turn
        "谢谢你。\n妈妈：我也想帮她。",  # ASCII colon; a family member is on the client side
        "好的，我们一起努力。",
    ]
    assert report.notes["stage_directions_dropped"] == 1
    assert report.notes["trailing_empty_label_dropped"] == 1


def test_cpsycound_archive_is_read_without_extracting(tmp_path: Path) -> None:
    archive = tmp_path / "cpsycound.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in (("Data/case_3.txt", CASE), ("Data/case_1.txt", "来访者：你好\n")):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert detect_format(archive) == "cpsycound"
    dialogues = list(load(archive))
    assert {d.id for d in dialogues} == {"cpsycound-case_3", "cpsycound-case_1"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpsycound.tar.gz"]


def test_cpsycound_errors_name_the_member_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "Data"
    folder.mkdir()
    (folder / "case_1.txt").write_text("没有标签的开头\n\n来访者：你好\n", encoding="utf-8")
    (folder / "case_2.txt").write_text("来访者：你好\n\n心理咨询师：\n\n来访者：嗯\n", "utf-8")
    with pytest.raises(DataError, match=r"case_1\.txt:1: paragraph: text before the first"):
        list(load(folder))
    report = LoadReport(str(folder))
    assert list(load(folder, skip_invalid=True, report=report)) == []
    assert report.skipped == 2
    assert any("case_2.txt:3: paragraph: empty content" in r for r in report.reasons)


# --- EmoLLM --------------------------------------------------------------------------------------

EMOLLM = [
    {
        "conversation": [
            {"system": "现在你是一个心理专家。", "input": "我很焦虑。", "output": "我在听。"},
            {"input": "考试快到了。", "output": "我们一起想办法。"},
        ]
    },
    {"conversation": [{"input": "你好", "output": "你好，有什么想聊的吗？"}]},
]


def test_emollm_array(tmp_path: Path) -> None:
    path = write_array(tmp_path / "emollm.json", EMOLLM)
    assert detect_format(path) == "emollm"
    report = LoadReport(str(path))
    first, second = load(path, report=report)
    assert (first.id, second.id) == ("emollm-1", "emollm-2")
    assert roles(first) == ["user", "assistant", "user", "assistant"]
    assert texts(first)[2] == "考试快到了。"
    assert first.meta == {"system": "现在你是一个心理专家。"}
    assert second.meta == {}
    assert report.notes["system_dropped"] == 1


def test_array_errors_name_the_line_of_the_element(tmp_path: Path) -> None:
    broken = [EMOLLM[0], {"conversation": [{"input": "你好"}]}]
    path = write_array(tmp_path / "emollm.json", broken)
    line = path.read_text(encoding="utf-8").splitlines().index("    {", 2) + 1
    with pytest.raises(DataError) as caught:
        list(load(path))
    assert caught.value.line == line
    assert caught.value.field_name == "[1].conversation[0].output"
    assert str(caught.value) == f"{path}:{line}: [1].conversation[0].output: missing"


# --- SoulChatCorpus and generic messages -------------------------------------------------------


def test_soulchat_sharegpt_and_openai_keys(tmp_path: Path) -> None:
    records = [
        {
            "id": "a1",
            "topic": "学业",
            "messages": [
                {"from": "system", "value": "你是心理咨询师。"},
                {"from": "human", "value": "我考砸了。"},
                {"from": "gpt", "value": "很难过吧。"},
            ],
        },
        {"topic": "情感", "messages": [{"role": "user", "content": "我失恋了。"}]},
    ]
    path = write_array(tmp_path / "soulchat_corpus.json", records)
    assert detect_format(path) == "soulchat"
    report = LoadReport(str(path))
    first, second = load(path, report=report)
    assert (first.id, first.topic, first.language) == ("soulchat-a1", "学业", "zh")
    assert texts(first) == ["我考砸了。", "很难过吧。"]
    assert second.id == "soulchat-corpus-2"
    assert report.notes["system_dropped"] == 1


def test_messages_round_trip_of_the_normalised_form(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "esconv.jsonl", [ESCONV])
    original = list(load(path))
    prepared = tmp_path / "train.jsonl"
    write_jsonl(original, prepared)
    assert detect_format(prepared) == "messages"
    assert [d.to_json() for d in load(prepared)] == [d.to_json() for d in original]


def test_messages_openai_style_detects_language(tmp_path: Path) -> None:
    records = [
        {
            "messages": [
                {"role": "system", "content": "Be kind."},
                {"role": "user", "content": "hi"},
            ]
        },
        {
            "messages": [
                {"role": "user", "content": "我很难过"},
                {"role": "assistant", "content": "嗯"},
            ]
        },
    ]
    path = write_lines(tmp_path / "chats.jsonl", records)
    english, chinese = load(path)
    assert (english.id, english.source, english.language) == ("messages-chats-1", "messages", "en")
    assert texts(english) == ["hi"]
    assert chinese.language == "zh"


# --- malformed input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"dialog": [{"text": "  ", "speaker": "usr"}]}', "2: dialog[0].text: empty content"),
        ('{"dialog": [{"text": "hi", "speaker": "bot"}]}', "2: dialog[0].speaker: unknown role"),
        ('{"dialog": [{"text": "hi"}]}', "2: dialog[0].speaker: missing"),
        ('{"situation": "x"}', "2: dialog: missing"),
        ("{not json", "2: line: not valid JSON"),
        ('{"dialog": [{"text": "hi", "speaker": "sys"}]}', "2: messages: no user turn"),
        ('{"dialog": [{"text": 3, "speaker": "usr"}]}', "2: dialog[0].text: expected a string"),
    ],
)
def test_malformed_records_name_file_line_and_field(
    tmp_path: Path, line: str, expected: str
) -> None:
    path = tmp_path / "esconv.jsonl"
    path.write_text(json.dumps(ESCONV) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        list(load(path))
    assert str(caught.value).startswith(f"{path}:{expected}")


def test_broken_utf8_is_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "smile.jsonl"
    good = json.dumps({"id": "1", "dialogue": SMILE_TURNS}, ensure_ascii=False).encode()
    path.write_bytes(good + b"\n" + good.replace("焦".encode(), b"\xe7\x84") + b"\n" + good)
    with pytest.raises(DataError, match=r"smile\.jsonl:2: text: invalid UTF-8"):
        list(load(path))


def test_skip_invalid_counts_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "smile.jsonl"
    rows = [
        json.dumps({"id": "1", "dialogue": SMILE_TURNS}, ensure_ascii=False),
        "not json",
        json.dumps({"id": "3", "dialogue": [{"role": "therapist", "content": "hi"}]}),
        json.dumps({"dialogue": SMILE_TURNS}, ensure_ascii=False),
        json.dumps({"id": "5", "dialogue": SMILE_TURNS}, ensure_ascii=False),
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=":2: line"):
        list(load(path))  # by default the first bad record stops loading
    report = LoadReport(str(path))
    kept = list(load(path, skip_invalid=True, report=report))
    assert [d.id for d in kept] == ["smilechat-1", "smilechat-5"]
    assert (report.loaded, report.skipped) == (2, 3)
    assert report.reasons[0].startswith(f"{path}:2: line:")
    assert ":3: dialogue[0].role: unknown role 'therapist'" in report.reasons[1]
    assert report.reasons[2].endswith(":4: id: missing")


def test_file_level_problems_always_raise(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        list(load(tmp_path / "missing.jsonl", "esconv", skip_invalid=True))
    fake = tmp_path / "esconv.jsonl.gz"
    fake.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="cannot read"):
        list(load(fake, "esconv", skip_invalid=True))


def test_detection_and_registry(tmp_path: Path) -> None:
    assert set(LOADERS) == {
        "soulchat",
        "smilechat",
        "cpsycound",
        "esconv",
        "emollm",
        "counsel_chat",
        "messages",
    }
    unknown = write_lines(tmp_path / "data.jsonl", [{"foo": 1}])
    with pytest.raises(DataError, match="cannot tell the format"):
        load(unknown)
    with pytest.raises(ValueError, match="unknown format"):
        load(unknown, "csv")


# --- the real files (only on the project's own machines) --------------------------------------

REAL = [
    ("esconv_train.jsonl.gz", "esconv", "en"),
    ("esconv_valid.jsonl.gz", "esconv", "en"),
    ("smilechat.jsonl.gz", "smilechat", "zh"),
    ("cpsycound.tar.gz", "cpsycound", "zh"),
    ("emollm_data.json.gz", "emollm", "zh"),
    ("counsel_chat.jsonl.gz", "counsel_chat", "en"),
]


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "fmt", "language"), REAL)
def test_real_file_first_records(shared_data: Path, name: str, fmt: str, language: str) -> None:
    path = shared_data / name
    assert detect_format(path) == fmt
    report = LoadReport(str(path))
    dialogues = list(itertools.islice(load(path, skip_invalid=True, report=report), 50))
    assert len(dialogues) == 50
    assert report.skipped == 0
    for dialogue in dialogues:
        assert (dialogue.source, dialogue.language) == (fmt, language)
        assert dialogue.messages[0].role == "user"
        assert all(a.role != b.role for a, b in itertools.pairwise(dialogue.messages))
        assert all(m.content.strip() for m in dialogue.messages)
    assert len({d.id for d in dialogues}) == 50
