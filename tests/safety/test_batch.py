"""``soulchat safety screen``: JSON lines in, one verdict per line out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safety.batch import screen_lines
from safety.classifier import RiskClassifier
from safety.screen import LexiconScreen, RiskScreen
from soulchat.cli import app


@pytest.fixture(scope="module")
def screen() -> RiskScreen:
    return RiskScreen(LexiconScreen(), RiskClassifier.load())


def run(screen: RiskScreen, *records: object) -> list[dict[str, object]]:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    return list(screen_lines(screen, lines))


def test_a_single_message_and_a_conversation(screen: RiskScreen) -> None:
    out = run(
        screen,
        {"id": "a", "text": "I'm going to take all my pills tonight"},
        {"id": "b", "text": "笑死我了，这个视频太好笑"},
        {"id": "c", "messages": ["hey", {"role": "assistant", "content": "hi"}, "im fine"]},
    )
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert out[0]["tier"] == 4 and "suicide" in out[0]["categories"]  # type: ignore[operator]
    assert out[1]["tier"] == 0 and out[1]["categories"] == []
    assert out[2]["tier"] < 2  # the classifier may call small talk "elevated"; never more
    assert set(out[0]) == {"id", "tier", "categories", "score"}
    assert 0.0 < out[0]["score"] <= 1.0  # type: ignore[operator]


def test_a_later_retraction_does_not_lower_the_conversation(screen: RiskScreen) -> None:
    record = {
        "id": "r",
        "messages": ["I'm going to take all my pills tonight", "jk lol", "forget it"],
    }
    assert run(screen, record)[0]["tier"] == 4


def test_risk_spread_over_messages_is_seen() -> None:
    lexicon = RiskScreen(LexiconScreen(), classifier=None)
    parts = ["I've got a bottle of sleeping pills", "goodbye everyone, I'm sorry for everything"]
    alone = [run(lexicon, {"id": i, "text": p})[0]["tier"] for i, p in enumerate(parts)]
    together = run(lexicon, {"id": "w", "messages": parts})[0]["tier"]
    assert alone == [0, 0]
    assert together >= 2  # a means and a goodbye, in two messages


def test_assistant_turns_are_not_screened(screen: RiskScreen) -> None:
    record = {
        "id": "x",
        "messages": [{"role": "assistant", "text": "Do you want to kill yourself?"}],
    }
    assert run(screen, record)[0]["tier"] == 0


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        "[1, 2]",
        '{"id": 1}',
        '{"id": 2, "text": 5}',
        '{"id": 3, "messages": [5]}',
        '{"id": 4, "messages": [{"role": "user"}]}',
    ],
)
def test_bad_lines_get_an_error_in_their_place(screen: RiskScreen, line: str) -> None:
    out = run(screen, line, {"id": "ok", "text": "hello"})
    assert "error" in out[0] and "line 1" in str(out[0]["error"])
    assert out[1]["id"] == "ok" and "tier" in out[1]


def test_broken_unicode_and_huge_lines_are_screened(screen: RiskScreen) -> None:
    out = run(
        screen,
        {"id": "s", "text": "I want to die \ud800 now"},
        {"id": "h", "text": "word " * 50_000 + "I want to kill myself"},
    )
    assert out[0]["tier"] >= 2  # type: ignore[operator]
    assert "tier" in out[1]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOULCHAT_DATA_DIR", str(tmp_path))
    return tmp_path


def test_cli_reads_a_file_and_writes_json_lines(tmp_path: Path, data_dir: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": 1, "text": "我今晚就吃掉一整瓶安眠药"}, ensure_ascii=False)
        + "\n\n"
        + json.dumps({"id": 2, "messages": ["累死了", "今天加班到十点"]}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["safety", "screen", str(source)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == [1, 2]
    assert out[0]["tier"] == 4 and out[1]["tier"] == 0


def test_cli_reports_bad_lines_with_exit_status_1(data_dir: Path) -> None:
    result = CliRunner().invoke(
        app, ["safety", "screen", "--lexicon-only"], input='{"id": 1, "text": "hi"}\nnope\n'
    )
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert json.loads(lines[0])["tier"] == 0
    assert "error" in json.loads(lines[1])
