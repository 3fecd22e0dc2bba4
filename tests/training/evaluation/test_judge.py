"""The LLM judge: its prompt, parsing its answers, and asking a real HTTP server on loopback
that returns canned answers (well-formed, fenced, malformed, out of range, rejected)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from inference.prompt import Turn
from training.evaluation.contexts import EvalContext
from training.evaluation.endpoint import ChatEndpoint, EndpointUnavailable
from training.evaluation.judge import (
    Judgement,
    JudgeParseError,
    judge_replies,
    load_judge_prompt,
    parse_judgement,
    render_judge_prompt,
    summarise,
)


class JudgeServer:
    """A Messages API on loopback: a request whose prompt contains a key of ``answers`` gets
    that answer (text as the completion, an int as that HTTP status)."""

    def __init__(self, answers: dict[str, str | int], delay: float = 0.0) -> None:
        self.answers = answers
        self.delay = delay
        self.bodies: list[Any] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def answer_for(self, body: Any) -> str | int:
        prompt = body["messages"][-1]["content"]
        return next((a for key, a in self.answers.items() if key in prompt), 404)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.bodies.append(body)
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                time.sleep(server.delay)
                answer = server.answer_for(body) if self.path == "/v1/chat/completions" else 404
                with server.lock:
                    server.in_flight -= 1
                if isinstance(answer, int):
                    payload: dict[str, Any] = {"error": "nope", "error_type": "validation"}
                    status = answer
                else:
                    message = {"role": "assistant", "content": answer}
                    payload = {"choices": [{"index": 0, "message": message}]}
                    status = 200
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def __enter__(self) -> JudgeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


GOOD = '{"content": 2, "empathy": 1, "helpfulness": 2, "safety": 1, "reason": "warm"}'


def context(text: str = "I feel lonely") -> EvalContext:
    turns = (Turn("user", "hello"), Turn("assistant", "hi, how are you?"), Turn("user", text))
    return EvalContext("c", "en", turns, "the reference")


# -- parsing -------------------------------------------------------------------------------


def test_plain_json() -> None:
    assert parse_judgement(GOOD) == Judgement(2, 1, 2, 1, "warm")


@pytest.mark.parametrize(
    "answer",
    [
        f"```json\n{GOOD}\n```",
        f"Here is my rating:\n```\n{GOOD}\n```\nThanks.",
        f"My rating: {GOOD} Hope this helps.",
        '{"note": "draft"} then ' + GOOD,  # an object without the scores is skipped
        '{"Content": "2", "EMPATHY": 1.0, "helpfulness": 2, "safety": 1, "reason": "warm"}',
    ],
)
def test_json_in_fences_text_and_loose_forms(answer: str) -> None:
    assert parse_judgement(answer).scores() == {
        "content": 2,
        "empathy": 1,
        "helpfulness": 2,
        "safety": 1,
    }


def test_a_missing_reason_is_empty() -> None:
    answer = '{"content": 0, "empathy": 0, "helpfulness": 0, "safety": 0}'
    assert parse_judgement(answer) == Judgement(0, 0, 0, 0, "")


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("I would rate it highly.", "no JSON object"),
        ('{"content": 2, "empathy": 1, "helpfulness": 2}', "no JSON object"),
        ('{"content": 2, "empathy": 1, "helpfulness": 2, "safety": 1', "no JSON object"),
        ('{"content": 3, "empathy": 1, "helpfulness": 2, "safety": 1}', "content=3 is outside"),
        ('{"content": 2, "empathy": 1, "helpfulness": 2, "safety": 2}', "safety=2 is outside 0-1"),
        ('{"content": -1, "empathy": 1, "helpfulness": 2, "safety": 1}', "content=-1"),
        ('{"content": 1.5, "empathy": 1, "helpfulness": 2, "safety": 1}', "not a whole number"),
        ('{"content": true, "empathy": 1, "helpfulness": 2, "safety": 1}', "not a whole number"),
        ('{"content": "high", "empathy": 1, "helpfulness": 2, "safety": 1}', "not a whole"),
    ],
)
def test_unusable_answers_are_rejected(answer: str, problem: str) -> None:
    with pytest.raises(JudgeParseError, match=problem):
        parse_judgement(answer)


# -- the prompt ----------------------------------------------------------------------------


def test_the_prompt_ships_with_the_package_and_has_the_rubric() -> None:
    template = load_judge_prompt()
    assert "{{context}}" in template and "{{reply}}" in template
    for name in ("content (0-2)", "empathy (0-2)", "helpfulness (0-2)", "safety (0-1)"):
        assert name in template
    assert "JSON" in template and "共情" in template


def test_rendering_shows_the_conversation_and_the_reply_once() -> None:
    prompt = render_judge_prompt(load_judge_prompt(), context(), "Tell me {{context}} more.")
    assert "User / 用户: I feel lonely" in prompt
    assert "Counselor / 心理咨询师: hi, how are you?" in prompt
    assert "Tell me {{context}} more." in prompt  # not substituted again
    assert "the reference" not in prompt  # the judge rates the reply on its own
    assert "{{reply}}" not in prompt


# -- against a server ----------------------------------------------------------------------


@pytest.fixture
def judge_server() -> Iterator[JudgeServer]:
    answers: dict[str, str | int] = {
        "REPLY-good": GOOD,
        "REPLY-fenced": '```json\n{"content": 1, "empathy": 2, "helpfulness": 0, "safety": 1}\n```',
        "REPLY-malformed": "content: 2, empathy: 2 (sorry, no JSON)",
        "REPLY-range": '{"content": 5, "empathy": 2, "helpfulness": 2, "safety": 1}',
        "REPLY-rejected": 400,
    }
    with JudgeServer(answers, delay=0.02) as server:
        yield server


def test_judging_counts_failures_and_never_scores_them_zero(judge_server: JudgeServer) -> None:
    replies = ["REPLY-good", "REPLY-fenced", "REPLY-malformed", "REPLY-range", "REPLY-rejected"]
    with ChatEndpoint(judge_server.url, model="judge", backoff_s=0.01) as endpoint:
        outcomes = judge_replies(endpoint, [context()] * len(replies), replies)
    assert [o.judgement is not None for o in outcomes] == [True, True, False, False, False]
    assert outcomes[0].judgement == Judgement(2, 1, 2, 1, "warm")
    assert "no JSON object" in (outcomes[2].error or "")
    assert outcomes[2].raw.startswith("content: 2")
    assert "content=5 is outside 0-2" in (outcomes[3].error or "")
    assert "HTTP 400" in (outcomes[4].error or "")
    summary = summarise(outcomes)
    assert (summary.judged, summary.failures) == (2, 3)
    # Means over the two judged replies only: (2 + 1) / 2, (1 + 2) / 2, (2 + 0) / 2, 1.
    assert summary.means == {"content": 1.5, "empathy": 1.5, "helpfulness": 1.0, "safety": 1.0}
    body = judge_server.bodies[0]
    assert body["temperature"] == 0.0 and body["model"] == "judge"
    assert body["messages"][0]["role"] == "user"


def test_requests_in_flight_stay_under_the_limit(judge_server: JudgeServer) -> None:
    with ChatEndpoint(judge_server.url, concurrency=2) as endpoint:
        outcomes = judge_replies(endpoint, [context()] * 8, ["REPLY-good"] * 8)
    assert all(o.judgement is not None for o in outcomes)
    assert judge_server.most_in_flight == 2


def test_server_errors_are_retried() -> None:
    calls: list[int] = []

    class Flaky(JudgeServer):
        def answer_for(self, body: Any) -> str | int:
            calls.append(1)
            return 503 if len(calls) < 3 else GOOD

    with Flaky({}) as server, ChatEndpoint(server.url, backoff_s=0.01) as endpoint:
        outcomes = judge_replies(endpoint, [context()], ["a reply"])
    assert outcomes[0].judgement is not None
    assert len(calls) == 3


def test_a_judge_that_keeps_failing_stops_the_run() -> None:
    with (
        JudgeServer({"REPLY": 503}) as server,
        ChatEndpoint(server.url, backoff_s=0.01, retries=1) as endpoint,
        pytest.raises(EndpointUnavailable, match="HTTP 503 after 2 tries"),
    ):
        judge_replies(endpoint, [context()] * 3, ["REPLY"] * 3)
