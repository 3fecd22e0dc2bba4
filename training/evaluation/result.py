"""One model's evaluation, saved as JSON: what was run, every reply, its scores, and the
judge's scores once ``soulchat eval judge`` has added them."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from training.data.schema import DataError
from training.evaluation.contexts import EvalContext
from training.evaluation.judge import DIMENSIONS, Judgement, JudgeOutcome, JudgeSummary

RESULT_VERSION = 1
EXAMPLES_IN_SUMMARY = 3


class ResultError(ValueError):
    """A result file that cannot be read; the message names the file and the problem."""


@dataclass
class ReplyRecord:
    context: EvalContext
    reply: str
    judge: JudgeOutcome | None = None

    def to_json(self) -> dict[str, Any]:
        record = {**self.context.to_json(), "reply": self.reply}
        record["judge"] = self.judge.to_json() if self.judge is not None else None
        return record

    @classmethod
    def from_json(cls, obj: Any, where: str) -> ReplyRecord:
        context = EvalContext.from_json(obj, where=where)
        reply = obj.get("reply")
        if not isinstance(reply, str):
            raise DataError(where, None, "reply", "expected a string")
        return cls(context, reply, _judge_from_json(obj.get("judge"), where))


def _judge_from_json(raw: Any, where: str) -> JudgeOutcome | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DataError(where, None, "judge", "expected an object or null")
    judgement = raw.get("judgement")
    parsed: Judgement | None = None
    if isinstance(judgement, dict):
        try:
            parsed = Judgement(
                **{name: int(judgement[name]) for name in DIMENSIONS},
                reason=str(judgement.get("reason") or ""),
            )
        except (KeyError, TypeError, ValueError):
            raise DataError(where, None, "judge.judgement", "expected the four scores") from None
    error = raw.get("error")
    return JudgeOutcome(parsed, str(error) if error else None, str(raw.get("raw") or ""))


@dataclass
class EvalResult:
    name: str
    model: str  # what generated the replies: a path, a hub id, the default model, or a name
    records: list[ReplyRecord]
    metrics: dict[str, float]
    generation: dict[str, Any] = field(default_factory=dict)
    adapter: str = ""
    endpoint: str = ""  # redacted: no credentials or query
    judge: JudgeSummary | None = None
    judge_endpoint: str = ""
    judge_model: str = ""
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def n_contexts(self) -> int:
        return len(self.records)

    def context_ids(self) -> list[str]:
        return [record.context.id for record in self.records]

    def languages(self) -> Counter[str]:
        return Counter(record.context.language for record in self.records)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": RESULT_VERSION,
            "name": self.name,
            "model": self.model,
            "adapter": self.adapter,
            "endpoint": self.endpoint,
            "created": self.created,
            "n_contexts": self.n_contexts,
            "generation": self.generation,
            "metrics": self.metrics,
            "judge": self.judge.to_json() if self.judge is not None else None,
            "judge_endpoint": self.judge_endpoint,
            "judge_model": self.judge_model,
            "examples": [
                {"id": record.context.id, "reply": record.reply}
                for record in self.records[:EXAMPLES_IN_SUMMARY]
            ],
            "records": [record.to_json() for record in self.records],
        }

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), "utf-8")
        temporary.replace(path)  # a crash never leaves half a result

    @classmethod
    def load(cls, path: str | Path) -> EvalResult:
        try:
            obj = json.loads(Path(path).read_text("utf-8"))
        except FileNotFoundError:
            raise ResultError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ResultError(f"{path}: cannot read it ({exc})") from None
        except json.JSONDecodeError as exc:
            raise ResultError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        try:
            return cls.from_json(obj, str(path))
        except DataError as exc:
            raise ResultError(str(exc)) from None

    @classmethod
    def from_json(cls, obj: Any, where: str) -> EvalResult:
        if not isinstance(obj, dict) or obj.get("version") != RESULT_VERSION:
            raise DataError(where, None, "version", f"not a version {RESULT_VERSION} result file")
        raw_records = obj.get("records")
        if not isinstance(raw_records, list) or not raw_records:
            raise DataError(where, None, "records", "expected a non-empty list")
        records = [
            ReplyRecord.from_json(raw, f"{where}: records[{index}]")
            for index, raw in enumerate(raw_records)
        ]
        metrics = obj.get("metrics")
        if not isinstance(metrics, dict) or not all(
            isinstance(value, int | float) for value in metrics.values()
        ):
            raise DataError(where, None, "metrics", "expected an object of numbers")
        return cls(
            name=str(obj.get("name") or Path(where).stem),
            model=str(obj.get("model") or ""),
            records=records,
            metrics={str(name): float(value) for name, value in metrics.items()},
            generation=dict(obj.get("generation") or {}),
            adapter=str(obj.get("adapter") or ""),
            endpoint=str(obj.get("endpoint") or ""),
            judge=_summary_from_json(obj.get("judge"), where),
            judge_endpoint=str(obj.get("judge_endpoint") or ""),
            judge_model=str(obj.get("judge_model") or ""),
            created=str(obj.get("created") or ""),
        )


def _summary_from_json(raw: Any, where: str) -> JudgeSummary | None:
    if raw is None:
        return None
    try:
        means = raw["means"]
        return JudgeSummary(
            {str(name): float(value) for name, value in means.items()},
            int(raw["judged"]),
            int(raw["failures"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise DataError(where, None, "judge", "expected means, judged and failures") from None
