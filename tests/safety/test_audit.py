"""The crisis audit log (``safety.audit``): the hash chain on SQLite and on real PostgreSQL,
tampering, concurrent appends from threads and processes, what ``detail`` refuses, referral
counts and the ``soulchat audit`` commands."""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, insert, inspect, update
from typer.testing import CliRunner

from safety.audit import GENESIS_HASH, AuditLog, AuditRecord, ReferralCount
from soulchat.store import Store
from soulchat.store.models import AuditLogEntry

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store.open(store_url)
    yield opened
    opened.close()


@pytest.fixture
def log(store: Store) -> AuditLog:
    return AuditLog(store.engine, page_size=3)  # small pages: reading crosses page borders


def _crisis(log: AuditLog) -> list[AuditRecord]:
    """Five entries of one escalation; #3 carries a value in every optional field."""
    return [
        log.append("detected", subject="conversation:12", tier=2, categories=["suicide"]),
        log.append("tier_changed", subject="conversation:12", tier=3, categories=["suicide"]),
        log.append(
            "resources_shown",
            subject="conversation:12",
            case_id=7,
            tier=3,
            categories=["suicide", "self_harm"],
            detail={"outcome": "referred", "locale": "zh"},
        ),
        log.append("alert_sent", subject="case:7", case_id=7, detail={"channel": "telegram"}),
        log.append("claimed", subject="case:7", case_id=7, actor="operator:telegram:1234"),
    ]


def _expected_hash(entry: AuditRecord) -> str:
    """The documented hash, computed here independently of the implementation."""
    payload = {
        "seq": entry.seq,
        "created_at": entry.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "event": entry.event,
        "case_id": entry.case_id,
        "subject": entry.subject,
        "tier": entry.tier,
        "categories": ",".join(entry.categories),
        "actor": entry.actor,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _set(store: Store, at_seq: int, **values: Any) -> None:
    with store.engine.begin() as connection:
        query = update(AuditLogEntry).where(AuditLogEntry.seq == at_seq).values(**values)
        connection.execute(query)


def _delete(store: Store, seq: int) -> None:
    with store.engine.begin() as connection:
        connection.execute(delete(AuditLogEntry).where(AuditLogEntry.seq == seq))


# -- schema -------------------------------------------------------------------------------
def test_the_migration_creates_the_table(store: Store) -> None:
    inspector = inspect(store.engine)
    assert "audit_log" in inspector.get_table_names()
    columns = {column["name"] for column in inspector.get_columns("audit_log")}
    assert columns == {
        "id",
        "seq",
        "created_at",
        "event",
        "case_id",
        "subject",
        "tier",
        "categories",
        "actor",
        "detail",
        "prev_hash",
        "hash",
    }
    assert inspector.get_foreign_keys("audit_log") == []  # entries outlive users
    unique = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("audit_log")}
    assert {("seq",), ("hash",)} <= unique


# -- the chain ----------------------------------------------------------------------------
def test_appended_entries_form_a_chain_that_verifies(log: AuditLog) -> None:
    appended = _crisis(log)
    assert [entry.seq for entry in appended] == [1, 2, 3, 4, 5]
    assert appended[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(appended):
        assert after.prev_hash == before.hash
    assert all(entry.hash == _expected_hash(entry) for entry in appended)
    assert list(log.entries()) == appended  # read back exactly, created_at included
    assert [entry.seq for entry in log.entries(since_seq=3)] == [4, 5]
    assert appended[2].categories == ("self_harm", "suicide")
    assert appended[2].detail == {"locale": "zh", "outcome": "referred"}
    report = log.verify()
    assert (report.ok, report.entries, report.first_bad_seq, report.reason) == (True, 5, None, "")
    assert report.last_hash == appended[-1].hash
    assert log.head() == appended[-1]


def test_an_empty_log_verifies(log: AuditLog) -> None:
    report = log.verify()
    assert (report.ok, report.entries, report.last_hash) == (True, 0, GENESIS_HASH)
    assert log.head() is None


def test_created_at_round_trips_in_utc(log: AuditLog) -> None:
    elsewhere = timezone(timedelta(hours=8))
    moment = datetime(2026, 3, 1, 7, 30, 15, 123456, tzinfo=elsewhere)
    entry = log.append("detected", subject="conversation:1", tier=1, now=moment)
    assert entry.created_at == moment and entry.created_at.tzinfo == UTC
    (read,) = log.entries()
    assert read.created_at.tzinfo == UTC
    assert read.created_at.isoformat() == "2026-02-28T23:30:15.123456+00:00"
    assert read.hash == entry.hash
    assert log.verify().ok


def test_the_chain_survives_forgetting_the_user(store: Store, log: AuditLog) -> None:
    user = store.get_or_create_user("telegram", "555")
    conversation = store.open_conversation(user.id)
    store.record_safety_event(user.id, conversation, "inbound_risk", 3, ["suicide"])
    log.append("detected", subject=f"conversation:{conversation}", tier=3, categories=["suicide"])
    log.append("resources_shown", subject=f"conversation:{conversation}", tier=3)
    store.forget_user("telegram", "555")
    assert log.verify().ok and log.verify().entries == 2


# -- tampering ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("created_at", datetime(2020, 1, 1, tzinfo=UTC)),
        ("event", "resolved"),
        ("case_id", 8),
        ("subject", "conversation:13"),
        ("tier", 1),
        ("categories", "suicide"),
        ("actor", "operator:telegram:1"),
        ("detail", '{"outcome":"declined"}'),
        ("detail", '{"locale": "zh", "outcome": "referred"}'),  # same object, other text
        ("prev_hash", "f" * 64),
        ("hash", "e" * 64),
        ("seq", 99),
    ],
)
def test_changing_any_field_breaks_the_chain_at_that_entry(
    store: Store, log: AuditLog, column: str, value: object
) -> None:
    _crisis(log)
    _set(store, 3, **{column: value})
    report = log.verify()
    assert not report.ok
    assert report.first_bad_seq == 3, report.reason
    assert report.entries == 2 and report.reason


