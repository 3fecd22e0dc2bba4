"""Contract tests of the TGI backend against a loopback fake of TGI.

Every request the backend sends and every reply the fake sends is checked against TGI's own
OpenAPI spec (``../shared/specs/tgi-openapi.json``), so the backend and the fake cannot drift
from the real server together.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import json
import socket
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from inference.backends.base import BackendUnavailable
from inference.backends.tgi import BackendRequestError, TGIBackend
from inference.job import GenerationParams
from inference.prompt import Prompt, Style, Turn, estimate_prompt_tokens, render
from tests.fakes.tgi_server import EOS, Exchange, FakeTGIServer
from tests.waiting import HANG_S

SPEC_PATH = Path(__file__).resolve().parents[3] / ".." / "shared" / "specs" / "tgi-openapi.json"
SPEC_URI = "urn:soulchat:tgi-openapi"
_spec_absent = pytest.mark.skipif(
    not SPEC_PATH.is_file(),
    reason=f"TGI's OpenAPI spec is absent ({SPEC_PATH.resolve()}): contract checks skipped",
)


def needs_spec(test: Callable[..., None]) -> Callable[..., None]:
    marked: Callable[..., None] = pytest.mark.shared_data(_spec_absent(test))
    return marked


TOKEN = "hf_SECRET_token_never_logged"
USER_TEXT = "I have felt so alone since my sister moved to Lisbon"
STYLES: tuple[Style, ...] = ("chat_template", "transcript")
ROUTES = {"chat_template": "/v1/chat/completions", "transcript": "/"}
PARAMS = GenerationParams(max_new_tokens=64, temperature=0.7, top_p=0.9, repetition_penalty=1.1)


def make_prompt(style: Style) -> Prompt:
    return render("You are a kind listener.", [Turn("user", USER_TEXT)], style, "en")


@pytest.fixture
def tgi() -> Iterator[FakeTGIServer]:
    with FakeTGIServer() as server:
        yield server


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def drain(pieces: Iterator[str]) -> tuple[str, Exception | None]:
    """The text that arrived, and the exception that ended the stream, if any."""
    received: list[str] = []
    try:
        for piece in pieces:
            received.append(piece)
    except Exception as exc:
        return "".join(received), exc
    return "".join(received), None


# -- the spec as JSON Schema ---------------------------------------------------------------
def normalise(node: Any) -> Any:
    """OpenAPI 3.0 schema dialect → JSON Schema 2020-12: ``nullable: true`` becomes a type
    union (or ``anyOf`` with null, where there is no plain type), boolean exclusive bounds
    become numeric ones."""
    if isinstance(node, list):
        return [normalise(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: normalise(value) for key, value in node.items()}
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), bool):  # a property with this name is a dict
            exclusive = node.pop(bound)
            if exclusive and limit in node:
                node[bound] = node.pop(limit)
    if not isinstance(node.get("nullable"), bool):
        return node
    if not node.pop("nullable"):
        return node
    composite = any(key in node for key in ("$ref", "allOf", "anyOf", "oneOf"))
    if "type" in node and not composite:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        node["type"] = [*types, "null"]
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
        return node
    return {"anyOf": [node, {"type": "null"}]}


@functools.cache
def spec() -> dict[str, Any]:
    result: dict[str, Any] = normalise(json.loads(SPEC_PATH.read_text(encoding="utf-8")))
    return result


@functools.cache
def registry() -> Registry:
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def violations(pointer: str, instance: Any) -> list[str]:
    validator = Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=registry())
    return [
        f"{pointer}: {error.json_path}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


def request_pointer(exchange: Exchange) -> str:
    return f"/paths/{escape(exchange.path)}/post/requestBody/content/application~1json/schema"


def reply_pointer(exchange: Exchange, payload: Any) -> str:
    """The spec's schema for one JSON body or SSE event that the fake sent."""
    operation = spec()["paths"][exchange.path][exchange.method.lower()]
    content = operation["responses"].get(str(exchange.status), {}).get("content", {})
    media = "text/event-stream" if exchange.content_type == "text/event-stream" else None
    media = media or exchange.content_type
    is_error = isinstance(payload, dict) and "error" in payload
    if media in content and not (is_error and exchange.status == 200):
        return (
            f"/paths/{escape(exchange.path)}/{exchange.method.lower()}/responses/"
            f"{exchange.status}/content/{escape(media)}/schema"
        )
    # Statuses the spec leaves out (400, 401, 503) and in-stream error events carry TGI's
    # ErrorResponse; anything else has no schema and fails below.
    assert is_error, f"the spec has no {media} reply for {exchange.status} on {exchange.path}"
    return "/components/schemas/ErrorResponse"


