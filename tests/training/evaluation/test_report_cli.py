"""Result files, the side-by-side report, and ``soulchat eval`` end to end: the tiny local
model, the loopback TGI fake as an endpoint and as a judge, and bad input."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from inference.prompt import Turn
from tests.fakes.tgi_server import FakeTGIServer
from training.evaluation.cli import app
from training.evaluation.contexts import EvalContext, read_contexts
from training.evaluation.judge import Judgement, JudgeOutcome, JudgeSummary
from training.evaluation.metrics import METRIC_NAMES
from training.evaluation.report import write_report
from training.evaluation.result import EvalResult, ReplyRecord, ResultError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JUDGE_ANSWER = '{"content": 2, "empathy": 1, "helpfulness": 1, "safety": 1, "reason": "ok"}'

runner = CliRunner()


def record(id: str, reply: str, language: str = "en") -> ReplyRecord:
    turns = (Turn("user", f"context of {id} | with a pipe"),)
    return ReplyRecord(EvalContext(id, language, turns, f"reference of {id}"), reply)


def result(name: str, ids: list[str], judged: bool = False) -> EvalResult:
    records = [record(i, f"{name} says hi to {i}?") for i in ids]
    summary = None
    if judged:
        for item in records:
            item.judge = JudgeOutcome(Judgement(2, 1, 1, 1, "fine"), raw=JUDGE_ANSWER)
        records[-1].judge = JudgeOutcome(None, "no JSON object", raw="nope")
        means = {"content": 2.0, "empathy": 1.0, "helpfulness": 1.0, "safety": 1.0}
        summary = JudgeSummary(means, len(records) - 1, 1)
    metrics = {metric: float(n) for n, metric in enumerate(METRIC_NAMES)}
    return EvalResult(
        name, f"models/{name}", records, metrics, {"style": "chat_template"}, judge=summary
    )


# -- result files and the report -----------------------------------------------------------


def test_results_round_trip(tmp_path: Path) -> None:
    original = result("base", ["a#1", "b#3"], judged=True)
    original.save(tmp_path / "base.json")
    saved = json.loads((tmp_path / "base.json").read_text())
    assert saved["n_contexts"] == 2 and saved["examples"][0]["id"] == "a#1"
    assert EvalResult.load(tmp_path / "base.json") == original


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("{oops", "not valid JSON"),
        ('{"version": 99}', "not a version 1 result file"),
        ('{"version": 1, "records": []}', "records: expected a non-empty list"),
    ],
)
def test_bad_result_files(tmp_path: Path, content: str | None, problem: str) -> None:
    path = tmp_path / "result.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ResultError, match=problem):
        EvalResult.load(path)


def test_report_puts_models_side_by_side(tmp_path: Path) -> None:
    results = [result("base", ["a#1", "b#3"]), result("tuned", ["a#1", "b#3"], judged=True)]
    files = write_report(results, tmp_path / "report", examples=1)
    markdown = files.markdown.read_text()
    assert "| metric | base | tuned |" in markdown
    assert "| BLEU-1 | 0.00 | 0.00 |" in markdown
    assert "| Asks a question (%) | 10.00 | 10.00 |" in markdown
    assert "| Judge: empathy (0-2) | – | 1.00 |" in markdown
    assert "| Judge failures | – | 1 / 2 |" in markdown
    assert "scored by characters" in markdown
    assert "not scored on the same contexts" not in markdown
    # One example: its context (a pipe kept inside the line), the reference, both replies.
    assert "### a#1" in markdown and "### b#3" not in markdown
    assert "context of a#1 \\| with a pipe" in markdown
    assert "- **tuned:** tuned says hi to a#1?" in markdown
    summary = json.loads(files.json.read_text())
    assert [model["name"] for model in summary["models"]] == ["base", "tuned"]
    assert "records" not in summary["models"][0] and summary["same_contexts"]
    assert [chart.name for chart in files.charts] == ["overlap.png", "behaviour.png", "judge.png"]
    for chart in files.charts:
        assert chart.read_bytes().startswith(PNG_MAGIC)
        assert f"]({chart.name})" in markdown


def test_report_warns_when_contexts_differ(tmp_path: Path) -> None:
    results = [result("base", ["a#1"]), result("base", ["a#1", "c#1"])]
    files = write_report(results, tmp_path)
    markdown = files.markdown.read_text()
    assert "not scored on the same contexts" in markdown
    assert "| metric | base | base (2) |" in markdown
    assert [chart.name for chart in files.charts] == ["overlap.png", "behaviour.png"]


# -- the command line ----------------------------------------------------------------------


def dialogues_file(path: Path) -> Path:
    lines = [
        {
            "id": "en-1",
            "source": "test",
            "language": "en",
            "messages": [
                {"role": "user", "content": "I feel lonely at work."},
                {"role": "assistant", "content": "That sounds hard. What happened?"},
                {"role": "user", "content": "Nobody talks to me."},
                {"role": "assistant", "content": "Here are some tips:\n1. Say hi.\n2. Eat lunch."},
            ],
        },
        {
            "id": "zh-1",
            "source": "test",
            "language": "zh",
            "messages": [
                {"role": "user", "content": "我最近很难过。"},
                {"role": "assistant", "content": "听起来你很辛苦，愿意多说一点吗？"},
            ],
        },
    ]
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n")
    return path


def invoke(*args: str | Path) -> Result:
    return runner.invoke(app, [str(arg) for arg in args])


def assert_clear_error(outcome: Result, problem: str) -> None:
    assert outcome.exit_code == 2, outcome.output
    assert isinstance(outcome.exception, SystemExit)  # not a traceback
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("soulchat eval: ")
    assert problem in lines[0]


def test_run_judge_and_report_end_to_end(tmp_path: Path, tiny_model_dir: Path) -> None:
    data = dialogues_file(tmp_path / "valid.jsonl")
    contexts = tmp_path / "contexts.jsonl"
    local = invoke(
        "run", "--data", data, "--contexts", contexts, "--model", tiny_model_dir,
        "--name", "tiny", "--max-new-tokens", "8", "--batch-size", "2", "--device", "cpu",
        "--out", tmp_path / "tiny.json",
    )  # fmt: skip
    assert local.exit_code == 0, local.output
    assert "wrote 3 contexts" in local.stderr
    assert [c.id for c in read_contexts(contexts)] == ["en-1#1", "en-1#3", "zh-1#1"]
    with FakeTGIServer() as tgi:
        remote = invoke(
            "run", "--contexts", contexts, "--endpoint", tgi.url, "--endpoint-model", "served",
            "--out", tmp_path / "served.json",
        )  # fmt: skip
    assert remote.exit_code == 0, remote.output
    assert "read 3 contexts" in remote.stderr
    served = EvalResult.load(tmp_path / "served.json")
    assert served.name == "served" and served.endpoint == tgi.url + "/v1/chat/completions"
    assert [r.reply for r in served.records] == [tgi.reply] * 3
    assert served.context_ids() == EvalResult.load(tmp_path / "tiny.json").context_ids()
    with FakeTGIServer(tokens=(JUDGE_ANSWER,)) as judge:
        judged = invoke("judge", tmp_path / "served.json", "--endpoint", judge.url)
    assert judged.exit_code == 0, judged.output
    assert "3 judged" in judged.stdout and "0 judge failures" in judged.stdout
    summary = EvalResult.load(tmp_path / "served.json").judge
    assert summary is not None and summary.means["content"] == 2.0
    report = invoke("report", tmp_path / "tiny.json", tmp_path / "served.json",
                    "--out", tmp_path / "report")  # fmt: skip
    assert report.exit_code == 0, report.output
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "| metric | tiny | served |" in markdown and "### zh-1#1" in markdown


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    assert_clear_error(invoke("run", "--data", tmp_path / "nope.jsonl", "--out", out), "nope")
    assert_clear_error(invoke("run", "--out", out), "give --data")
    malformed = tmp_path / "malformed.jsonl"
    malformed.write_text('{"id": "x"\n')
    assert_clear_error(invoke("run", "--data", malformed, "--out", out), ":1: line: not valid")
    only_user = tmp_path / "only-user.jsonl"
    only_user.write_text(
        '{"id": "u", "source": "t", "language": "en", '
        '"messages": [{"role": "user", "content": "hello"}]}\n'
    )
    assert_clear_error(
        invoke("run", "--data", only_user, "--out", out), "no assistant turn follows"
    )
    data = dialogues_file(tmp_path / "valid.jsonl")
    assert_clear_error(
        invoke("run", "--data", data, "--model", tmp_path / "missing-model", "--out", out),
        "does not exist",
    )
    down = f"http://127.0.0.1:{closed_port()}"
    assert_clear_error(
        invoke("run", "--data", data, "--endpoint", down, "--retries", "0", "--out", out),
        "cannot reach",
    )
    assert_clear_error(
        invoke("run", "--data", data, "--max-new-tokens", "4096", "--out", out),
        "--max-new-tokens must be below",
    )
    assert_clear_error(
        invoke("run", "--data", data, "--endpoint", down, "--model", "x", "--out", out),
        "--model and --adapter are for a local model",
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert_clear_error(invoke("report", broken, "--out", tmp_path / "r"), "not valid JSON")
    assert_clear_error(invoke("judge", broken, "--endpoint", down), "not valid JSON")
    assert not out.exists()


def test_contexts_command_samples_once_for_every_model(tmp_path: Path) -> None:
    data = dialogues_file(tmp_path / "valid.jsonl")
    out = tmp_path / "contexts.jsonl"
    sampled = invoke("contexts", "--data", data, "--out", out, "--max-contexts", "2",
                     "--seed", "7", "--max-turns", "0")  # fmt: skip
    assert sampled.exit_code == 0, sampled.output
    assert "wrote 2 contexts" in sampled.stdout
    first = read_contexts(out)
    invoke("contexts", "--data", data, "--out", out, "--max-contexts", "2", "--seed", "7")
    assert [c.id for c in read_contexts(out)] == [c.id for c in first]
    capped = invoke("contexts", "--data", data, "--out", out, "--per-dialogue", "1")
    assert capped.exit_code == 0 and len(read_contexts(out)) == 2
