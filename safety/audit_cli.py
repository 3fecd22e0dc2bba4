"""``soulchat audit``: check the crisis audit chain and count referrals for reporting.

``soulchat.cli`` imports this module to register it, so everything from ``soulchat.cli``
(and the store, which it opens) is imported inside the commands.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import typer

from safety.audit import AuditLog, ReferralCount
from soulchat.cli_support import fail

audit_app = typer.Typer(
    help="The crisis audit log: verify the hash chain, count referrals.", no_args_is_help=True
)


class PeriodChoice(StrEnum):
    day = "day"
    week = "week"
    month = "month"


@contextmanager
def _audit_log() -> Iterator[AuditLog]:
    """The audit log in the configured database (opened like every other command does)."""
    from soulchat.cli_support import settings_or_exit
    from soulchat.store import SchemaError, open_store

    settings = settings_or_exit()
    try:
        store = open_store(settings)
    except SchemaError as exc:
        raise fail(str(exc)) from None
    try:
        yield AuditLog(store.engine)
    finally:
        store.close()


@audit_app.command("verify")
def verify(
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            help="SEQ:HASH printed by an earlier run: also fail if that entry is gone or "
            "different (the chain alone cannot show its newest entries removed).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check that every entry is present, unchanged and in order (exit 1 when not)."""
    expected = None if anchor is None else _anchor(anchor)
    with _audit_log() as log:
        report = log.verify(anchor=expected)
    if not report.ok:
        typer.echo(f"audit chain BROKEN at entry #{report.first_bad_seq}: {report.reason}")
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {report.entries} entries")
    if report.entries:
        # Removing the newest entries leaves a valid chain: keep this elsewhere and pass it
        # as --anchor later to show that.
        typer.echo(f"last entry: {report.entries}:{report.last_hash}")


@audit_app.command("referrals")
def referrals(
    period: Annotated[
        PeriodChoice, typer.Option("--period", help="Group by day, ISO week or month (UTC).")
    ] = PeriodChoice.month,
    since: Annotated[
        datetime | None,
        typer.Option("--since", formats=["%Y-%m-%d"], help="First day, YYYY-MM-DD (UTC)."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option("--until", formats=["%Y-%m-%d"], help="Last day, included (UTC)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
) -> None:
    """Count crisis referrals per period, tier and category (no personal data).

    A referral is an entry where crisis resources were shown; one with several categories
    counts once in each."""
    first, last = _day(since), _day(until)
    if first and last and first > last:
        raise fail("--since is after --until")
    with _audit_log() as log:
        counts = log.referral_counts(period.value, first, last)
    if as_json:
        for count in counts:
            typer.echo(json.dumps(_json_row(count, period.value), ensure_ascii=False))
        return
    typer.echo(_table(counts, period.value) if counts else "no referrals recorded in that time")


def _anchor(value: str) -> tuple[int, str]:
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or int(seq) < 1 or len(digest) != 64:
        raise fail("--anchor must be SEQ:HASH, as `soulchat audit verify` prints it")
    return int(seq), digest.lower()


def _day(value: datetime | None) -> date | None:
    return None if value is None else value.date()


def _json_row(count: ReferralCount, period: str) -> dict[str, object]:
    return {
        "period": period,
        "period_start": count.period_start.isoformat(),
        "tier": count.tier,
        "category": count.category,
        "count": count.count,
    }


def _table(counts: list[ReferralCount], period: str) -> str:
    header = (f"{period} starting", "tier", "category", "referrals")
    rows = [
        (
            c.period_start.isoformat(),
            "-" if c.tier is None else str(c.tier),
            c.category or "-",
            str(c.count),
        )
        for c in counts
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)