def assert_conforms(exchanges: list[Exchange]) -> None:
    problems: list[str] = []
    for exchange in exchanges:
        if exchange.method == "POST":
            problems += violations(request_pointer(exchange), exchange.body)
        for payload in exchange.sent:
            problems += violations(reply_pointer(exchange, payload), payload)
    assert not problems, "\n".join(problems)


# -- the normaliser and the spec -----------------------------------------------------------
def test_normaliser_turns_nullable_into_unions() -> None:
    assert normalise({"type": "integer", "nullable": True, "minimum": 0}) == {
        "type": ["integer", "null"],
        "minimum": 0,
    }
    wrapped = normalise({"allOf": [{"$ref": "#/x"}], "nullable": True})
    assert wrapped == {"anyOf": [{"allOf": [{"$ref": "#/x"}]}, {"type": "null"}]}
    assert normalise({"type": "string", "enum": ["a"], "nullable": True})["enum"] == ["a", None]
    assert normalise({"type": "number", "minimum": 0, "exclusiveMinimum": True}) == {
        "type": "number",
        "exclusiveMinimum": 0,
    }
    # A property called "nullable" is a schema, not the keyword.
    assert normalise({"properties": {"nullable": {"type": "boolean"}}}) == {
        "properties": {"nullable": {"type": "boolean"}}
    }


