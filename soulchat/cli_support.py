"""What every ``soulchat`` command shares: one red line on stderr and exit code 2 for a
problem it understands (never a traceback), and the settings read once, with logging set up.
The sub-commands of each part (safety, training) use these; ``soulchat/cli.py`` puts them
together."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from soulchat.config import ConfigError, Settings, load_settings


class _Options:
    """What the top-level ``--config`` said, for every sub-command."""

    config: Path | None = None


def set_config_file(path: Path | None) -> None:
    _Options.config = path


def config_file() -> Path | None:
    """The file ``--config`` named, if any."""
    return _Options.config


def fail(message: str, code: int = 2, *, prefix: str = "soulchat") -> typer.Exit:
    typer.secho(f"{prefix}: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def settings_or_exit(*, log_to_file: str | None = None) -> Settings:
    """Load the settings and set up logging (to a file in data_dir when ``log_to_file``
    names one, so a conversation in the terminal is not interleaved with log lines)."""
    try:
        settings = load_settings(_Options.config)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    filename = None
    if log_to_file:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        filename = str(settings.data_dir / log_to_file)
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        filename=filename,
    )
    return settings
