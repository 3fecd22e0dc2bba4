"""The local backend on a tiny random model (fast) and on the real SmolLM2 (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.backends.local import (
    LocalBackend,
    ModelNotFound,
    default_model_source,
    resolve_model_source,
)
from inference.backends.stops import cut_at_stops
from inference.job import GenerationParams
from inference.prompt import Prompt, Turn, build_prompt, system_prompt_for

GREEDY = GenerationParams(max_new_tokens=12, temperature=0.0, repetition_penalty=1.0)


@pytest.fixture(scope="module")
def tiny_backend(tiny_model_dir: Path) -> LocalBackend:
    return LocalBackend.load(str(tiny_model_dir), device="cpu")


def _prompt(backend: LocalBackend, text: str = "I feel lonely") -> Prompt:
    return build_prompt(
        system_prompt_for("en"),
        [Turn("user", text)],
        style="chat_template",
        locale="en",
        count_tokens=backend.count_tokens,
        budget=1000,
    )


def test_streamed_text_equals_plain_generate(tiny_backend: LocalBackend) -> None:
    import torch

    prompt = _prompt(tiny_backend)
    pieces = list(tiny_backend.stream(prompt, GREEDY))
    assert len(pieces) > 1  # it streams
    input_ids = tiny_backend.input_ids(prompt)
    with torch.inference_mode():
        output = tiny_backend.model.generate(**tiny_backend.generation_kwargs(input_ids, GREEDY))
    expected = tiny_backend.tokenizer.decode(
        output[0, input_ids.shape[1] :], skip_special_tokens=True
    )
    assert "".join(pieces) == expected


def test_token_count_uses_the_chat_template(tiny_backend: LocalBackend) -> None:
    prompt = _prompt(tiny_backend)
    rendered = tiny_backend.render_text(prompt)
    assert rendered.startswith("<|im_start|>system\n")
    assert rendered.endswith("<|im_start|>assistant\n")
    assert tiny_backend.count_tokens(prompt) == len(
        tiny_backend.tokenizer(rendered, add_special_tokens=False)["input_ids"]
    )


def test_special_tokens_are_control_markers(tiny_backend: LocalBackend) -> None:
    assert "<|im_start|>" in tiny_backend.control_markers()


def test_pieces_are_cut_at_a_stop_string() -> None:
    pieces = iter(["I hear", " you.", "\n用", "户：and more", " text"])
    assert "".join(cut_at_stops(pieces, ["\n用户："])) == "I hear you."


def test_stop_strings_split_over_pieces_are_held_back() -> None:
    assert "".join(cut_at_stops(iter(["abc\n", "用", "户", "："]), ["\n用户："])) == "abc"
    # held back only while it could still become a stop string
    assert list(cut_at_stops(iter(["abc\n", "x"]), ["\n用户："])) == ["abc", "\nx"]


def test_transcript_generation_stops_before_the_next_user_turn(
    tiny_backend: LocalBackend,
) -> None:
    prompt = build_prompt(
        "",
        [Turn("user", "hello")],
        style="transcript",
        locale="en",
        count_tokens=tiny_backend.count_tokens,
        budget=500,
    )
    reply = "".join(tiny_backend.stream(prompt, GenerationParams(max_new_tokens=30, temperature=0)))
    assert "\nUser:" not in reply


def test_missing_model_paths_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="does not exist"):
        resolve_model_source(str(tmp_path / "missing.gguf"))
    with pytest.raises(ModelNotFound, match="does not exist"):
        resolve_model_source(str(tmp_path / "missing-dir"))
    with pytest.raises(ModelNotFound, match="adapter"):
        LocalBackend.load("", adapter=str(tmp_path / "no"))


def test_a_hub_id_is_passed_through() -> None:
    assert resolve_model_source("HuggingFaceTB/SmolLM2-135M-Instruct").location == (
        "HuggingFaceTB/SmolLM2-135M-Instruct"
    )


@pytest.mark.slow
def test_real_smollm2_answers_in_english() -> None:
    source = default_model_source()
    assert source.gguf_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    backend = LocalBackend.load()
    prompt = _prompt(backend, "I have been feeling very lonely since I moved to a new city.")
    reply = "".join(backend.stream(prompt, GenerationParams(max_new_tokens=40, temperature=0)))
    words = reply.split()
    assert len(words) >= 5
    assert sum(w.isascii() for w in words) / len(words) > 0.9


def test_a_lora_adapter_is_applied(tiny_model_dir: Path, tmp_path: Path) -> None:
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():  # a non-zero B matrix, so the adapter changes the output
        for name, parameter in lora.named_parameters():
            if "lora_B" in name:
                parameter.fill_(0.5)
    lora.save_pretrained(tmp_path / "adapter")

    plain = LocalBackend.load(str(tiny_model_dir), device="cpu")
    adapted = LocalBackend.load(
        str(tiny_model_dir), adapter=str(tmp_path / "adapter"), device="cpu"
    )
    assert isinstance(adapted.model, PeftModel)
    prompt = _prompt(plain)
    ids = plain.input_ids(prompt)
    with torch.inference_mode():
        assert not torch.allclose(plain.model(ids).logits, adapted.model(ids).logits)
    assert "".join(adapted.stream(prompt, GREEDY))


@pytest.mark.slow
def test_a_gguf_model_is_converted_once_and_then_loaded_from_the_cache(tmp_path: Path) -> None:
    import time

    from inference.backends.checkpoints import gguf_cache_path

    first = LocalBackend.load(cache_dir=tmp_path)
    cached = gguf_cache_path(default_model_source(), tmp_path)
    assert (cached / "config.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == [cached.name]  # no staging left behind
    started = time.perf_counter()
    second = LocalBackend.load(cache_dir=tmp_path)
    reload_s = time.perf_counter() - started
    prompt = _prompt(first, "I feel lonely.")
    params = GenerationParams(max_new_tokens=12, temperature=0)
    assert "".join(second.stream(prompt, params)) == "".join(first.stream(prompt, params))
    assert second.count_tokens(prompt) == first.count_tokens(prompt)
    print(f"reload from cache: {reload_s:.1f}s")