@needs_spec
def test_normalised_spec_is_valid_json_schema() -> None:
    for name, schema in spec()["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)  # raises with the schema's name in the trace
        assert "nullable" not in json.dumps(schema).replace('"nullable":{', ""), name


@needs_spec
def test_validation_accepts_nulls_only_where_the_spec_allows_them() -> None:
    params = "/components/schemas/GenerateParameters"
    assert violations(params, {"seed": None, "top_p": None, "grammar": None}) == []
    assert violations(params, {"stop": None})  # stop is not nullable
    assert violations(params, {"temperature": 0})  # exclusiveMinimum 0
    chunk = "/components/schemas/ChatCompletionChunk"
    assert violations(chunk, {"id": "", "created": 1, "model": "m", "choices": []})


# -- streaming -----------------------------------------------------------------------------
@pytest.mark.parametrize("style", STYLES)
def test_stream_yields_the_reply_in_pieces(tgi: FakeTGIServer, style: Style) -> None:
    backend = TGIBackend(tgi.url, timeout=5)
    pieces = list(backend.stream(make_prompt(style), PARAMS))
    assert len(pieces) > 1
    assert "".join(pieces) == tgi.reply  # and no end-of-sequence token text
    (exchange,) = tgi.generation_exchanges()
    assert exchange.path == ROUTES[style]


def test_chat_request_carries_messages_and_sampling(tgi: FakeTGIServer) -> None:
    prompt = make_prompt("chat_template")
    list(TGIBackend(tgi.url, model="my-model", timeout=5).stream(prompt, PARAMS))
    body = tgi.generation_exchanges()[0].body
    assert body["messages"] == prompt.messages
    assert body["model"] == "my-model"
    assert body["stream"] is True
    assert (body["max_tokens"], body["temperature"], body["top_p"]) == (64, 0.7, 0.9)
    assert "stop" not in body


def test_transcript_request_carries_text_stops_and_sampling(tgi: FakeTGIServer) -> None:
    prompt = make_prompt("transcript")
    assert prompt.stop
    list(TGIBackend(tgi.url, timeout=5).stream(prompt, PARAMS))
    body = tgi.generation_exchanges()[0].body
    assert body["inputs"] == prompt.text
    assert body["stream"] is True
    params = body["parameters"]
    assert params["stop"] == prompt.stop
    assert params["do_sample"] is True
    assert (params["temperature"], params["top_p"], params["repetition_penalty"]) == (0.7, 0.9, 1.1)
    assert params["max_new_tokens"] == 64


@pytest.mark.parametrize("style", STYLES)
def test_temperature_zero_is_greedy(tgi: FakeTGIServer, style: Style) -> None:
    # The fake, like TGI, answers 422 to a temperature of 0 on its own API.
    greedy = PARAMS.model_copy(update={"temperature": 0.0})
    assert "".join(TGIBackend(tgi.url, timeout=5).stream(make_prompt(style), greedy)) == tgi.reply
    body = tgi.generation_exchanges()[0].body
    if style == "chat_template":
        assert body["temperature"] == 0 and "top_p" not in body
    else:
        assert body["parameters"]["do_sample"] is False
        assert not {"temperature", "top_p"} & body["parameters"].keys()


@pytest.mark.parametrize("style", STYLES)
def test_top_p_of_one_is_left_out(tgi: FakeTGIServer, style: Style) -> None:
    # TGI rejects top_p = 1.0, which means "no nucleus filtering" anyway.
    params = PARAMS.model_copy(update={"top_p": 1.0})
    assert "".join(TGIBackend(tgi.url, timeout=5).stream(make_prompt(style), params)) == tgi.reply


@pytest.mark.parametrize("style", STYLES)
def test_output_is_cut_at_a_stop_string(style: Style) -> None:
    tokens = ("I", " hear", " you", ".", "\n", "User", ":", " me", " too")
    prompt = make_prompt(style)
    prompt.stop = ["\nUser:"]
    with FakeTGIServer(tokens) as tgi:
        pieces = list(TGIBackend(tgi.url, timeout=5).stream(prompt, PARAMS))
    assert "".join(pieces) == "I hear you."
    assert pieces[:3] == ["I", " hear", " you"]  # only what could begin a stop is held back


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (("Fine", "\n", "Use", "r", "s", " agree"), "Fine\nUsers agree"),  # not a stop after all
        (("Fine", "\nUs", "er:", " no"), "Fine"),
        (("Fine", "\n"), "Fine\n"),  # a partial stop at the very end is still text
    ],
)
def test_partial_stops_are_held_back_not_lost(tokens: tuple[str, ...], expected: str) -> None:
    with FakeTGIServer(tokens) as tgi:
        text = "".join(TGIBackend(tgi.url, timeout=5).stream(make_prompt("transcript"), PARAMS))
    assert text == expected


def test_transcript_stream_drops_special_tokens(tgi: FakeTGIServer) -> None:
    text = "".join(TGIBackend(tgi.url, timeout=5).stream(make_prompt("transcript"), PARAMS))
    sent_texts = [event["token"]["text"] for event in tgi.generation_exchanges()[0].sent]
    assert EOS["text"] in sent_texts
    assert EOS["text"] not in text


def test_abandoned_stream_closes_the_connection() -> None:
    with FakeTGIServer(token_delay=0.05) as tgi:
        pieces = TGIBackend(tgi.url, timeout=5).stream(make_prompt("chat_template"), PARAMS)
        next(pieces)
        pieces.close()  # type: ignore[attr-defined]
        exchange = tgi.generation_exchanges()[0]
        deadline = time.monotonic() + HANG_S
        while not exchange.client_gone and time.monotonic() < deadline:
            time.sleep(0.02)
    assert exchange.client_gone, "the server kept streaming to a reader that had left"


