"""The operator's task dump: where each task waits, and nothing of what it holds."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from bots.diagnostics import install_task_dump, log_tasks


async def waiting_for_a_reply(secret: str) -> None:
    await asyncio.sleep(30)


async def test_the_dump_names_where_tasks_wait_but_not_their_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    task = asyncio.create_task(waiting_for_a_reply("I feel hopeless"))
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, logger="bots.diagnostics"):
        log_tasks()
    task.cancel()
    dump = caplog.text
    assert "waiting_for_a_reply (test_diagnostics.py:" in dump
    assert "hopeless" not in dump


async def test_sigusr1_triggers_the_dump(caplog: pytest.LogCaptureFixture) -> None:
    install_task_dump(asyncio.get_running_loop())
    try:
        with caplog.at_level(logging.WARNING, logger="bots.diagnostics"):
            os.kill(os.getpid(), signal.SIGUSR1)
            for _ in range(50):
                await asyncio.sleep(0.01)
                if "asyncio tasks" in caplog.text:
                    break
        assert "asyncio tasks, by where they wait" in caplog.text
    finally:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGUSR1)