def test_a_recomputed_hash_still_breaks_the_next_link(store: Store, log: AuditLog) -> None:
    entries = _crisis(log)
    forged = AuditRecord(**{**entries[2].__dict__, "tier": 1, "hash": ""})
    _set(store, 3, tier=1, hash=_expected_hash(forged))
    report = log.verify()
    assert report.first_bad_seq == 4
    assert "prev_hash" in report.reason


def test_deleting_a_middle_entry_is_a_gap(store: Store, log: AuditLog) -> None:
    _crisis(log)
    _delete(store, 3)
    report = log.verify()
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert "missing" in report.reason


def test_deleting_the_last_entry_needs_an_anchor_to_be_seen(store: Store, log: AuditLog) -> None:
    # The chain alone cannot show that its newest entries were removed: what is left is a
    # valid chain. The last hash, kept elsewhere (`soulchat audit verify` prints it), can.
    _crisis(log)
    anchor = (5, log.verify().last_hash)
    assert log.verify(anchor=anchor).ok
    _delete(store, 5)
    report = log.verify()
    assert report.ok and report.entries == 4
    assert report.last_hash != anchor[1]
    truncated = log.verify(anchor=anchor)
    assert (truncated.ok, truncated.first_bad_seq) == (False, 5)
    assert "missing" in truncated.reason


def test_an_anchor_that_does_not_match_fails(log: AuditLog) -> None:
    entries = _crisis(log)
    assert log.verify(anchor=(3, entries[2].hash)).ok
    report = log.verify(anchor=(3, entries[1].hash))
    assert (report.ok, report.first_bad_seq) == (False, 3)


def test_swapped_entries_are_found(store: Store, log: AuditLog) -> None:
    _crisis(log)
    _set(store, 2, seq=1000)
    _set(store, 4, seq=2)
    _set(store, 1000, seq=4)
    report = log.verify()
    assert (report.ok, report.first_bad_seq) == (False, 2)


def test_an_inserted_entry_is_found(store: Store, log: AuditLog) -> None:
    entries = _crisis(log)
    for seq in (5, 4, 3):  # one at a time: PostgreSQL checks uniqueness row by row
        _set(store, seq, seq=seq + 1)
    forged = AuditRecord(
        **{**entries[2].__dict__, "event": "resolved", "prev_hash": entries[1].hash, "hash": ""}
    )
    values = {**forged.__dict__, "categories": ",".join(forged.categories)}
    values.update(detail=json.dumps(forged.detail, sort_keys=True, separators=(",", ":")))
    values["hash"] = _expected_hash(forged)  # a well-formed entry at #3 ...
    with store.engine.begin() as connection:
        connection.execute(insert(AuditLogEntry).values(**values))
    report = log.verify()
    assert (report.ok, report.first_bad_seq) == (False, 4)  # ... that the old #3 does not follow


