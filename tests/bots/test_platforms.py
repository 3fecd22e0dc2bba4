"""The platform table and the settings agree: a platform is its folder, its settings group
and one line in bots/platforms.py."""

from __future__ import annotations

import inspect
from pathlib import Path

from typer.testing import CliRunner

from bots.platforms import PLATFORMS
from soulchat.cli import app
from soulchat.config import load_settings


def test_every_platform_has_its_settings_group_and_runner_and_command() -> None:
    settings = load_settings()
    assert {p.name for p in PLATFORMS} == set(settings.chat_platforms())
    for platform in PLATFORMS:
        runner = platform.runner()
        assert inspect.iscoroutinefunction(runner.serve), platform.name
        assert platform.name in CliRunner().invoke(app, ["--help"]).output


def test_a_platform_without_a_token_stops_with_the_setting_to_set(tmp_path: Path) -> None:
    for platform in PLATFORMS:
        env = {"SOULCHAT_DATA_DIR": str(tmp_path)}
        result = CliRunner().invoke(app, [platform.name], env=env)
        assert result.exit_code == 2, result.output
        assert f"SOULCHAT_{platform.name.upper()}__TOKEN" in result.output
