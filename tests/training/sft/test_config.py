"""The run configuration: YAML in, typed and checked, with errors that name the key.

SoulChat's own settings and TRL's ``SFTConfig`` fields share one flat namespace; the TRL ones
pass through to ``SFTConfig`` as they are."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from training.cli import CONFIG_DIR, train_app
from training.sft.config import (
    OWN_SETTINGS,
    TRAINER_DEFAULTS,
    ConfigFileError,
    SFTRunConfig,
    build_config,
    config_dict,
    field_help,
    load_config,
    save_config,
    trainer_fields,
)
from training.sft.trainer import batching_flags, sft_arguments


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_and_overrides_build_a_typed_config(tmp_path: Path) -> None:
    path = write(tmp_path, "train_file: t.jsonl\nlearning_rate: 1.0e-4\nlora_r: 8\n")
    config = load_config(path, ["lora_r=4", "style=transcript", "lora_target_modules=q_proj"])
    assert config.trainer_args == {"learning_rate": 1e-4}
    assert config.lora_r == 4
    assert config.style == "transcript"
    assert config.lora_target_modules == ["q_proj"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "train_file: t\nlearnign_rate: 1\n",
            "learnign_rate: unknown setting (did you mean learning_rate?)",
        ),
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


def test_every_setting_has_help_text_soulchat_s_and_trl_s() -> None:
    rows = field_help()
    names = [name for name, _, _ in rows]
    assert len(names) == len(set(names))
    assert set(names) == OWN_SETTINGS | set(trainer_fields())
    assert set(SFTRunConfig.__dataclass_fields__) - {"trainer_args"} == OWN_SETTINGS
    assert all(len(help_text) > 10 for _, _, help_text in rows)
    by_name = {name: (default, help_text) for name, default, help_text in rows}
    # TRL's own help, with SoulChat's default where it changes TRL's.
    assert by_name["weight_decay"][0] == "0.0"
    assert "weight decay" in by_name["weight_decay"][1].lower()
    assert by_name["learning_rate"][0] == repr(TRAINER_DEFAULTS["learning_rate"])
    assert "padding_free" not in by_name  # set through batching


def test_train_options_lists_both_kinds_with_defaults() -> None:
    result = CliRunner().invoke(train_app, ["options"])
    assert result.exit_code == 0, result.output
    assert "lora_r (default 16)\n    LoRA rank" in result.output
    assert "optim (default 'adamw_torch_fused')" in result.output
    assert "trl.SFTConfig" in result.output


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
    raw = {"train_file": "t", "output_dir": str(tmp_path), "gradient_checkpointing": wanted}
    arguments = sft_arguments(build_config(raw))
    assert arguments.gradient_checkpointing is wanted
    assert arguments.gradient_checkpointing_kwargs == ({"use_reentrant": False} if wanted else None)


def test_gradient_checkpointing_under_its_new_transformers_name_is_the_same_setting(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, f"train_file: t\noutput_dir: {tmp_path}\n")
    arguments = sft_arguments(load_config(path, ["activation_checkpointing=true"]))
    assert arguments.gradient_checkpointing is True
    assert arguments.gradient_checkpointing_kwargs == {"use_reentrant": False}
    with pytest.raises(ConfigFileError, match="gradient_checkpointing: and activation_"):
        load_config(path, ["activation_checkpointing=true", "gradient_checkpointing=false"])


def test_an_unknown_key_names_the_closest_known_one(tmp_path: Path) -> None:
    path = write(tmp_path, "train_file: t\n")
    for key, closest in [("weight_decy", "weight_decay"), ("lora_alhpa", "lora_alpha")]:
        with pytest.raises(ConfigFileError) as caught:
            load_config(path, [f"{key}=1"])
        assert f"{key}: unknown setting (did you mean {closest}?)" in str(caught.value)
    with pytest.raises(ConfigFileError, match=r"zzz: unknown setting$"):
        load_config(path, ["zzz=1"])
    with pytest.raises(ConfigFileError, match="padding_free: is set by batching"):
        load_config(path, ["padding_free=true"])


def test_trl_fields_pass_through_to_sft_config(tmp_path: Path) -> None:
    path = write(tmp_path, f"train_file: t\noutput_dir: {tmp_path}\noptim: adafactor\n")
    config = load_config(path, ["weight_decay=0.1", "save_total_limit=null", "max_grad_norm=0.5"])
    assert config.trainer_args == {
        "optim": "adafactor",
        "weight_decay": 0.1,
        "save_total_limit": None,
        "max_grad_norm": 0.5,
    }
    arguments = sft_arguments(config)
    assert arguments.weight_decay == 0.1
    assert arguments.optim == "adafactor"
    assert arguments.save_total_limit is None  # given, so SoulChat's default 2 gives way
    assert arguments.max_grad_norm == 0.5
    untouched = sft_arguments(load_config(path))
    assert untouched.weight_decay == 0.0 and untouched.save_total_limit == 2


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("weight_decay=heavy", "weight_decay: expected a number, got 'heavy'"),
        ("save_total_limit=two", "save_total_limit: expected a whole number or null, got 'two'"),
        ("push_to_hub=1", "push_to_hub: expected true or false, got 1"),
        ("lora_alpha=1.5", "lora_alpha: expected a whole number, got 1.5"),
        ("lr_scheduler_type=cosin", "lr_scheduler_type: 'cosin' is not one of linear, cosine"),
        ("lr_scheduler_type=cosin", "(did you mean cosine?)"),
        ("report_to=5", "report_to: expected null or text or a list of strings, got 5"),
        ("bf16=maybe", "bf16: 'maybe' is not one of auto, true, false"),
    ],
)
def test_a_wrong_type_names_the_key(tmp_path: Path, override: str, message: str) -> None:
    path = write(tmp_path, "train_file: t\n")
    with pytest.raises(ConfigFileError) as caught:
        load_config(path, [override])
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{path}: ")


def test_what_trl_itself_refuses_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, f"train_file: t\noutput_dir: {tmp_path}\n")
    config = load_config(path, ["warmup_steps=-1"])  # the right type; TRL checks the range
    with pytest.raises(ConfigFileError) as caught:
        sft_arguments(config, str(path))
    assert str(caught.value).startswith(f"{path}: trl.SFTConfig refused the settings: ")
    assert "warmup_steps = -1" in str(caught.value)


def test_warmup_ratio_is_a_share_and_warmup_steps_a_count(tmp_path: Path) -> None:
    # transformers 5 reads warmup_steps below 1 as a share of the steps, 1 or more as steps.
    shipped = load_config(CONFIG_DIR / "smollm2-135m-cpu-lora.yaml")
    assert shipped.warmup_ratio == 0.03
    arguments = sft_arguments(shipped)
    assert arguments.warmup_steps == 0.03
    assert arguments.get_warmup_steps(1000) == 30
    path = write(tmp_path, f"train_file: t\noutput_dir: {tmp_path}\n")
    steps = load_config(path, ["warmup_steps=10"])
    assert steps.warmup_ratio == 0.0  # the default share gives way to the steps asked for
    assert sft_arguments(steps).get_warmup_steps(1000) == 10
    assert sft_arguments(load_config(path, ["warmup_ratio=0.5"])).get_warmup_steps(10) == 5
    with pytest.raises(ConfigFileError, match="warmup_ratio: is a share of the steps, 0 <= r < 1"):
        load_config(path, ["warmup_ratio=1"])  # would have meant one step
    with pytest.raises(ConfigFileError, match="warmup_ratio: and warmup_steps are one setting"):
        load_config(path, ["warmup_ratio=0.1", "warmup_steps=10"])


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_a_saved_config_loads_back_the_same(path: Path, tmp_path: Path) -> None:
    config = load_config(path, ["weight_decay=0.01"])
    save_config(config, tmp_path / "config.yaml")
    again = load_config(tmp_path / "config.yaml")
    assert again == config
    assert config_dict(again)["weight_decay"] == 0.01


def test_shipped_7b_lora_reaches_trl_as_before() -> None:
    arguments = sft_arguments(load_config(CONFIG_DIR / "qwen2.5-7b-instruct-lora.yaml"))
    assert arguments.learning_rate == 1e-4
    assert arguments.per_device_train_batch_size == arguments.per_device_eval_batch_size == 8
    assert arguments.gradient_accumulation_steps == 4
    assert arguments.num_train_epochs == 2
    assert arguments.eval_strategy == "steps" and arguments.eval_steps == 500
    assert arguments.gradient_checkpointing is True
    assert arguments.padding_free is True and arguments.max_length is None
    assert arguments.save_total_limit == 2 and arguments.warmup_steps == 0.03
    assert arguments.seed == arguments.data_seed == 42
