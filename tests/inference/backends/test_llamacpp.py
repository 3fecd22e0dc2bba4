"""The llama.cpp backend through the real engine, on the real SmolLM2-135M GGUF (it ships in
the lock and loads in about a second): streaming, stops, cancellation, token counts and prompt
parity with training, LoRA adapters converted from peft, and what bad files get."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inference.backends.base import BackendUnavailable
from inference.backends.checkpoints import ModelNotFound, ModelSource
from inference.backends.llamacpp import LlamaCppBackend
from inference.backends.local import default_model_source
from inference.backends.lora_gguf import AdapterError, convert_adapter, gguf_adapter
from inference.job import GenerationParams
from inference.prompt import Prompt, Turn, build_prompt, system_prompt_for
from tests.waiting import HANG_S

GREEDY = GenerationParams(max_new_tokens=16, temperature=0.0, repetition_penalty=1.0)
LORA_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def backend(models_dir: Path) -> Iterator[LlamaCppBackend]:
    loaded = LlamaCppBackend.load(default_model_source(), context_tokens=1024, cache_dir=models_dir)
    yield loaded
    loaded.close()


def _prompt(backend: Any, text: str = "I have been feeling lonely since I moved.") -> Prompt:
    return build_prompt(
        system_prompt_for("en"),
        [Turn("user", text)],
        style="chat_template",
        locale="en",
        count_tokens=backend.count_tokens,
        budget=800,
    )


def test_a_reply_streams_in_pieces_and_greedy_decoding_repeats(backend: LlamaCppBackend) -> None:
    prompt = _prompt(backend)
    pieces = list(backend.stream(prompt, GREEDY))
    assert len(pieces) > 3
    assert "".join(backend.stream(prompt, GREEDY)) == "".join(pieces)
    assert len(backend.tokenizer("".join(pieces))["input_ids"]) <= GREEDY.max_new_tokens + 1


def test_the_prompt_is_tokenised_as_training_tokenises_it(backend: LlamaCppBackend) -> None:
    from training.sft.samples import render_with_spans

    turns = [
        Turn("user", "我最近压力很大，晚上总是睡不着。"),
        Turn("assistant", "听起来你最近很辛苦。"),
        Turn("user", "Work 😢 and café — <b>everything</b>\n\n  at once"),
    ]
    prompt = build_prompt(
        system_prompt_for("zh"),
        turns,
        style="chat_template",
        locale="zh",
        count_tokens=backend.count_tokens,
        budget=800,
    )
    rendered = backend.render_text(prompt)
    trained, _ = render_with_spans(turns, backend.tokenizer, "chat_template", "zh")
    assert trained.startswith(rendered.removesuffix("<|im_start|>assistant\n"))
    hf_ids = backend.tokenizer(rendered, add_special_tokens=False)["input_ids"]
    assert backend.engine_tokens(rendered) == hf_ids
    assert backend.count_tokens(prompt) == len(hf_ids)


def test_generation_ends_at_a_stop_string(backend: LlamaCppBackend) -> None:
    prompt = _prompt(backend)
    full = "".join(backend.stream(prompt, GREEDY))
    stop = full.split()[2]  # a word the reply is known to contain
    prompt.stop = [stop]
    cut = "".join(backend.stream(prompt, GREEDY))
    assert cut == full[: full.index(stop)]


def test_a_consumer_that_stops_reading_cancels_the_generation(backend: LlamaCppBackend) -> None:
    long = GenerationParams(max_new_tokens=400, temperature=0.0, repetition_penalty=1.0)
    stream = backend.stream(_prompt(backend), long)
    first = next(stream)
    assert first
    closed = threading.Thread(target=stream.close)
    closed.start()
    closed.join(HANG_S)  # close waits for llama.cpp to end the request
    assert not closed.is_alive()
    # the engine is free again: the next request runs to its own end
    assert "".join(backend.stream(_prompt(backend, "Hello"), GREEDY))


def test_a_prompt_longer_than_the_context_is_an_error_not_a_hang(
    models_dir: Path,
) -> None:
    small = LlamaCppBackend.load(default_model_source(), context_tokens=128, cache_dir=models_dir)
    prompt = Prompt(style="transcript", text="lonely " * 400)
    with pytest.raises(BackendUnavailable, match=r"llama\.cpp"):
        list(small.stream(prompt, GREEDY))
    small.close()


def test_an_engine_closed_the_moment_it_loads_lets_go(models_dir: Path) -> None:
    """llama.cpp's loop thread sets its running flag just after the server reports itself
    loaded; closed inside that gap, the engine used to join a loop that never ended (CI hung
    here for 80 minutes). Close runs on a watchdog thread, so a regression fails instead of
    hanging the suite; other threads keep both cores busy, as the suite does, to widen the gap."""
    busy = threading.Event()

    def keep_a_core_busy() -> None:
        while not busy.is_set():
            sum(range(10_000))

    spinners = [threading.Thread(target=keep_a_core_busy, daemon=True) for _ in range(2)]
    for spinner in spinners:
        spinner.start()
    try:
        for _ in range(5):
            engine = LlamaCppBackend.load(
                default_model_source(), context_tokens=256, cache_dir=models_dir
            )
            closer = threading.Thread(target=engine.close, daemon=True)
            del engine
            closer.start()
            closer.join(HANG_S)
            assert not closer.is_alive(), "closing the llama.cpp engine hung"
    finally:
        busy.set()


def test_a_checkpoint_directory_is_refused_with_the_setting_to_change(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="SOULCHAT_MODEL__BACKEND=local"):
        LlamaCppBackend.load(ModelSource(str(tmp_path)))


def test_a_corrupt_gguf_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(ModelNotFound, match=r"broken\.gguf"):
        LlamaCppBackend.load(ModelSource(str(tmp_path), bad.name), cache_dir=tmp_path)


# -- LoRA adapters ---------------------------------------------------------------------------
def build_random_adapter(directory: Path, *, scale_b: float = 1.0, seed: int = 0) -> Path:
    """A LoRA adapter for SmolLM2-135M with random (non-zero) B matrices, made on a randomly
    initialised model of the same shape: the adapter's tensors are all that matters."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    source = default_model_source()
    config = AutoConfig.from_pretrained(source.location, gguf_file=source.gguf_file)
    config.quantization_config = None
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    lora = get_peft_model(
        model,
        LoraConfig(r=8, lora_alpha=16, target_modules=LORA_MODULES, init_lora_weights=False),
    )
    with torch.no_grad():
        for name, parameter in lora.named_parameters():
            if "lora_B" in name:
                parameter.mul_(scale_b)
    lora.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_random_adapter(tmp_path_factory.mktemp("adapter"))


