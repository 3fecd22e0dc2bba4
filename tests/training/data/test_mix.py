"""``soulchat data mix``: counts per source, the reply-length filter, the manifest, bad specs."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from training.data.cli import app
from training.data.mix import MixPart
from training.data.schema import Dialogue, Message, read_jsonl, write_jsonl

root = typer.Typer()
root.add_typer(app, name="data")
runner = CliRunner()


def dialogues(source: str, language: str, n: int, reply: str) -> list[Dialogue]:
    return [
        Dialogue(
            id=f"{source}-{i}",
            source=source,
            language=language,
            messages=[Message("user", f"message {i}"), Message("assistant", reply)],
        )
        for i in range(n)
    ]


def write_split(tmp_path: Path, name: str, items: list[Dialogue]) -> Path:
    path = tmp_path / name / "train.jsonl"
    write_jsonl(items, path)
    return path


def test_mix_takes_the_counts_drops_long_replies_and_writes_a_manifest(tmp_path: Path) -> None:
    zh = write_split(tmp_path, "zh", dialogues("smilechat", "zh", 10, "能多说说吗？"))
    en = write_split(
        tmp_path,
        "en",
        dialogues("counsel_chat", "en", 6, "How long?")
        + dialogues("counsel_chat", "en", 4, "x" * 500),
    )
    out = tmp_path / "mix"
    result = runner.invoke(
        root, ["data", "mix", f"{zh}:3", str(en), "--longest-reply", "400", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    mixed = list(read_jsonl(out / "train.jsonl"))
    assert sum(d.source == "smilechat" for d in mixed) == 3
    assert sum(d.source == "counsel_chat" for d in mixed) == 6  # the 4 long replies left out
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sources"]["counsel_chat"]["licence"].startswith("MIT")
    assert manifest["parts"][1]["too_long"] == 4
    assert "How long" not in (out / "manifest.json").read_text(encoding="utf-8")  # no text


def test_the_same_seed_gives_the_same_mix(tmp_path: Path) -> None:
    zh = write_split(tmp_path, "zh", dialogues("smilechat", "zh", 20, "嗯。"))
    ids = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert runner.invoke(root, ["data", "mix", f"{zh}:5", "--out", str(out)]).exit_code == 0
        ids.append([d.id for d in read_jsonl(out / "train.jsonl")])
    assert ids[0] == ids[1]


def test_asking_for_more_than_qualify_is_refused_with_the_counts(tmp_path: Path) -> None:
    zh = write_split(tmp_path, "zh", dialogues("smilechat", "zh", 2, "嗯。"))
    result = runner.invoke(root, ["data", "mix", f"{zh}:5", "--out", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert "asked for 5 dialogues, only 2 qualify" in result.output


def test_a_missing_split_names_the_file(tmp_path: Path) -> None:
    result = runner.invoke(
        root, ["data", "mix", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "m")]
    )
    assert result.exit_code != 0
    assert "nope.jsonl" in result.output


def test_a_spec_without_a_count_takes_everything() -> None:
    assert MixPart.parse("data/x/train.jsonl") == MixPart(Path("data/x/train.jsonl"), None)
    assert MixPart.parse("data/x/train.jsonl:7") == MixPart(Path("data/x/train.jsonl"), 7)
