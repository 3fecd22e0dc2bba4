from __future__ import annotations

from pathlib import Path

import pytest

from bots.runtime import load_safety
from soulchat.config import ConfigError, Settings, load_settings, redact_url, settings_table

REPO = Path(__file__).resolve().parents[2]


def test_defaults_are_the_embedded_serverless_setup(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.database.url == f"sqlite:///{tmp_path / 'soulchat.sqlite3'}"
    assert settings.queue.broker_url.startswith("embedded+sqlite:///")
    assert settings.queue.reply_url == "memory://"
    assert settings.queue.is_embedded
    assert settings.model.backend == "auto"
    assert settings.context.max_turns == 5


def test_redis_broker_streams_replies_through_the_same_redis(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, queue={"broker_url": "redis://h:6379/2"})
    assert settings.queue.reply_url == "redis://h:6379/2"
    assert not settings.queue.is_embedded


def test_environment_sets_nested_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOULCHAT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SOULCHAT_CONTEXT__MAX_TURNS", "3")
    monkeypatch.setenv("SOULCHAT_MODEL__BACKEND", "fake")
    settings = load_settings()
    assert settings.context.max_turns == 3
    assert settings.model.backend == "fake"
    assert settings.data_dir == tmp_path


def test_config_file_is_read_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "soulchat.toml"
    config.write_text(
        '[context]\nmax_turns = 7\nprompt_style = "transcript"\n[generation]\ntop_p = 0.5\n'
    )
    monkeypatch.setenv("SOULCHAT_CONTEXT__MAX_TURNS", "2")
    settings = load_settings(config, data_dir=tmp_path)
    assert settings.context.max_turns == 2  # environment over file
    assert settings.context.prompt_style == "transcript"  # file over default
    assert settings.generation.top_p == 0.5


def test_invalid_value_names_the_variable_and_the_meaning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOULCHAT_MODEL__BACKEND", "gpt5")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "SOULCHAT_MODEL__BACKEND" in message
    assert "'gpt5'" in message
    assert "Text Generation Inference" in message  # the field's help text says what to choose


def test_non_numeric_value_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOULCHAT_CONTEXT__MAX_TURNS", "five")
    with pytest.raises(ConfigError, match="SOULCHAT_CONTEXT__MAX_TURNS"):
        load_settings()


def test_time_limit_must_stay_under_visibility_timeout(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="visibility_timeout"):
        load_settings(
            data_dir=tmp_path,
            queue={
                "visibility_timeout_s": 100,
                "task_time_limit_s": 200,
                "task_soft_time_limit_s": 50,
            },
        )


def test_tgi_backend_needs_a_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tgi_url"):
        load_settings(data_dir=tmp_path, model={"backend": "tgi"})


def test_unknown_setting_in_file_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[model]\nbackends = 'tgi'\n")
    with pytest.raises(ConfigError, match="SOULCHAT_MODEL__BACKENDS"):
        load_settings(config)


def test_malformed_file_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[model\nbackend = \n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(config)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_postgres_url_uses_psycopg3(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database={"url": "postgresql://u:p@h/db"})
    assert settings.database.url == "postgresql+psycopg://u:p@h/db"


def test_secrets_are_hidden() -> None:
    assert redact_url("redis://:hunter2@h:6379/0") == "redis://:***@h:6379/0"
    assert redact_url("postgresql://u:hunter2@h/db") == "postgresql://u:***@h/db"
    settings = Settings(model={"backend": "tgi", "tgi_url": "http://x", "tgi_token": "sk-1"})
    assert "sk-1" not in repr(settings)
    assert "sk-1" not in settings.model_dump_json()


def test_every_setting_is_documented_and_in_the_readme() -> None:
    table = settings_table()
    readme = (REPO / "README.md").read_text()
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[3] and cells[3] != "None", f"{cells[0]} has no description"
        assert cells[1] in readme, f"{cells[1]} is missing from README.md"


def test_the_readme_table_is_what_config_docs_prints() -> None:
    readme = (REPO / "README.md").read_text()
    assert settings_table() in readme, "run `soulchat config docs` and paste it into README.md"


def test_default_region_is_empty_by_default(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path).safety.default_region == ""


def test_default_region_is_a_region_of_the_resources_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SOULCHAT_SAFETY__DEFAULT_REGION", "au")
    assert load_settings(data_dir=tmp_path).safety.default_region == "AU"
    monkeypatch.setenv("SOULCHAT_SAFETY__DEFAULT_REGION", "AUS")
    with pytest.raises(ConfigError, match="SOULCHAT_SAFETY__DEFAULT_REGION"):
        load_settings(data_dir=tmp_path)  # not a region code at all
    monkeypatch.setenv("SOULCHAT_SAFETY__DEFAULT_REGION", "XX")
    with pytest.raises(ConfigError) as caught:
        load_safety(load_settings(data_dir=tmp_path))  # at start, with the file's regions
    message = str(caught.value)
    assert "SOULCHAT_SAFETY__DEFAULT_REGION" in message
    assert "'XX' is not a region of the crisis resources file" in message
    assert "AU" in message and "TW" in message  # what it could have been


def test_default_region_is_checked_against_the_deployed_resources_file(tmp_path: Path) -> None:
    lines = tmp_path / "lines.toml"
    lines.write_text(
        '[[line]]\nname = "Local line"\ncontact = "555"\nregion = "Here"\n'
        'region_codes = ["XA"]\nlocale = "en"\nsource = "https://example.org/"\n'
        "last_verified = 2026-11-25\n",
        encoding="utf-8",
    )
    safety = {"crisis_resources_file": str(lines), "default_region": "XA"}
    assert load_safety(load_settings(data_dir=tmp_path, safety=safety)).default_region == "XA"
    with pytest.raises(ConfigError, match=r"DEFAULT_REGION.*it has XA"):
        load_safety(load_settings(data_dir=tmp_path, safety={**safety, "default_region": "AU"}))
