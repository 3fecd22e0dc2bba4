"""Bot tokens from the settings or a mounted secret file; no error message ever holds one."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from soulchat.config import ConfigError


def read_secret(value: SecretStr | None, file: str, *, group: str, hint: str) -> str:
    """``value`` if set, else the contents of ``file``; ``group`` names the settings group
    ("telegram") in the error, ``hint`` says where such a token comes from."""
    if value is not None:
        token = value.get_secret_value().strip()
    elif file:
        path = Path(file).expanduser()
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{group}.token_file {path}: {exc.strerror}") from None
    else:
        variable = f"SOULCHAT_{group.upper()}__TOKEN"
        raise ConfigError(f"no {hint}: set {variable} or {variable}_FILE")
    if not token:
        raise ConfigError(f"the {group} token is empty")
    return token
