"""The `soulchat` command line (in-process, through typer's runner)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from soulchat.cli import app
from soulchat.store import Store

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOULCHAT_DATA_DIR", str(tmp_path))
    return tmp_path


def _store(data_dir: Path) -> Store:
    return Store.open(f"sqlite:///{data_dir / 'soulchat.sqlite3'}")


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("chat", "worker", "forget", "db", "config"):
        assert command in result.output


def test_db_upgrade_then_current(data_dir: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "-> 0005" in result.output
    current = runner.invoke(app, ["db", "current"])
    assert "current: 0005  needed: 0005" in current.output


def test_forget_deletes_one_user(data_dir: Path) -> None:
    store = _store(data_dir)
    for name in ("ana", "bo"):
        user = store.get_or_create_user("telegram", name)
        store.add_user_message(store.open_conversation(user.id), f"{name} is sad")
    store.close()
    result = runner.invoke(app, ["forget", "ana", "--platform", "telegram", "--yes"])
    assert result.exit_code == 0, result.output
    assert "1 conversations, 1 messages" in result.output
    store = _store(data_dir)
    assert store.find_user("telegram", "ana") is None
    assert store.find_user("telegram", "bo") is not None
    store.close()


def test_forget_asks_before_deleting(data_dir: Path) -> None:
    store = _store(data_dir)
    store.get_or_create_user("console", "ana")
    store.close()
    result = runner.invoke(app, ["forget", "ana"], input="n\n")
    assert result.exit_code == 1
    store = _store(data_dir)
    assert store.find_user("console", "ana") is not None
    store.close()


def test_worker_refuses_the_embedded_queue(data_dir: Path) -> None:
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "SOULCHAT_QUEUE__BROKER_URL" in result.output


def test_config_show_hides_secrets(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOULCHAT_QUEUE__BROKER_URL", "redis://:hunter2@127.0.0.1:6379/0")
    monkeypatch.setenv("SOULCHAT_MODEL__TGI_TOKEN", "sk-secret")
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output and "sk-secret" not in result.output
    assert "127.0.0.1:6379" in result.output


def test_config_docs_is_the_readme_table() -> None:
    result = runner.invoke(app, ["config", "docs"])
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert result.output.strip() in readme
