"""``soulchat``: one command for every part of the system."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from bots.platforms import PLATFORMS, ChatPlatform
from safety.audit_cli import audit_app
from safety.cli import safety_app
from soulchat import locales
from soulchat.cli_support import fail, set_config_file, settings_or_exit
from soulchat.config import ConfigError, settings_table
from soulchat.urls import redact_url
from training.cli import export, train_app
from training.data.cli import app as data_app
from training.evaluation.cli import app as eval_app

app = typer.Typer(
    name="soulchat",
    help="SoulChat: an empathetic AI support companion on the console, Telegram and Discord, "
    "with a safety screen on every message.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The conversation store: migrations and retention.", no_args_is_help=True)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(data_app, name="data", help="Counseling dialogues: prepare splits, show stats.")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval", help="Score models on held-out dialogues.")
app.add_typer(safety_app, name="safety")
app.add_typer(audit_app, name="audit", help="The crisis audit log: verify it, count referrals.")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="TOML config file (else $SOULCHAT_CONFIG).", show_default=False
    ),
]


def run_or_exit(coroutine: Any) -> None:
    """Run an async command, turning known start-up failures into one clear line."""
    from inference.backends.local import ModelNotFound
    from inference.queue import BrokerUnreachable
    from soulchat.store import SchemaError

    try:
        asyncio.run(coroutine)
    except (ConfigError, BrokerUnreachable, SchemaError, ModelNotFound) as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app.callback()
def main_options(config: ConfigOption = None) -> None:
    set_config_file(config)


@app.command()
def chat(
    lang: Annotated[
        str | None,
        typer.Option("--lang", help=f"{locales.describe()} (default: from $LANG)."),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Who is talking (default: your login name).")
    ] = None,
) -> None:
    """Talk to SoulChat in this terminal. Pipe lines in to script a conversation."""
    from bots.console import chat as run_chat

    if lang is not None and not locales.is_supported(lang):
        raise fail(f"--lang must be {locales.describe()}")
    settings = settings_or_exit(log_to_file="chat.log")
    _quiet_model_loading()
    run_or_exit(run_chat(settings, locale=lang, user=user))


def _quiet_model_loading() -> None:
    """No progress bars from transformers between the disclaimer and the conversation."""
    os.environ.setdefault("TQDM_DISABLE", "1")  # GGUF loading uses a bare tqdm
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:
        return
    transformers_logging.disable_progress_bar()


@app.command()
def worker() -> None:
    """Run a queue worker that generates replies (for a Redis broker)."""
    from inference.queue import GENERATE_QUEUE, check_broker, create_app
    from inference.worker import worker_runtime

    settings = settings_or_exit()
    if settings.queue.is_embedded:
        raise fail(
            "the embedded queue runs its worker inside `soulchat chat`; set "
            "SOULCHAT_QUEUE__BROKER_URL=redis://… to run separate workers"
        )
    if settings.queue.reply_url.startswith("memory://"):
        raise fail("a separate worker needs SOULCHAT_QUEUE__REPLY_URL=redis://…")
    prefork = settings.queue.worker_pool == "prefork"
    runtime = None if prefork else worker_runtime(settings)  # prefork children load their own
    celery_app = create_app(
        settings, (lambda: runtime) if runtime else lambda: worker_runtime(settings)
    )
    try:
        check_broker(celery_app, settings.queue.broker_url)
    except Exception as exc:
        raise fail(str(exc)) from None
    typer.echo(f"worker consuming {GENERATE_QUEUE} on {redact_url(settings.queue.broker_url)}")
    celery_app.worker_main(
        [
            "worker",
            f"--pool={settings.queue.worker_pool}",
            f"--concurrency={settings.queue.worker_concurrency}",
            f"--loglevel={settings.log_level}",
            f"--queues={GENERATE_QUEUE}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def _platform_command(platform: ChatPlatform) -> None:
    def run_bot() -> None:
        settings = settings_or_exit()
        runner = platform.runner()
        group = platform.settings(settings)
        try:
            runner.read_token(group)
        except ConfigError as exc:
            raise fail(str(exc)) from None
        typer.echo(f"{runner.describe(group)}; Ctrl-C stops it")
        run_or_exit(runner.serve(settings))

    summary = f"Run the {platform.title} bot (token: SOULCHAT_{platform.name.upper()}__TOKEN or "
    app.command(name=platform.name, help=summary + "__TOKEN_FILE).")(run_bot)


for _platform in PLATFORMS:
    _platform_command(_platform)


@app.command()
def forget(
    user: Annotated[str, typer.Argument(help="The user's id on that platform.")],
    platform: Annotated[
        str, typer.Option(help="console, " + ", ".join(p.name for p in PLATFORMS) + ".")
    ] = "console",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete everything stored about one user."""
    from soulchat.store import SchemaError, open_store

    settings = settings_or_exit()
    if not yes and not typer.confirm(f"Delete everything stored about {platform} user {user}?"):
        raise typer.Exit(1)
    try:
        store = open_store(settings)
    except SchemaError as exc:
        raise fail(str(exc)) from None
    report = store.forget_user(platform, user)
    store.close()
    if not report.users:
        typer.echo(f"nothing stored about {platform} user {user}")
        return
    typer.echo(
        f"deleted {platform} user {user}: {report.conversations} conversations, "
        f"{report.messages} messages, {report.safety_events} safety events"
    )


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply the schema migrations (back up the database first)."""
    from soulchat.store.migrate import current_revision, upgrade
    from soulchat.store.store import create_store_engine

    settings = settings_or_exit()
    url = settings.database.url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_store_engine(url)
    before = current_revision(engine)
    upgrade(engine, revision)
    after = current_revision(engine)
    typer.echo(f"database {engine.url.render_as_string(hide_password=True)}: {before} -> {after}")


@db_app.command("current")
def db_current() -> None:
    """Show the database's schema revision and the one this version needs."""
    from soulchat.store.migrate import current_revision, head_revision
    from soulchat.store.store import create_store_engine

    settings = settings_or_exit()
    engine = create_store_engine(settings.database.url)
    typer.echo(f"current: {current_revision(engine)}  needed: {head_revision()}")


@db_app.command("purge")
def db_purge() -> None:
    """Delete conversations idle for longer than database.retention_days."""
    from soulchat.store import open_store

    settings = settings_or_exit()
    days = settings.database.retention_days
    if not days:
        typer.echo("retention_days is 0: conversations are kept")
        return
    store = open_store(settings)
    removed = store.purge_idle_conversations(timedelta(days=days))
    store.close()
    typer.echo(f"deleted {removed} conversations idle for more than {days} days")


@config_app.command("show")
def config_show() -> None:
    """Print the effective configuration (secrets hidden)."""
    settings = settings_or_exit()
    data = settings.model_dump(mode="json")
    data["database"]["url"] = redact_url(data["database"]["url"])
    data["queue"]["broker_url"] = redact_url(data["queue"]["broker_url"])
    data["queue"]["reply_url"] = redact_url(data["queue"]["reply_url"])
    import json

    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@config_app.command("docs")
def config_docs() -> None:
    """Print the table of every setting (as in the README)."""
    typer.echo(settings_table())


app.command("export")(export)


def main() -> None:
    try:
        app()
    except BrokenPipeError:
        sys.exit(0)


if __name__ == "__main__":
    main()
