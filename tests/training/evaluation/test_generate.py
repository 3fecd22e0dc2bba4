"""Held-out contexts, and replies from the local backend (tiny model) and from a Messages API
endpoint (the loopback fake TGI server)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.backends.local import LocalBackend
from inference.job import GenerationJob, JobTurn
from inference.prompt import Turn, system_prompt_for
from inference.worker import prompt_for
from tests.fakes.tgi_server import FakeTGIServer
from training.data.schema import DataError, Dialogue, Message
from training.evaluation.contexts import (
    EvalContext,
    contexts_of,
    extract_contexts,
    read_contexts,
    sample_contexts,
    write_contexts,
)
from training.evaluation.endpoint import (
    ChatEndpoint,
    EndpointError,
    EndpointRejected,
    EndpointUnavailable,
)
from training.evaluation.generate import (
    EndpointGenerator,
    GenerationConfig,
    LlamaCppGenerator,
    LocalGenerator,
    eval_params,
    finish_reply,
)


def dialogue(id: str, roles: str, language: str = "en") -> Dialogue:
    """A dialogue whose message i has role u/a from ``roles`` and text '<role><i>'."""
    names = {"u": "user", "a": "assistant"}
    messages = [Message(names[r], f"{r}{i}") for i, r in enumerate(roles)]  # type: ignore[arg-type]
    return Dialogue(id=id, source="test", language=language, messages=messages)


def context(id: str, *texts: str, language: str = "en") -> EvalContext:
    turns = tuple(Turn("user" if i % 2 == 0 else "assistant", t) for i, t in enumerate(texts))
    return EvalContext(id, language, turns, "reference")


# -- contexts ------------------------------------------------------------------------------


def test_every_assistant_turn_after_a_user_turn_is_a_context() -> None:
    found = contexts_of(dialogue("d", "auaua"), max_turns=None)
    # a0 opens the dialogue: no user turn before it. a0 is dropped from the context too, as
    # select_turns drops a leading counselor turn at serving time.
    assert [c.id for c in found] == ["d#2", "d#4"]
    assert [t.text for t in found[0].turns] == ["u1"]
    assert [t.text for t in found[1].turns] == ["u1", "a2", "u3"]
    assert found[1].reference == "a4"


def test_contexts_keep_the_last_exchanges_as_serving_does() -> None:
    found = contexts_of(dialogue("d", "uauauaua"), max_turns=1)
    # The last context: one earlier exchange (u4, a5) and the newest user turn u6.
    assert [t.text for t in found[-1].turns] == ["u4", "a5", "u6"]
    assert contexts_of(dialogue("d", "uauauaua"))[-1].turns[0].text == "u0"  # default: 5


def test_sampling_is_seeded_capped_and_keeps_input_order() -> None:
    contexts = extract_contexts([dialogue(f"d{n}", "ua" * 5) for n in range(6)])
    assert len(contexts) == 30
    first = sample_contexts(contexts, max_contexts=10, seed=1)
    assert first == sample_contexts(contexts, max_contexts=10, seed=1)
    assert first != sample_contexts(contexts, max_contexts=10, seed=2)
    assert [contexts.index(c) for c in first] == sorted(contexts.index(c) for c in first)
    capped = sample_contexts(contexts, per_dialogue=2, seed=0)
    assert len(capped) == 12
    assert len(sample_contexts(contexts, max_contexts=100)) == 30


def test_contexts_round_trip_through_jsonl(tmp_path: Path) -> None:
    contexts = extract_contexts([dialogue("d1", "uaua"), dialogue("d2", "ua", "zh")])
    path = tmp_path / "contexts.jsonl"
    assert write_contexts(contexts, path) == 3
    assert read_contexts(path) == contexts
    assert read_contexts(path)[-1].locale == "zh"


def test_bad_context_files_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "contexts.jsonl"
    path.write_text('{"id": "x", "language": "en", "context": [], "reference": "r"}\n')
    with pytest.raises(DataError, match=r"contexts.jsonl:1: context"):
        read_contexts(path)
    path.write_text("{not json\n")
    with pytest.raises(DataError, match=r":1: line: not valid JSON"):
        read_contexts(path)
    write_contexts([context("same", "hi"), context("same", "ho")], path)
    with pytest.raises(DataError, match="occurs twice"):
        read_contexts(path)


# -- local generation ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_backend(tiny_model_dir: Path) -> LocalBackend:
    return LocalBackend.load(str(tiny_model_dir), device="cpu")


CONTEXTS = [
    context("short", "I feel lonely"),
    context("long", "I feel sad", "That sounds hard.", "Work is tiring and my family is far"),
    context("zh", "我最近很难过，工作很累。", language="zh"),
    context("mid", "I feel tired of work and family"),
    context("tiny", "sad"),
]


def test_prompts_are_the_workers_prompts(tiny_backend: LocalBackend) -> None:
    dropped: list[int] = []
    # A budget that the long contexts overflow: oldest exchanges are dropped alike.
    for style in ("chat_template", "transcript"):
        config = GenerationConfig(
            style=style, params=eval_params(max_new_tokens=16), max_context_tokens=516
        )
        generator = LocalGenerator(tiny_backend, config)
        for item in CONTEXTS:
            job = GenerationJob(
                turn_key="k",
                reply_to="inbox",
                locale=item.locale,
                style=style,
                system_prompt=system_prompt_for(item.locale),
                turns=[JobTurn(role=t.role, text=t.text) for t in item.turns],
                max_context_tokens=config.max_context_tokens,
                params=config.params,
                deadline=time.time() + 60,
            )
            prompt = generator.prompt(item)
            assert prompt == prompt_for(job, tiny_backend)
            dropped.append(prompt.dropped_turns)
    assert any(dropped)


def test_batched_replies_come_back_in_input_order(tiny_backend: LocalBackend) -> None:
    config = GenerationConfig(params=eval_params(max_new_tokens=10), batch_size=3)
    batched = LocalGenerator(tiny_backend, config).generate(CONTEXTS)
    assert len(batched) == len(CONTEXTS)
    alone = [LocalGenerator(tiny_backend, config).generate([item])[0] for item in CONTEXTS]
    assert batched == alone  # greedy: padding and batch order change nothing
    assert len(set(batched)) > 1


def test_a_reply_alone_equals_the_serving_stream(tiny_backend: LocalBackend) -> None:
    config = GenerationConfig(params=eval_params(max_new_tokens=12, repetition_penalty=1.1))
    generator = LocalGenerator(tiny_backend, config)
    for item in CONTEXTS[:2]:  # the same parameters, as serving reads them
        streamed = "".join(tiny_backend.stream(generator.prompt(item), config.params))
        assert generator.generate([item]) == [streamed.strip()]


def test_transcript_replies_are_cut_at_the_next_speaker(tiny_backend: LocalBackend) -> None:
    config = GenerationConfig(
        style="transcript", params=eval_params(max_new_tokens=8), batch_size=2
    )
    replies = LocalGenerator(tiny_backend, config).generate(CONTEXTS)
    assert len(replies) == len(CONTEXTS)
    assert finish_reply(" 我听到了。\n用户：然后呢", ["\n用户："]) == "我听到了。"


def test_sampling_is_repeatable_with_a_seed(tiny_backend: LocalBackend) -> None:
    config = GenerationConfig(
        params=eval_params(max_new_tokens=8, temperature=1.0, top_p=0.9), seed=3
    )
    first = LocalGenerator(tiny_backend, config).generate(CONTEXTS[:2])
    assert first == LocalGenerator(tiny_backend, config).generate(CONTEXTS[:2])


# -- endpoint generation -------------------------------------------------------------------


@pytest.fixture
def tgi() -> Iterator[FakeTGIServer]:
    with FakeTGIServer() as server:
        yield server


def test_endpoint_replies_and_requests(tgi: FakeTGIServer) -> None:
    config = GenerationConfig(params=eval_params(max_new_tokens=20))
    with ChatEndpoint(tgi.url, model="served", backoff_s=0.01) as endpoint:
        replies = EndpointGenerator(endpoint, config).generate(CONTEXTS)
    assert replies == [tgi.reply] * len(CONTEXTS)
    bodies = [exchange.body for exchange in tgi.generation_exchanges()]
    assert len(bodies) == len(CONTEXTS)
    assert all(body["temperature"] == 0.0 and body["max_tokens"] == 20 for body in bodies)
    assert all(body["model"] == "served" and not body["stream"] for body in bodies)
    by_last_turn = {body["messages"][-1]["content"]: body for body in bodies}
    zh = by_last_turn["我最近很难过，工作很累。"]
    assert zh["messages"][0] == {"role": "system", "content": system_prompt_for("zh")}


def test_endpoint_retries_server_errors(tgi: FakeTGIServer) -> None:
    tgi.fail_next(503, count=2)
    with ChatEndpoint(tgi.url, backoff_s=0.01, concurrency=1) as endpoint:
        replies = EndpointGenerator(endpoint, GenerationConfig()).generate(CONTEXTS[:1])
    assert replies == [tgi.reply]
    assert [e.status for e in tgi.generation_exchanges()] == [503, 503, 200]


def test_endpoint_gives_up_after_the_retries(tgi: FakeTGIServer) -> None:
    tgi.fail_next(500, count=10)
    with (
        ChatEndpoint(tgi.url, backoff_s=0.01, retries=2, concurrency=1) as endpoint,
        pytest.raises(EndpointUnavailable, match="HTTP 500 after 3 tries"),
    ):
        EndpointGenerator(endpoint, GenerationConfig()).generate(CONTEXTS[:1])


def test_a_rejected_request_fails_generation(tgi: FakeTGIServer) -> None:
    tgi.fail_next(400)
    with (
        ChatEndpoint(tgi.url, backoff_s=0.01, concurrency=1) as endpoint,
        pytest.raises(EndpointRejected, match="HTTP 400"),
    ):
        EndpointGenerator(endpoint, GenerationConfig()).generate(CONTEXTS[:2])


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_server_that_is_down_is_named() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with (
        ChatEndpoint(url, backoff_s=0.01, retries=1) as endpoint,
        pytest.raises(EndpointUnavailable, match=r"cannot reach .* after 2 tries.*running"),
    ):
        EndpointGenerator(endpoint, GenerationConfig()).generate(CONTEXTS)


def test_transcript_style_needs_the_local_backend(tgi: FakeTGIServer) -> None:
    with (
        ChatEndpoint(tgi.url) as endpoint,
        pytest.raises(EndpointError, match="transcript style needs the local backend"),
    ):
        EndpointGenerator(endpoint, GenerationConfig(style="transcript"))


def test_endpoint_urls() -> None:
    # A base URL, a /v1 URL or the whole route; the shared client's base_url is tested in
    # tests/inference/test_messages_api.py.
    for url in ("http://h:8080/", "http://h:8080/v1", "http://h:8080/v1/chat/completions"):
        with ChatEndpoint(url) as endpoint:
            assert endpoint.url == "http://h:8080/v1/chat/completions"
    with ChatEndpoint("https://u:pw@h/v1?api-version=2") as endpoint:
        assert endpoint.url == "https://h/v1/chat/completions?api-version=2"
        assert endpoint.where == "https://h/v1/chat/completions"
    with pytest.raises(EndpointError, match="http://"):
        ChatEndpoint("h:8080")


# -- the llama.cpp engine -------------------------------------------------------------------


def test_llamacpp_replies_are_what_the_served_engine_streams(tmp_path: Path) -> None:
    """``soulchat eval run --engine llamacpp`` scores the GGUF model as chat serves it: one
    reply per context, in order, each the engine's own stream for the worker's prompt."""
    config = GenerationConfig(params=eval_params(max_new_tokens=12, repetition_penalty=1.1))
    generator = LlamaCppGenerator.load(config, "", cache_dir=tmp_path)
    try:
        replies = generator.generate(CONTEXTS[:3])
        assert len(replies) == 3 and all(replies)
        for item, reply in zip(CONTEXTS[:3], replies, strict=True):
            streamed = "".join(generator.backend.stream(generator.prompt(item), config.params))
            assert reply == streamed.strip()  # greedy: the same reply again
    finally:
        generator.backend.close()
