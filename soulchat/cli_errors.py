"""How every ``soulchat`` command reports a problem it understands: one red line on stderr
and exit code 2, never a traceback."""

from __future__ import annotations

import typer


def fail(message: str, code: int = 2, *, prefix: str = "soulchat") -> typer.Exit:
    typer.secho(f"{prefix}: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)
