"""``soulchat data prepare`` and ``soulchat data stats`` end to end on fixture files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from training.data.cli import app
from training.data.schema import read_jsonl

root = typer.Typer()
root.add_typer(app, name="data")
runner = CliRunner()


POOL = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"


def smile(n: int) -> dict[str, object]:
    rng = random.Random(n)
    words = "".join(rng.choice(POOL) for _ in range(60))  # unlike any other: no near-copies
    return {
        "id": str(n),
        "dialogue": [
            {"role": "client", "content": f"我最近总是很焦虑：{words}"},
            {"role": "counselor", "content": "谢谢你愿意说出来。能多讲讲吗？"},
            {"role": "client", "content": "好的。我的电话是13812345678。"},
        ],
    }


def esconv(n: int) -> dict[str, object]:
    rng = random.Random(n)
    words = " ".join(
        rng.choice(["sad", "tired", "alone", "lost", "angry", "numb"]) for _ in range(20)
    )
    return {
        "emotion_type": "sadness",
        "problem_type": "breakup",
        "dialog": [
            {"text": f"Hi, my partner just left me. I feel {words}.", "speaker": "usr"},
            {
                "text": "I am so sorry. How are you holding up?",
                "speaker": "sys",
                "strategy": "Question",
            },
        ],
    }


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> list[Path]:
    records: list[object] = [smile(n) for n in range(40)]
    single = {"id": "single", "dialogue": [{"role": "client", "content": "有人吗？"}]}
    records += [{**smile(0), "id": "copy"}, single]
    return [
        write_jsonl(tmp_path / "smilechat.jsonl", records),
        write_jsonl(tmp_path / "esconv_train.jsonl", [esconv(n) for n in range(3)]),
    ]


def test_prepare_end_to_end(tmp_path: Path, inputs: list[Path]) -> None:
    out = tmp_path / "prepared"
    args = ["data", "prepare", *map(str, inputs), "--out", str(out), "--valid", "0.1"]
    result = runner.invoke(root, [*args, "--test", "0.1", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "loaded" in result.output and "wrote train" in result.output
    assert "焦虑" not in result.output  # no dialogue text on the terminal

    splits = {name: list(read_jsonl(out / f"{name}.jsonl")) for name in ("train", "valid", "test")}
    ids = [d.id for part in splits.values() for d in part]
    assert len(ids) == len(set(ids)) == 43  # 42 + 3 loaded; an exact copy, a lone turn gone
    assert "smilechat-single" not in ids and "smilechat-copy" not in ids
    assert {"esconv-train-1", "esconv-train-2", "esconv-train-3"} <= set(ids)
    assert len(splits["valid"]) >= 4 and len(splits["test"]) >= 4
    every = [d for part in splits.values() for d in part]
    assert all("13812345678" not in m.content for d in every for m in d.messages)

    report = json.loads((out / "prepare.json").read_text(encoding="utf-8"))
    assert [i["loaded"] for i in report["inputs"]] == [42, 3]
    assert report["cleaning"]["dropped"] == {"exact_duplicate": 1, "too_few_turns": 1}
    assert report["cleaning"]["scrubbed"]["phone"] == 41  # scrubbing runs before dedupe
    assert report["splits"] == {name: len(part) for name, part in splits.items()}
    assert report["config"]["seed"] == 1
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert stats["all"]["total"]["dialogues"] == 43
    assert stats["all"]["by_source"]["esconv"]["dialogues"] == 3
    assert stats["splits"]["test"]["total"]["dialogues"] == len(splits["test"])
    assert "| all | 43 |" in (out / "stats.md").read_text(encoding="utf-8")


def test_prepare_is_deterministic(tmp_path: Path, inputs: list[Path]) -> None:
    for name in ("one", "two"):
        result = runner.invoke(
            root, ["data", "prepare", *map(str, inputs), "-o", str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.output
    for split in ("train", "valid", "test"):
        one = (tmp_path / "one" / f"{split}.jsonl").read_bytes()
        assert one == (tmp_path / "two" / f"{split}.jsonl").read_bytes()


def test_switches_reach_the_cleaning(tmp_path: Path, inputs: list[Path]) -> None:
    out = tmp_path / "out"
    args = ["data", "prepare", *map(str, inputs), "-o", str(out), "--no-dedupe", "--no-scrub"]
    result = runner.invoke(root, [*args, "--min-turns", "1", "--language", "zh"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "prepare.json").read_text(encoding="utf-8"))
    assert report["cleaning"]["dropped"] == {"language_mismatch": 3}  # the English ones
    assert report["cleaning"]["output"] == 42
    assert sum(report["cleaning"]["scrubbed"].values()) == 0


def test_self_harm_threshold_and_length_switches(tmp_path: Path) -> None:
    crisis = esconv(7)
    crisis["dialog"][0]["text"] = "I want to kill myself."  # type: ignore[index]
    long = esconv(8)
    long["dialog"].append({"text": "word " * 100, "speaker": "usr"})  # type: ignore[attr-defined]
    path = write_jsonl(tmp_path / "esconv.jsonl", [esconv(1), crisis, long])
    out = tmp_path / "out"
    args = ["data", "prepare", str(path), "-o", str(out), "--drop-self-harm", "--max-chars", "300"]
    result = runner.invoke(root, [*args, "--near-dup-threshold", "0.9"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "prepare.json").read_text(encoding="utf-8"))
    assert report["cleaning"]["dropped"] == {"self_harm": 1}
    assert report["cleaning"]["truncated"] == {"message_too_long": 1}
    assert report["config"]["cleaning"]["near_dup_threshold"] == 0.9
    assert report["config"]["cleaning"]["drop_self_harm"] is True


def test_bad_input_is_one_clear_line(tmp_path: Path, inputs: list[Path]) -> None:
    bad = write_jsonl(tmp_path / "esconv_bad.jsonl", [esconv(0), {"dialog": [{"speaker": "usr"}]}])
    out = tmp_path / "out"
    result = runner.invoke(root, ["data", "prepare", str(inputs[0]), str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert result.output.strip() == f"soulchat: {bad}:2: dialog[0].text: missing"
    assert "Traceback" not in result.output
    assert not (out / "train.jsonl").exists()

    result = runner.invoke(root, ["data", "prepare", str(bad), "-o", str(out), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert f"skipped: {bad}:2: dialog[0].text: missing" in result.output
    report = json.loads((out / "prepare.json").read_text(encoding="utf-8"))
    assert (report["inputs"][0]["loaded"], report["inputs"][0]["skipped"]) == (1, 1)


def test_the_same_file_twice_is_an_error(tmp_path: Path, inputs: list[Path]) -> None:
    out = str(tmp_path / "out")
    result = runner.invoke(root, ["data", "prepare", str(inputs[1]), str(inputs[1]), "-o", out])
    assert result.exit_code == 2
    assert "id: 'esconv-train-1' was already loaded" in result.output


def test_bad_options(tmp_path: Path, inputs: list[Path]) -> None:
    base = ["data", "prepare", str(inputs[0]), "-o", str(tmp_path / "o")]
    result = runner.invoke(root, [*base, "--format", "csv"])
    assert result.exit_code == 2 and "--format must be one of" in result.output
    result = runner.invoke(root, [*base, "--valid", "0.6", "--test", "0.5"])
    assert result.exit_code == 2 and "fractions" in result.output
    result = runner.invoke(root, [*base, "--format", "esconv"])
    assert result.exit_code == 2 and "dialog: missing" in result.output


def test_stats_of_prepared_and_raw_files(tmp_path: Path, inputs: list[Path]) -> None:
    out = tmp_path / "prepared"
    assert (
        runner.invoke(root, ["data", "prepare", *map(str, inputs), "-o", str(out)]).exit_code == 0
    )
    files = [str(out / f"{name}.jsonl") for name in ("train", "valid", "test")]
    result = runner.invoke(root, ["data", "stats", *files])
    assert result.exit_code == 0, result.output
    assert "| all | 43 |" in result.output and "| source: esconv | 3 |" in result.output

    result = runner.invoke(root, ["data", "stats", str(inputs[1]), "--format", "esconv", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"]["turns"] == 6

    missing = tmp_path / "missing.jsonl"
    result = runner.invoke(root, ["data", "stats", str(missing)])
    assert result.exit_code == 2
    assert result.output.strip() == f"soulchat: {missing}: file: no such file or directory"
