"""`soulchat chat` as a user runs it: a real process, lines piped in, replies read back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from soulchat.store import Store
from training.evaluation.metrics import written_in


def _chat(
    lines: str, data_dir: Path, *extra: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "SOULCHAT_DATA_DIR": str(data_dir), **env}
    return subprocess.run(
        [sys.executable, "-m", "soulchat.cli", "chat", *extra],
        input=lines,
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
    )


def _replies(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("soulchat> ")]


def test_piped_lines_each_get_a_reply_and_are_stored(tmp_path: Path) -> None:
    result = _chat(
        "I feel lonely\n\nNobody calls me\n",
        tmp_path,
        "--user",
        "ana",
        SOULCHAT_MODEL__BACKEND="fake",
    )
    assert result.returncode == 0, result.stderr
    assert "not a therapist" in result.stdout  # the disclaimer comes first
    assert result.stdout.index("not a therapist") < result.stdout.index("soulchat> ")
    assert "988" in result.stdout  # crisis lines with the disclaimer
    assert len(_replies(result.stdout)) == 2
    assert "didn't catch anything" in result.stdout  # the empty line got a kind notice
    store = Store.open(f"sqlite:///{tmp_path / 'soulchat.sqlite3'}")
    user = store.find_user("console", "ana")
    assert user is not None
    stored = store.recent_messages(store.open_conversation(user.id), 10)
    assert [m.role for m in stored] == ["user", "assistant", "user", "assistant"]
    store.close()


def test_chinese_session(tmp_path: Path) -> None:
    result = _chat("我最近很难过\n", tmp_path, "--lang", "zh", SOULCHAT_MODEL__BACKEND="fake")
    assert result.returncode == 0, result.stderr
    assert "人工智能" in result.stdout
    assert "12356" in result.stdout


def test_forget_command_deletes_the_conversation(tmp_path: Path) -> None:
    result = _chat("hello\n/forget\n1\n", tmp_path, "--user", "bo", SOULCHAT_MODEL__BACKEND="fake")
    assert result.returncode == 0, result.stderr
    assert "everything stored about you has been deleted" in result.stdout
    store = Store.open(f"sqlite:///{tmp_path / 'soulchat.sqlite3'}")
    assert store.find_user("console", "bo") is None
    store.close()


def test_chat_through_the_local_backend_on_a_tiny_model(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    result = _chat(
        "I can't sleep\n",
        tmp_path,
        SOULCHAT_MODEL__BACKEND="local",
        SOULCHAT_MODEL__PATH=str(tiny_model_dir),
        SOULCHAT_GENERATION__MAX_NEW_TOKENS="8",
    )
    assert result.returncode == 0, result.stderr
    assert len(_replies(result.stdout)) == 1


@pytest.mark.slow
def test_chat_on_the_default_model_and_engine(tmp_path: Path) -> None:
    """What `make run` does: no model setting at all, so the bundled model on llama.cpp."""
    result = _chat(
        "I have been feeling lonely since I moved to a new city.\n",
        tmp_path,
        timeout=600,
        SOULCHAT_GENERATION__MAX_NEW_TOKENS="48",
    )
    assert result.returncode == 0, result.stderr
    [reply] = _replies(result.stdout)
    words = reply.removeprefix("soulchat> ").split()
    assert len(words) >= 5
    assert sum(word.isascii() for word in words) / len(words) > 0.9
    assert "llama_" not in result.stderr  # the engine's own log stays out of the terminal


@pytest.mark.slow
def test_the_default_model_answers_chinese_in_chinese(tmp_path: Path) -> None:
    """The default is bilingual: a Chinese line gets a Chinese reply, not an English essay."""
    result = _chat(
        "我最近压力很大，晚上总是睡不着。\n",
        tmp_path,
        "--lang",
        "zh",
        timeout=600,
        SOULCHAT_GENERATION__MAX_NEW_TOKENS="48",
    )
    assert result.returncode == 0, result.stderr
    [reply] = _replies(result.stdout)
    text = reply.removeprefix("soulchat> ")
    assert sum("\u4e00" <= char <= "\u9fff" for char in text) >= 5
    assert written_in(text) == "zh", text  # a name such as SoulChat may stay in Latin letters


def test_invalid_configuration_stops_with_a_clear_message(tmp_path: Path) -> None:
    result = _chat("hi\n", tmp_path, SOULCHAT_MODEL__BACKEND="gpt5")
    assert result.returncode == 2
    assert "SOULCHAT_MODEL__BACKEND" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_broker_is_named(tmp_path: Path) -> None:
    result = _chat(
        "hi\n",
        tmp_path,
        timeout=60,
        SOULCHAT_MODEL__BACKEND="fake",
        SOULCHAT_QUEUE__BROKER_URL="redis://:secret@127.0.0.1:1/0",
        SOULCHAT_QUEUE__REPLY_URL="redis://127.0.0.1:1/0",
    )
    assert result.returncode == 2
    assert "127.0.0.1:1" in result.stderr
    assert "secret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_database_behind_is_a_clear_error(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    assert _chat("hi\n", tmp_path, SOULCHAT_MODEL__BACKEND="fake").returncode == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'soulchat.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    engine.dispose()
    result = _chat("hi\n", tmp_path, SOULCHAT_MODEL__BACKEND="fake")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "revision old" in result.stderr


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    result = _chat("hi\n", tmp_path, SOULCHAT_MODEL__PATH=str(tmp_path / "nope.gguf"))
    assert result.returncode == 2
    assert "nope.gguf" in result.stderr and "SOULCHAT_MODEL__PATH" in result.stderr


@pytest.mark.slow
def test_chat_with_the_real_default_model(tmp_path: Path) -> None:
    result = _chat(
        "I have been feeling lonely since I moved to a new city.\n",
        tmp_path,
        timeout=300,
        SOULCHAT_GENERATION__MAX_NEW_TOKENS="40",
    )
    assert result.returncode == 0, result.stderr
    replies = _replies(result.stdout)
    assert len(replies) == 1
    assert len(replies[0].split()) >= 5