# -- failures ------------------------------------------------------------------------------
@pytest.mark.parametrize("style", STYLES)
def test_429_is_unavailable_with_retry_after(tgi: FakeTGIServer, style: Style) -> None:
    tgi.fail_next(429, retry_after="7")
    with pytest.raises(BackendUnavailable) as caught:
        list(TGIBackend(tgi.url, timeout=5).stream(make_prompt(style), PARAMS))
    assert caught.value.retry_after == 7.0
    assert "429" in str(caught.value)


@pytest.mark.parametrize("style", STYLES)
def test_503_is_unavailable(tgi: FakeTGIServer, style: Style) -> None:
    tgi.fail_next(503)
    with pytest.raises(BackendUnavailable) as caught:
        list(TGIBackend(tgi.url, timeout=5).stream(make_prompt(style), PARAMS))
    assert caught.value.retry_after is None


def test_retry_after_as_an_http_date(tgi: FakeTGIServer) -> None:
    tgi.fail_next(503, retry_after=email.utils.formatdate(time.time() + 30, usegmt=True))
    with pytest.raises(BackendUnavailable) as caught:
        list(TGIBackend(tgi.url, timeout=5).stream(make_prompt("chat_template"), PARAMS))
    assert caught.value.retry_after is not None and 25 <= caught.value.retry_after <= 30


def test_a_retry_after_the_server_recovers_succeeds(tgi: FakeTGIServer) -> None:
    tgi.fail_next(503)
    backend = TGIBackend(tgi.url, timeout=5)
    with pytest.raises(BackendUnavailable):
        list(backend.stream(make_prompt("chat_template"), PARAMS))
    assert "".join(backend.stream(make_prompt("chat_template"), PARAMS)) == tgi.reply


@pytest.mark.parametrize("style", STYLES)
def test_server_down_is_unavailable(style: Style) -> None:
    backend = TGIBackend(closed_port_url(), timeout=2)
    with pytest.raises(BackendUnavailable, match="ConnectError"):
        list(backend.stream(make_prompt(style), PARAMS))


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("where", ["before the reply", "mid-stream"])
def test_timeout_is_unavailable_quickly(tgi: FakeTGIServer, style: Style, where: str) -> None:
    # A backend that ignored its timeout would wait this out and then get the whole reply.
    if where == "before the reply":
        tgi.hang_next(600)
    else:
        tgi.stall_after(2, 600)
    received, error = drain(TGIBackend(tgi.url, timeout=0.3).stream(make_prompt(style), PARAMS))
    assert isinstance(error, BackendUnavailable)
    assert "no answer within 0.3s" in str(error)
    assert received == ("".join(tgi.tokens[:2]) if where == "mid-stream" else "")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("fault", ["disconnect_after", "truncate_after", "error_event_after"])
def test_broken_stream_is_unavailable(tgi: FakeTGIServer, style: Style, fault: str) -> None:
    getattr(tgi, fault)(3)
    received, error = drain(TGIBackend(tgi.url, timeout=5).stream(make_prompt(style), PARAMS))
    assert isinstance(error, BackendUnavailable)
    # The adapter discards what arrived when the retry streams under a new run.
    assert received == "".join(tgi.tokens[:3])


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_client_errors_are_not_retried(tgi: FakeTGIServer, style: Style, status: int) -> None:
    tgi.fail_next(status)
    with pytest.raises(BackendRequestError) as caught:
        list(TGIBackend(tgi.url, timeout=5).stream(make_prompt(style), PARAMS))
    assert caught.value.status == status
    assert not isinstance(caught.value, BackendUnavailable)


