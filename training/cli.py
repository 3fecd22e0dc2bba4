"""``soulchat train`` and ``soulchat export``: fine-tune, then make the result servable.

Heavy imports (torch, transformers, trl) happen inside the commands so that the rest of the
CLI starts fast.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from soulchat.cli_support import config_file, fail

train_app = typer.Typer(help="Fine-tune a model on prepared dialogues.", no_args_is_help=True)

CONFIG_DIR = Path(__file__).parent / "configs"


def model_cache_dir() -> Path:
    """Where a GGUF base's plain checkpoint is kept: ``data_dir/models``, the place
    ``soulchat chat`` keeps it, so serving, training and export share one conversion."""
    from soulchat.config import ConfigError, load_settings

    try:
        return load_settings(config_file()).data_dir / "models"
    except ConfigError as exc:
        raise fail(str(exc)) from None


def resolve_config_path(name: str) -> Path:
    """A YAML path, or the name of a config shipped in training/configs."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    shipped = CONFIG_DIR / (name if name.endswith(".yaml") else name + ".yaml")
    if shipped.is_file():
        return shipped
    names = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
    raise fail(f"config {name} is neither a file nor a shipped config ({names})")


@train_app.command("sft")
def train_sft(
    config: Annotated[
        str, typer.Option("--config", "-c", help="YAML file or shipped config name.")
    ],
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override one setting: --set learning_rate=1e-4 (repeatable)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the last checkpoint in output_dir.")
    ] = False,
) -> None:
    """Supervised fine-tuning with loss on the counselor's turns only."""
    from inference.backends.local import ModelNotFound
    from training.data.schema import DataError
    from training.sft.config import ConfigFileError, load_config
    from training.sft.samples import TemplateError

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        path = resolve_config_path(config)
        run_config = load_config(path, overrides or [])
        from training.sft.trainer import run_sft, sft_arguments

        sft_arguments(run_config, str(path))  # TRL's own checks, before anything is loaded
        if not Path(run_config.train_file).is_file():
            raise fail(f"train_file {run_config.train_file} does not exist")
        result = run_sft(run_config, resume=resume, cache_dir=model_cache_dir())
    except (ConfigFileError, DataError, ModelNotFound, TemplateError) as exc:
        raise fail(str(exc)) from None
    typer.echo(
        f"trained {result.steps} steps in {result.seconds / 60:.1f} min, "
        f"loss {result.train_loss:.4f}, {result.tokens_per_second:.0f} tokens/s"
        + (" (stopped by max_minutes)" if result.stopped_early else "")
    )
    typer.echo(f"saved to {result.output_dir}; next: soulchat export {result.output_dir} OUT")


@train_app.command("options")
def train_options() -> None:
    """Every training setting with its default and help text: SoulChat's, then TRL's."""
    from training.sft.config import OWN_SETTINGS, field_help

    typer.echo("# SoulChat's settings\n")
    trl_heading = True
    for name, default, help_text in field_help():
        if name not in OWN_SETTINGS and trl_heading:
            typer.echo(
                "\n# trl.SFTConfig (and transformers.TrainingArguments) settings, passed to "
                "trl.SFTConfig as they are; the help is TRL's\n"
            )
            trl_heading = False
        typer.echo(f"{name} (default {default})\n    {help_text}")


def export(
    run_dir: Annotated[Path, typer.Argument(help="A training output directory.")],
    out: Annotated[Path, typer.Argument(help="Where to write the exported model.")],
    adapter_only: Annotated[
        bool,
        typer.Option("--adapter-only", help="Keep the LoRA adapter separate (TGI LORA_ADAPTERS)."),
    ] = False,
    base: Annotated[
        str, typer.Option("--base", help="Base model, if not the one the run recorded.")
    ] = "",
    half: Annotated[
        bool,
        typer.Option(
            "--half", help="With --adapter-only: store the adapter in float16 (half the size)."
        ),
    ] = False,
) -> None:
    """Make a trained model servable: merged safetensors or the adapter, with a model card.

    Merging folds the adapter into its base (for TGI, vLLM or SOULCHAT_MODEL__PATH);
    --adapter-only keeps it separate (TGI LORA_ADAPTERS, SOULCHAT_MODEL__ADAPTER)."""
    from inference.backends.local import ModelNotFound
    from training.export import ExportError, export_run

    try:
        result = export_run(
            run_dir,
            out,
            mode="adapter" if adapter_only else "merge",
            base=base,
            cache_dir=model_cache_dir(),
            half=half,
        )
    except (ExportError, ModelNotFound) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"exported {result.mode} of {result.base} to {result.out}")
    if result.mode == "merge":
        typer.echo(f"serve it: SOULCHAT_MODEL__PATH={result.out} soulchat chat")
    else:
        typer.echo(f"serve it: SOULCHAT_MODEL__ADAPTER={result.out} soulchat chat")
