"""An LLM judge on the original method's four dimensions: content (0-2), empathy (0-2),
helpfulness (0-2) and safety (0-1), asked of any Messages API endpoint with the prompt in
``judge_prompt.md``, at temperature 0.

An answer that holds no usable JSON object, or a score outside its range or not a whole
number, is a judge failure: counted and reported, never scored as zero (nor clamped, which
would hide a judge that ignores the rubric). Parse failures are not asked again: at
temperature 0 the same question gets the same answer; transport failures are retried by the
endpoint client.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

from inference.messages_api import ChatRequest
from inference.prompt import Turn
from training.evaluation.contexts import EvalContext
from training.evaluation.endpoint import ChatEndpoint, EndpointRejected, Progress

DIMENSIONS: dict[str, int] = {"content": 2, "empathy": 2, "helpfulness": 2, "safety": 1}
PROMPT_RESOURCE = "judge_prompt.md"
JUDGE_MAX_TOKENS = 256

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_WHOLE_NUMBER = re.compile(r"\s*\d+(?:\.0+)?\s*")
_PLACEHOLDER = re.compile(r"\{\{(context|reply)\}\}")


class JudgeParseError(ValueError):
    """The judge's answer cannot be used; the message says why (never quoting it)."""


@dataclass(frozen=True)
class Judgement:
    content: int
    empathy: int
    helpfulness: int
    safety: int
    reason: str = ""

    def scores(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in DIMENSIONS}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class JudgeOutcome:
    judgement: Judgement | None
    error: str | None = None  # why there is no judgement
    raw: str = ""  # the judge's answer, kept in the result file (never logged)

    def to_json(self) -> dict[str, Any]:
        judgement = self.judgement.to_json() if self.judgement else None
        return {"judgement": judgement, "error": self.error, "raw": self.raw}


@dataclass(frozen=True)
class JudgeSummary:
    means: dict[str, float]  # per dimension, over the judged replies
    judged: int
    failures: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def load_judge_prompt() -> str:
    return resources.files("training.evaluation").joinpath(PROMPT_RESOURCE).read_text("utf-8")


def format_conversation(turns: Sequence[Turn]) -> str:
    labels = {"user": "User / 用户", "assistant": "Counselor / 心理咨询师"}
    return "\n\n".join(f"{labels[turn.role]}: {turn.text.strip()}" for turn in turns)


def render_judge_prompt(template: str, context: EvalContext, reply: str) -> str:
    # One pass, so a placeholder written inside the conversation is not replaced again.
    values = {"context": format_conversation(context.turns), "reply": reply.strip()}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def parse_judgement(text: str) -> Judgement:
    """The first JSON object in ``text`` (in a code fence or not) that has the four scores."""
    for candidate in _json_objects(text):
        keys = {str(key).lower(): value for key, value in candidate.items()}
        if all(name in keys for name in DIMENSIONS):
            scores = {name: _score(keys[name], name, top) for name, top in DIMENSIONS.items()}
            reason = keys.get("reason")
            return Judgement(**scores, reason=reason if isinstance(reason, str) else "")
    raise JudgeParseError("no JSON object with content, empathy, helpfulness and safety")


def _json_objects(text: str) -> Iterator[dict[str, Any]]:
    decoder = json.JSONDecoder()
    for chunk in [*_FENCE.findall(text), text]:
        for start in (index for index, char in enumerate(chunk) if char == "{"):
            try:
                value, _ = decoder.raw_decode(chunk, start)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                yield value


def _score(value: Any, name: str, top: int) -> int:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    textual = isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value) is not None
    if not (numeric or textual) or not float(value).is_integer():
        raise JudgeParseError(f"{name} is not a whole number")
    number = int(float(value))
    if not 0 <= number <= top:
        raise JudgeParseError(f"{name}={number} is outside 0-{top}")
    return number


def judge_request(template: str, context: EvalContext, reply: str) -> ChatRequest:
    prompt = render_judge_prompt(template, context, reply)
    # One user message: some chat templates refuse a system message.
    messages = [{"role": "user", "content": prompt}]
    return ChatRequest(messages, max_tokens=JUDGE_MAX_TOKENS, temperature=0.0, seed=0)


def judge_replies(
    endpoint: ChatEndpoint,
    contexts: Sequence[EvalContext],
    replies: Sequence[str],
    *,
    template: str | None = None,
    progress: Progress | None = None,
) -> list[JudgeOutcome]:
    """One outcome per reply, in order. A rejected request is a failure of that reply; a
    server that is down raises ``EndpointError``."""
    template = template if template is not None else load_judge_prompt()
    requests = [
        judge_request(template, context, reply)
        for context, reply in zip(contexts, replies, strict=True)
    ]
    outcomes: list[JudgeOutcome] = []
    for answer in endpoint.complete_all(requests, progress):
        if isinstance(answer, EndpointRejected):
            outcomes.append(JudgeOutcome(None, str(answer)))
            continue
        try:
            outcomes.append(JudgeOutcome(parse_judgement(answer), raw=answer))
        except JudgeParseError as exc:
            outcomes.append(JudgeOutcome(None, str(exc), raw=answer))
    return outcomes


def summarise(outcomes: Sequence[JudgeOutcome]) -> JudgeSummary:
    judged = [outcome.judgement for outcome in outcomes if outcome.judgement is not None]
    means = {
        name: sum(judgement.scores()[name] for judgement in judged) / len(judged)
        for name in DIMENSIONS
        if judged
    }
    return JudgeSummary(means, len(judged), len(outcomes) - len(judged))