# -- concurrency --------------------------------------------------------------------------
def test_appends_from_eight_threads_make_one_chain(log: AuditLog) -> None:
    threads, each = 8, 15
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        start.wait()
        try:
            for i in range(each):
                log.append("detected", subject=f"conversation:{worker}", tier=i % 5)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    assert [entry.seq for entry in log.entries()] == list(range(1, threads * each + 1))
    report = log.verify()
    assert report.ok and report.entries == threads * each


def _append_from_another_process(url: str, worker: int, count: int, start: Any) -> None:
    store = Store.open(url)
    log = AuditLog(store.engine)
    start.wait(timeout=60)  # all writers begin together, once imports and connections are done
    for _ in range(count):
        log.append("human_requested", subject=f"conversation:{worker}")
    store.close()


def test_appends_from_two_processes_make_one_chain(store: Store, store_url: str) -> None:
    each = 40
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(3)
    processes = [
        context.Process(target=_append_from_another_process, args=(store_url, n, each, start))
        for n in range(2)
    ]
    for process in processes:
        process.start()
    log = AuditLog(store.engine)
    start.wait(timeout=60)
    for _ in range(each):  # and this process at the same time
        log.append("detected", subject="conversation:99")
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    entries = list(log.entries())
    assert [entry.seq for entry in entries] == list(range(1, 3 * each + 1))
    report = log.verify()
    assert report.ok and report.entries == 3 * each


# -- what goes in -------------------------------------------------------------------------
@pytest.fixture
def no_table_log() -> AuditLog:
    """Validation happens before the database is touched: a write would fail here."""
    return AuditLog(create_engine("sqlite://"))


@pytest.mark.parametrize(
    "detail",
    [
        {"note": "x" * 201},
        {"outcome": {"nested": "object"}},
        {"outcome": ["a", "list"]},
        {"score": 0.5},
        {"Free Text Key": "x"},
    ],
)
def test_detail_takes_only_short_scalars(no_table_log: AuditLog, detail: Any) -> None:
    with pytest.raises(ValueError, match="detail"):
        no_table_log.append("resolved", subject="case:1", detail=detail)


def test_detail_allows_two_hundred_characters(log: AuditLog) -> None:
    detail = {"outcome": "x" * 200, "paged": True, "attempts": 2, "channel": None}
    entry = log.append("resolved", subject="case:1", detail=detail)
    assert entry.detail == detail and log.verify().ok


@pytest.mark.parametrize(
    "arguments",
    [
        {"event": "chatted"},
        {"subject": "telegram:123456"},  # a platform user id
        {"subject": "conversation:I feel awful"},
        {"actor": "the user"},
        {"categories": "suicide"},  # one string, not a collection
        {"categories": ["Suicide note text"]},
        {"tier": 7},
        {"case_id": "7"},
        {"now": datetime(2026, 1, 1)},  # naive
    ],
)
def test_anything_that_could_carry_text_or_identity_is_refused(
    no_table_log: AuditLog, arguments: dict[str, Any]
) -> None:
    call: dict[str, Any] = {"event": "detected", "subject": "conversation:1", **arguments}
    with pytest.raises(ValueError):
        no_table_log.append(call.pop("event"), **call)


# -- referral counts ----------------------------------------------------------------------
def _referrals(log: AuditLog) -> None:
    def shown(moment: datetime, tier: int | None, *categories: str) -> None:
        log.append(
            "resources_shown",
            subject="conversation:1",
            tier=tier,
            categories=categories,
            now=moment,
        )

    shown(datetime(2026, 1, 5, 10, tzinfo=UTC), 3, "suicide")  # Monday
    shown(datetime(2026, 1, 5, 23, 59, 59, 999999, tzinfo=UTC), 3, "suicide", "self_harm")
    shown(datetime(2026, 1, 7, tzinfo=UTC), 3, "suicide")
    shown(datetime(2026, 1, 12, tzinfo=UTC), 2, "suicide")  # the next Monday
    # 23:30 in New York on 31 January is 1 February in UTC
    shown(datetime(2026, 1, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))), 4, "suicide")
    shown(datetime(2026, 2, 3, tzinfo=UTC), None)  # resources asked for, no risk category
    log.append("detected", subject="conversation:1", tier=3, categories=["suicide"])  # not one


def test_referrals_by_month(log: AuditLog) -> None:
    _referrals(log)
    jan, feb = date(2026, 1, 1), date(2026, 2, 1)
    assert log.referral_counts("month") == [
        ReferralCount(jan, 2, "suicide", 1),
        ReferralCount(jan, 3, "self_harm", 1),
        ReferralCount(jan, 3, "suicide", 3),
        ReferralCount(feb, None, "", 1),
        ReferralCount(feb, 4, "suicide", 1),
    ]


