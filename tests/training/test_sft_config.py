"""The run configuration: YAML in, typed and checked, with errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.cli import CONFIG_DIR
from training.sft.config import ConfigFileError, SFTRunConfig, field_help, load_config
from training.sft.trainer import batching_flags, sft_arguments


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_and_overrides_build_a_typed_config(tmp_path: Path) -> None:
    path = write(tmp_path, "train_file: t.jsonl\nlearning_rate: 1.0e-4\nlora_r: 8\n")
    config = load_config(path, ["lora_r=4", "style=transcript", "lora_target_modules=q_proj"])
    assert config.learning_rate == 1e-4
    assert config.lora_r == 4
    assert config.style == "transcript"
    assert config.lora_target_modules == ["q_proj"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train_file: t\nlearnign_rate: 1\n", "learnign_rate: unknown setting"),
        ("train_file: t\nlora_r: eight\n", "lora_r: expected a whole number"),
        ("train_file: t\nmethod: dora\n", "method: 'dora' is not one of lora, qlora, full"),
        ("train_file: t\ngradient_checkpointing: 1\n", "expected true or false"),
        ("learning_rate: 1e-4\n", "train_file: is required"),
        ("- a list\n", "expected a mapping"),
        ("train_file: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_config_is_an_error_naming_the_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError) as caught:
        load_config(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")


def test_every_field_has_help_text() -> None:
    rows = field_help()
    assert {name for name, _, _ in rows} == set(SFTRunConfig.__dataclass_fields__)
    assert all(len(help_text) > 10 for _, _, help_text in rows)


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_config_loads(path: Path) -> None:
    config = load_config(path)
    assert config.train_file


def test_auto_batching_is_padding_free_only_with_flash_attention() -> None:
    cpu = SFTRunConfig(train_file="t", batching="auto", attn_implementation="sdpa")
    gpu = SFTRunConfig(train_file="t", batching="auto", attn_implementation="flash_attention_2")
    assert batching_flags(cpu) == {"train_sampling_strategy": "group_by_length"}
    assert batching_flags(gpu) == {"padding_free": True, "max_length": None}
    packing = SFTRunConfig(train_file="t", batching="packing")
    assert batching_flags(packing) == {"packing": True, "packing_strategy": "bfd"}


@pytest.mark.parametrize("wanted", [False, True])
def test_gradient_checkpointing_is_what_the_config_says(wanted: bool, tmp_path: Path) -> None:
    # TRL turns checkpointing on by default; "false" must reach the trainer as false.
    config = SFTRunConfig(train_file="t", output_dir=str(tmp_path), gradient_checkpointing=wanted)
    assert sft_arguments(config).gradient_checkpointing is wanted