def test_offline_mode_does_not_block_the_server(
    tgi: FakeTGIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Workers with local models often set these for huggingface_hub; the Messages API client
    # is not huggingface_hub's, so they do not stop requests to the model server.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    backend = TGIBackend(tgi.url, timeout=5)
    assert "".join(backend.stream(make_prompt("chat_template"), PARAMS)) == tgi.reply
    assert backend.health()


FAULTS = {
    "429": lambda tgi: tgi.fail_next(429, retry_after="1"),
    "503": lambda tgi: tgi.fail_next(503),
    "400": lambda tgi: tgi.fail_next(400),
    "401": lambda tgi: tgi.fail_next(401),
    "disconnect": lambda tgi: tgi.disconnect_after(2),
    "error event": lambda tgi: tgi.error_event_after(2),
    "timeout": lambda tgi: tgi.hang_next(30),
}


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("fault", FAULTS)
def test_errors_never_show_the_token_or_the_users_text(
    tgi: FakeTGIServer, style: Style, fault: str
) -> None:
    # The fake's error messages quote the prompt, as some servers' do.
    FAULTS[fault](tgi)
    backend = TGIBackend(tgi.url, token=TOKEN, timeout=0.5)
    with pytest.raises((BackendUnavailable, BackendRequestError)) as caught:
        list(backend.stream(make_prompt(style), PARAMS))
    shown = "".join(traceback.format_exception(caught.value)) + repr(backend)
    assert TOKEN not in shown
    assert "Lisbon" not in shown


def test_urls_in_messages_lose_their_credentials() -> None:
    backend = TGIBackend("http://user:pa55word@127.0.0.1:9/tgi?key=abc")
    assert "pa55word" not in repr(backend) and "abc" not in repr(backend)
    with pytest.raises(BackendUnavailable) as caught:
        list(backend.stream(make_prompt("chat_template"), PARAMS))
    assert "pa55word" not in str(caught.value)
    assert "127.0.0.1:9/tgi" in str(caught.value)


# -- authentication ------------------------------------------------------------------------
def test_token_is_sent_as_bearer(tgi: FakeTGIServer) -> None:
    backend = TGIBackend(tgi.url, token=TOKEN, timeout=5)
    for style in STYLES:
        list(backend.stream(make_prompt(style), PARAMS))
    assert backend.health()
    assert [e.headers.get("authorization") for e in tgi.exchanges] == [f"Bearer {TOKEN}"] * 3


def test_machine_hugging_face_token_is_not_sent(
    tgi: FakeTGIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_machine_token")
    backend = TGIBackend(tgi.url, timeout=5)
    for style in STYLES:
        list(backend.stream(make_prompt(style), PARAMS))
    assert backend.health()
    assert all("authorization" not in e.headers for e in tgi.exchanges)


# -- health and measurement ----------------------------------------------------------------
def test_health_follows_the_server(tgi: FakeTGIServer) -> None:
    backend = TGIBackend(tgi.url, timeout=2)
    assert backend.health() is True
    tgi.ready = False
    assert backend.health() is False
    assert TGIBackend(closed_port_url(), timeout=2).health() is False


@pytest.mark.parametrize("style", STYLES)
def test_count_tokens_without_tokenizer_is_the_estimate(style: Style) -> None:
    backend = TGIBackend("http://127.0.0.1:9")
    prompt = make_prompt(style)
    assert backend.count_tokens(prompt) == estimate_prompt_tokens(prompt) > 0
    assert backend.control_markers() == []


def test_count_tokens_with_a_tokenizer(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    save_tiny_tokenizer(tmp_path)
    backend = TGIBackend("http://127.0.0.1:9", tokenizer=str(tmp_path))
    chat = Prompt("chat_template", messages=[{"role": "user", "content": "hello there"}])
    # <|im_start|> user hello there <|im_end|> <|im_start|> assistant: no BOS added twice.
    assert backend.count_tokens(chat) == 7
    transcript = Prompt("transcript", text="User: hello there\nCounselor:", stop=["\nUser:"])
    assert backend.count_tokens(transcript) == 4 + 1  # TGI adds the BOS to raw inputs
    assert {"<s>", "</s>", "<|im_start|>", "<|im_end|>"} <= set(backend.control_markers())


def save_tiny_tokenizer(directory: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "<|im_start|>": 3, "<|im_end|>": 4, "hello": 5}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", 1)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
    )
    fast.chat_template = (
        "{% for m in messages %}<|im_start|> {{ m['role'] }} {{ m['content'] }} <|im_end|> "
        "{% endfor %}{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
    )
    fast.save_pretrained(directory)


# -- contract ------------------------------------------------------------------------------
@needs_spec
@pytest.mark.parametrize("style", STYLES)
def test_backend_traffic_matches_the_spec(tgi: FakeTGIServer, style: Style) -> None:
    backend = TGIBackend(tgi.url, token=TOKEN, timeout=0.5)
    prompt = make_prompt(style)
    runs = [
        lambda: None,
        lambda: tgi.fail_next(429, retry_after="2"),
        lambda: tgi.fail_next(422),
        lambda: tgi.fail_next(503),
        lambda: tgi.error_event_after(2),
        lambda: tgi.disconnect_after(2),
    ]
    for setup in runs:
        setup()
        with contextlib.suppress(BackendUnavailable, BackendRequestError):
            list(backend.stream(prompt, PARAMS))
    list(backend.stream(prompt, PARAMS.model_copy(update={"temperature": 0.0, "top_p": 1.0})))
    exchanges = tgi.generation_exchanges()
    assert len(exchanges) == len(runs) + 1 and all(e.body for e in exchanges)
    assert_conforms(exchanges)


def post(url: str, body: Any) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def sse_data(raw: bytes) -> list[str]:
    events = raw.decode().split("\n\n")
    assert events[-1] == "", "every event ends with a blank line"
    assert all(event.startswith("data: ") for event in events[:-1])
    return [event.removeprefix("data: ") for event in events[:-1]]


CHAT = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 20}
GENERATE = {"inputs": "User: hi\nCounselor:", "parameters": {"max_new_tokens": 20}}


@needs_spec
def test_fake_replies_match_the_spec_on_every_route(tgi: FakeTGIServer) -> None:
    chat_stream = post(tgi.url + "/v1/chat/completions", {**CHAT, "stream": True})[1]
    assert sse_data(chat_stream)[-1] == "[DONE]"
    # What the fake records as sent is what went over the wire, so checking the record counts.
    assert [json.loads(data) for data in sse_data(chat_stream)[:-1]] == tgi.exchanges[0].sent
    generate_stream = post(tgi.url + "/generate_stream", GENERATE)[1]
    assert "[DONE]" not in sse_data(generate_stream)  # TGI's own stream has no end marker
    assert post(tgi.url + "/", {**GENERATE, "stream": True})[1] == generate_stream
    usage = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    post(tgi.url + "/v1/chat/completions", usage)
    for path, body in [("/v1/chat/completions", CHAT), ("/generate", GENERATE), ("/", GENERATE)]:
        assert post(tgi.url + path, body)[0] == 200
    detailless = {**GENERATE, "parameters": {"details": False}}
    post(tgi.url + "/generate", detailless)
    bad = {**GENERATE, "parameters": {"temperature": 0}}
    assert post(tgi.url + "/generate", bad)[0] == 422
    for path in ("/info", "/health"):
        urllib.request.urlopen(tgi.url + path, timeout=5).read()
    tgi.ready = False
    with pytest.raises(urllib.error.HTTPError, match="503"):
        urllib.request.urlopen(tgi.url + "/health", timeout=5)
    bad_request = next(e for e in tgi.exchanges if e.status == 422)
    assert bad_request.body == bad
    bad_request.body = GENERATE  # the request was wrong on purpose; its reply is checked
    assert len(tgi.exchanges) == 12
    assert_conforms(tgi.exchanges)


@needs_spec
def test_contract_checks_can_fail(tgi: FakeTGIServer) -> None:
    list(TGIBackend(tgi.url, timeout=5).stream(make_prompt("chat_template"), PARAMS))
    (exchange,) = tgi.generation_exchanges()
    exchange.sent[0]["choices"][0]["index"] = -1
    exchange.body["messages"][0].pop("role")
    with pytest.raises(AssertionError) as caught:
        assert_conforms([exchange])
    assert "index" in str(caught.value) and "role" in str(caught.value)