def test_referrals_by_week_and_day(log: AuditLog) -> None:
    _referrals(log)
    weeks = log.referral_counts("week")
    assert [(c.period_start, c.tier, c.category, c.count) for c in weeks] == [
        (date(2026, 1, 5), 3, "self_harm", 1),
        (date(2026, 1, 5), 3, "suicide", 3),
        (date(2026, 1, 12), 2, "suicide", 1),
        (date(2026, 1, 26), 4, "suicide", 1),
        (date(2026, 2, 2), None, "", 1),
    ]
    days = log.referral_counts("day")
    assert [(c.period_start, c.count) for c in days if c.category == "suicide"] == [
        (date(2026, 1, 5), 2),
        (date(2026, 1, 7), 1),
        (date(2026, 1, 12), 1),
        (date(2026, 2, 1), 1),
    ]


def test_referrals_between_days_include_both_ends(log: AuditLog) -> None:
    _referrals(log)
    counts = log.referral_counts("day", since=date(2026, 1, 7), until=date(2026, 2, 1))
    assert [(c.period_start, c.count) for c in counts] == [
        (date(2026, 1, 7), 1),
        (date(2026, 1, 12), 1),
        (date(2026, 2, 1), 1),
    ]
    assert log.referral_counts("month", since=date(2026, 3, 1)) == []
    with pytest.raises(ValueError):
        log.referral_counts("year")  # type: ignore[arg-type]


# -- the command line ---------------------------------------------------------------------
@pytest.fixture
def cli_store(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("SOULCHAT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SOULCHAT_DATABASE__URL", store_url)
    opened = Store.open(store_url)
    yield opened
    opened.close()


def _invoke(*arguments: str) -> Any:
    from soulchat.cli import app  # the real `soulchat`, with `audit` registered

    return runner.invoke(app, ["audit", *arguments])


def test_cli_verify(cli_store: Store) -> None:
    empty = _invoke("verify")
    assert empty.exit_code == 0, empty.output
    assert "audit chain intact: 0 entries" in empty.output
    entries = _crisis(AuditLog(cli_store.engine))
    intact = _invoke("verify")
    assert intact.exit_code == 0, intact.output
    assert "audit chain intact: 5 entries" in intact.output
    assert f"last entry: 5:{entries[-1].hash}" in intact.output
    assert _invoke("verify", "--anchor", f"5:{entries[-1].hash}").exit_code == 0
    _delete(cli_store, 5)
    truncated = _invoke("verify", "--anchor", f"5:{entries[-1].hash}")
    assert truncated.exit_code == 1
    assert "audit chain BROKEN at entry #5: " in truncated.output
    _set(cli_store, 2, subject="conversation:13")
    broken = _invoke("verify")
    assert broken.exit_code == 1
    assert "audit chain BROKEN at entry #2: " in broken.output
    assert _invoke("verify", "--anchor", "five").exit_code == 2


def test_cli_referrals(cli_store: Store) -> None:
    _referrals(AuditLog(cli_store.engine))
    table = _invoke("referrals", "--period", "month")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["month", "starting", "tier", "category", "referrals"]
    assert lines[3].split() == ["2026-01-01", "3", "suicide", "3"]
    assert lines[4].split() == ["2026-02-01", "-", "-", "1"]
    as_json = _invoke(
        "referrals", "--period", "week", "--since", "2026-01-12", "--until", "2026-01-31", "--json"
    )
    assert as_json.exit_code == 0, as_json.output
    assert [json.loads(line) for line in as_json.output.splitlines()] == [
        {
            "period": "week",
            "period_start": "2026-01-12",
            "tier": 2,
            "category": "suicide",
            "count": 1,
        }
    ]


def test_cli_referrals_rejects_bad_days(cli_store: Store) -> None:
    assert _invoke("referrals", "--since", "January").exit_code == 2
    backwards = _invoke("referrals", "--since", "2026-02-01", "--until", "2026-01-01")
    assert backwards.exit_code == 2
    assert "after --until" in backwards.output


def test_cli_referrals_when_there_are_none(cli_store: Store) -> None:
    result = _invoke("referrals", "--period", "day")
    assert result.exit_code == 0, result.output
    assert "no referrals recorded" in result.output
    assert _invoke("referrals", "--json").output == ""