def test_an_adapter_changes_the_reply_and_scale_zero_is_the_base(
    backend: LlamaCppBackend, adapter_dir: Path, models_dir: Path
) -> None:
    source = default_model_source()
    converted = gguf_adapter(str(adapter_dir), source, models_dir)
    assert converted.suffix == ".gguf"
    assert gguf_adapter(str(adapter_dir), source, models_dir) == converted  # cached
    adapted = LlamaCppBackend.load(source, adapter=converted, cache_dir=models_dir)
    prompt = _prompt(adapted)
    base_reply = "".join(backend.stream(prompt, GREEDY))
    assert "".join(adapted.stream(prompt, GREEDY)) != base_reply
    assert "".join(adapted.stream(prompt, GREEDY, adapter_scale=0.0)) == base_reply
    adapted.close()


def test_a_retrained_adapter_gets_a_new_conversion(tmp_path: Path, models_dir: Path) -> None:
    source = default_model_source()
    first = gguf_adapter(str(build_random_adapter(tmp_path / "a", seed=1)), source, models_dir)
    second = gguf_adapter(str(build_random_adapter(tmp_path / "b", seed=2)), source, models_dir)
    assert first != second


def test_adapters_llama_cpp_cannot_apply_are_refused(adapter_dir: Path, tmp_path: Path) -> None:
    import json
    import shutil

    source = default_model_source()
    with pytest.raises(AdapterError, match=r"adapter_config\.json"):
        gguf_adapter(str(tmp_path), source, tmp_path)
    with pytest.raises(AdapterError, match="does not exist"):
        gguf_adapter(str(tmp_path / "missing.gguf"), source, tmp_path)
    dora = tmp_path / "dora"
    shutil.copytree(adapter_dir, dora)
    config = json.loads((dora / "adapter_config.json").read_text())
    (dora / "adapter_config.json").write_text(json.dumps({**config, "use_dora": True}))
    with pytest.raises(AdapterError, match="DoRA"):
        gguf_adapter(str(dora), source, tmp_path)


@pytest.mark.slow
def test_llama_cpp_applies_an_adapter_as_transformers_does(
    adapter_dir: Path, models_dir: Path, tmp_path: Path
) -> None:
    """The same adapter moves llama.cpp's next-token distribution as it moves transformers'
    on the dequantised weights of the same GGUF: the converted layout (llama's reordered
    query/key rows included) is the one llama.cpp expects."""
    import math

    import torch

    from inference.backends.local import LocalBackend

    source = default_model_source()
    hf = LocalBackend.load(adapter=str(adapter_dir), device="cpu", cache_dir=models_dir)
    prompt = _prompt(hf)
    with torch.inference_mode():
        logits = hf.model(hf.input_ids(prompt)).logits[0, -1]
    expected = torch.topk(torch.log_softmax(logits, -1), 3).indices.tolist()

    target = tmp_path / "adapter.gguf"
    convert_adapter(adapter_dir, Path(source.location) / str(source.gguf_file), target)
    engine = LlamaCppBackend.load(source, adapter=target, cache_dir=models_dir)
    body = {**engine.request(prompt, GREEDY, 1.0), "stream": False, "n_predict": 1, "n_probs": 3}
    answer = engine.server.handle_completions(body)
    top = answer["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
    assert [entry["id"] for entry in top] == expected
    assert all(math.isfinite(entry["logprob"]) for entry in top)
    engine.close()


def test_prefill_leaves_the_shared_start_of_every_prompt_evaluated(models_dir: Path) -> None:
    engine = LlamaCppBackend.load(default_model_source(), cache_dir=models_dir)
    engine.prefill(system_prompt_for("en"))
    prompt = _prompt(engine, "Nobody calls me any more.")
    body = {**engine.request(prompt, GREEDY, 1.0), "stream": False, "n_predict": 1}
    usage = engine.server.handle_completions(body)["usage"]
    shared = len(engine.tokenizer(engine.render_text(prompt).split("Nobody")[0])["input_ids"])
    assert usage["prompt_tokens_details"]["cached_tokens"] >= shared - 1
    engine.close()
