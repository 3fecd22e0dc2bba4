"""The crisis-escalation audit log: every safety-relevant event of a crisis conversation,
append-only and hash-chained, so a counselling service can show afterwards what happened and
when (detected, tier changed, resources shown, alert sent, acknowledged, claimed, ...).

What it never holds: message text, or anything that identifies the user. A user can delete
everything stored about them (``Store.forget_user``) and the chain must stay verifiable after
that, so an entry names its conversation only by a pseudonymous reference
(``"conversation:123"``), has no foreign keys, and ``detail`` takes only a few short scalar
fields. Operators (``"operator:telegram:1234"``) are staff, not users, and may be named.

The chain: entry ``n`` stores ``prev_hash`` = the hash of entry ``n - 1`` (``GENESIS_HASH``
for the first) and ``hash`` = sha256 of the canonical JSON of its own fields including
``prev_hash`` (see ``_entry_hash``). ``verify`` finds a changed entry, a missing one (a gap in
``seq``), a reordered or inserted one and a broken link. It cannot find the *last* entries
removed, or new entries written with correct hashes by someone who can write to the database:
record ``(entries, last_hash)`` of a ``VerifyReport`` somewhere else now and then and pass it
back as ``verify(anchor=...)`` to detect that.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, NamedTuple

from sqlalchemy import ColumnElement, Connection, Engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from soulchat.store.models import AuditLogEntry, utcnow

EVENTS: frozenset[str] = frozenset(
    {
        "case_opened",
        "detected",
        "tier_changed",
        "resources_shown",
        "alert_sent",
        "acknowledged",
        "claimed",
        "released",
        "resolved",
        "paged",
        "human_requested",
        "reply_replaced",
    }
)
REFERRAL_EVENT = "resources_shown"  # what `referral_counts` counts
GENESIS_HASH = "0" * 64  # the prev_hash of entry #1

DetailValue = str | int | bool | None
Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")

MAX_DETAIL_STRING = 200
MAX_DETAIL_FIELDS = 16
# Conversations and escalation cases: references that mean nothing once the user's data is
# deleted. Deliberately no platform names, so a platform user id cannot pass as a subject.
SUBJECT_KINDS: frozenset[str] = frozenset({"conversation", "case"})
_SUBJECT = re.compile(r"(?P<kind>[a-z_]+):[A-Za-z0-9_-]{1,48}")
_ACTOR = re.compile(r"bot|system|operator:[a-z][a-z0-9_]{0,15}:[A-Za-z0-9_.-]{1,40}")
_TOKEN = re.compile(r"[a-z][a-z0-9_]{0,63}")  # a category or a detail key: never free text

# pg_advisory_xact_lock key: any fixed 64-bit number nothing else takes. These are the first
# 8 bytes of sha256(b"soulchat.audit_log") as a signed integer.
_PG_LOCK_KEY = 9053789351297940557
# With the lock held a seq conflict cannot happen; the unique constraint and these retries
# are the last guard (an engine in REPEATABLE READ, a writer that does not take the lock).
_APPEND_ATTEMPTS = 5


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the chain, as appended or read back (``created_at`` in UTC)."""

    seq: int
    created_at: datetime
    event: str
    case_id: int | None
    subject: str
    tier: int | None
    categories: tuple[str, ...]
    actor: str
    detail: dict[str, DetailValue]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    entries: int  # entries checked and intact (all of them when ok)
    first_bad_seq: int | None
    reason: str  # empty when ok
    # The hash of the last intact entry: keep it elsewhere to detect a truncated chain later.
    last_hash: str = GENESIS_HASH


@dataclass(frozen=True)
class ReferralCount:
    """Crisis referrals (``resources_shown``) in one period, tier and category; no personal
    data, for aggregate reporting. ``category`` is "" for an entry that had none."""

    period_start: date  # UTC: the day, the Monday of the ISO week, or the 1st of the month
    tier: int | None
    category: str
    count: int


class _Row(NamedTuple):
    """The stored columns, as stored (categories and detail still text)."""

    seq: int
    created_at: datetime
    event: str
    case_id: int | None
    subject: str
    tier: int | None
    categories: str
    actor: str
    detail: str
    prev_hash: str
    hash: str


_COLUMNS = tuple(getattr(AuditLogEntry, name) for name in _Row._fields)


class AuditLog:
    """The audit chain in the store's database (the ``audit_log`` table).

    Give it the engine of a ``Store`` (``AuditLog(store.engine)``): on SQLite it relies on the
    store's busy timeout to wait for the write lock instead of failing at once.
    """

    def __init__(self, engine: Engine, *, page_size: int = 500) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.engine = engine
        self.page_size = page_size

    # -- writing -------------------------------------------------------------------------
    def append(
        self,
        event: str,
        *,
        subject: str,
        case_id: int | None = None,
        tier: int | None = None,
        categories: Iterable[str] = (),
        actor: str = "bot",
        detail: Mapping[str, DetailValue] | None = None,
        now: datetime | None = None,
    ) -> AuditRecord:
        """Add one entry at the end of the chain. ``now`` (timezone-aware) is for tests and
        imports; by default the time is taken while holding the lock, so times follow seq.
        Raises ``ValueError`` for anything that could carry personal data or free text."""
        _check_event(event)
        _check_subject(subject)
        _check_actor(actor)
        _check_optional_int("case_id", case_id)
        _check_tier(tier)
        categories_text = _categories_text(categories)
        detail_text = canonical_json(_checked_detail(detail or {}))
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        for attempt in range(_APPEND_ATTEMPTS):
            try:
                with self._write_transaction() as connection:
                    row = self._insert_next(
                        connection,
                        _to_utc(now or utcnow()),
                        event=event,
                        case_id=case_id,
                        subject=subject,
                        tier=tier,
                        categories=categories_text,
                        actor=actor,
                        detail=detail_text,
                    )
                return _record(row)
            except IntegrityError:
                if attempt == _APPEND_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _insert_next(connection: Connection, created_at: datetime, **fields: Any) -> _Row:
        """Link to the current last entry and insert; the caller holds the append lock."""
        last = connection.execute(
            select(AuditLogEntry.seq, AuditLogEntry.hash)
            .order_by(AuditLogEntry.seq.desc())
            .limit(1)
        ).first()
        seq, prev_hash = (1, GENESIS_HASH) if last is None else (last.seq + 1, last.hash)
        row = _Row(seq=seq, created_at=created_at, prev_hash=prev_hash, hash="", **fields)
        row = row._replace(hash=_entry_hash(row, json.loads(row.detail)))
        connection.execute(insert(AuditLogEntry).values(**row._asdict()))
        return row

    @contextmanager
    def _write_transaction(self) -> Iterator[Connection]:
        """A transaction that holds the append lock from before the last entry is read until
        commit, across threads and processes, so two appends cannot take the same seq."""
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            with self._sqlite_immediate() as connection:
                yield connection
            return
        with self.engine.connect() as connection:
            if dialect == "postgresql":
                # Each statement sees what committed before it, so the read after the lock
                # sees the previous holder's entry (REPEATABLE READ would not).
                connection.execution_options(isolation_level="READ COMMITTED")
            with connection.begin():
                if dialect == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
                    )
                yield connection

    @contextmanager
    def _sqlite_immediate(self) -> Iterator[Connection]:
        # pysqlite begins a transaction only at the first write, after our read of the last
        # entry; BEGIN IMMEDIATE takes the write lock first. The driver must not issue its own
        # BEGIN, hence AUTOCOMMIT on this connection (reset when it goes back to the pool).
        with self.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")

    # -- reading -------------------------------------------------------------------------
    def entries(self, since_seq: int = 0) -> Iterator[AuditRecord]:
        """The entries after ``since_seq`` in chain order, read a page at a time (no
        connection is held between pages)."""
        for row in self._rows(after=since_seq):
            yield _record(row)

    def head(self) -> AuditRecord | None:
        """The last entry, or None when the log is empty."""
        query = select(*_COLUMNS).order_by(AuditLogEntry.seq.desc()).limit(1)
        with self.engine.connect() as connection:
            found = connection.execute(query).first()
        return None if found is None else _record(_row(found))

    def _rows(self, *conditions: ColumnElement[bool], after: int = 0) -> Iterator[_Row]:
        # Keyset pages on seq: constant memory, and each page a short read.
        while True:
            query = (
                select(*_COLUMNS)
                .where(AuditLogEntry.seq > after, *conditions)
                .order_by(AuditLogEntry.seq)
                .limit(self.page_size)
            )
            with self.engine.connect() as connection:
                page = [_row(found) for found in connection.execute(query)]
            yield from page
            if len(page) < self.page_size:
                return
            after = page[-1].seq

    # -- checking ------------------------------------------------------------------------
    def verify(self, anchor: tuple[int, str] | None = None) -> VerifyReport:
        """Walk the whole chain; report the first entry that is missing, changed or out of
        place. Removing the newest entries leaves a valid chain: pass ``anchor``, a
        ``(seq, hash)`` recorded earlier (``VerifyReport.last_hash``), to detect that too."""
        expected_seq, prev_hash, intact = 1, GENESIS_HASH, 0
        anchored: str | None = None
        for row in self._rows():
            problem = _chain_problem(row, expected_seq, prev_hash)
            if problem is not None:
                bad_seq, reason = problem
                return VerifyReport(False, intact, bad_seq, reason, prev_hash)
            if anchor is not None and row.seq == anchor[0]:
                anchored = row.hash
            intact, expected_seq, prev_hash = intact + 1, expected_seq + 1, row.hash
        if anchor is not None and anchored != anchor[1]:
            return _anchor_mismatch(anchor[0], anchored, intact, prev_hash)
        return VerifyReport(True, intact, None, "", prev_hash)

    # -- reporting -----------------------------------------------------------------------
    def referral_counts(
        self,
        period: Period = "month",
        since: date | None = None,
        until: date | None = None,
    ) -> list[ReferralCount]:
        """How many times crisis resources were shown, per period (UTC), tier and category;
        an entry counts once for each category it has. ``since`` and ``until`` are inclusive
        days. Only counts leave this method, never a subject or a case."""
        if period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}")
        conditions = [AuditLogEntry.event == REFERRAL_EVENT]
        if since is not None:
            conditions.append(AuditLogEntry.created_at >= _midnight(since))
        if until is not None:
            conditions.append(AuditLogEntry.created_at < _midnight(until + timedelta(days=1)))
        counts: Counter[tuple[date, int | None, str]] = Counter()
        for row in self._rows(*conditions):
            start = period_start(row.created_at.date(), period)
            for category in row.categories.split(",") if row.categories else [""]:
                counts[(start, row.tier, category)] += 1
        keys = sorted(counts, key=lambda k: (k[0], -1 if k[1] is None else k[1], k[2]))
        return [
            ReferralCount(start, tier, cat, counts[(start, tier, cat)]) for start, tier, cat in keys
        ]


# -- the hash ----------------------------------------------------------------------------
def canonical_json(value: object) -> str:
    """The one serialisation that is hashed and stored: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _entry_hash(row: _Row, detail: object) -> str:
    """sha256 of every stored field but the hash itself. ``categories`` is hashed as stored
    (comma-separated), ``detail`` as the JSON object, ``created_at`` as ISO 8601 UTC with
    microseconds, so anyone can recompute it from an export."""
    payload = {
        "seq": row.seq,
        "created_at": _iso(row.created_at),
        "event": row.event,
        "case_id": row.case_id,
        "subject": row.subject,
        "tier": row.tier,
        "categories": row.categories,
        "actor": row.actor,
        "detail": detail,
        "prev_hash": row.prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def _chain_problem(row: _Row, expected_seq: int, prev_hash: str) -> tuple[int, str] | None:
    """(seq to blame, reason) for the first thing wrong with ``row`` at this place."""
    if row.seq > expected_seq:
        return expected_seq, f"entry #{expected_seq} is missing (the next one is #{row.seq})"
    if row.seq != expected_seq:
        return row.seq, f"unexpected sequence number (expected #{expected_seq})"
    if row.prev_hash != prev_hash:
        before = "the start of the chain" if row.seq == 1 else f"entry #{row.seq - 1}"
        return row.seq, f"prev_hash does not match {before}"
    try:
        detail = json.loads(row.detail)
    except ValueError:
        return row.seq, "detail is not valid JSON"
    if canonical_json(detail) != row.detail:  # same object, other text: still an edit
        return row.seq, "detail is not in canonical form"
    if _entry_hash(row, detail) != row.hash:
        return row.seq, "content does not match its hash (the entry was changed)"
    return None


def _anchor_mismatch(seq: int, found: str | None, intact: int, last_hash: str) -> VerifyReport:
    if found is None:  # the chain is intact but shorter than it was
        reason = f"entry #{seq} is missing: the chain ends at #{intact} (entries removed?)"
        return VerifyReport(False, intact, intact + 1, reason, last_hash)
    reason = f"entry #{seq} is not the one recorded (its hash differs from the anchor)"
    return VerifyReport(False, intact, seq, reason, last_hash)


# -- time --------------------------------------------------------------------------------
def _to_utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes (they were stored in UTC); PostgreSQL gives the
    session's time zone. Either way: the same instant, in UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return _to_utc(moment).isoformat(timespec="microseconds")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def period_start(day: date, period: Period) -> date:
    """The first day of the period holding ``day``: itself, its ISO week's Monday, or the 1st
    of its month."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


# -- rows and records --------------------------------------------------------------------
def _row(found: Any) -> _Row:
    row = _Row(*found)
    return row._replace(created_at=_to_utc(row.created_at))


def _record(row: _Row) -> AuditRecord:
    return AuditRecord(
        seq=row.seq,
        created_at=row.created_at,
        event=row.event,
        case_id=row.case_id,
        subject=row.subject,
        tier=row.tier,
        categories=tuple(row.categories.split(",")) if row.categories else (),
        actor=row.actor,
        detail=json.loads(row.detail),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


# -- validation: what goes in must carry no text and no one's identity --------------------
def _check_event(event: str) -> None:
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")


def _check_subject(subject: str) -> None:
    match = _SUBJECT.fullmatch(subject)
    if match is None or match["kind"] not in SUBJECT_KINDS:
        kinds = " or ".join(sorted(SUBJECT_KINDS))
        raise ValueError(f"subject must be a pseudonymous reference ({kinds}:<id>)")


def _check_actor(actor: str) -> None:
    if len(actor) > 64 or _ACTOR.fullmatch(actor) is None:
        raise ValueError('actor must be "bot", "system" or "operator:<platform>:<id>"')


def _check_optional_int(name: str, value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{name} must be an integer or None")


def _check_tier(tier: int | None) -> None:
    _check_optional_int("tier", tier)
    if tier is not None and not 0 <= tier <= 4:
        raise ValueError("tier must be between 0 and 4")


def _categories_text(categories: Iterable[str]) -> str:
    if isinstance(categories, str):  # "suicide" would otherwise become s,u,i,c,...
        raise ValueError("categories must be a collection of names, not one string")
    names = sorted(set(categories))
    for name in names:
        if not isinstance(name, str) or _TOKEN.fullmatch(name) is None:
            raise ValueError(f"category {name!r} is not a lower-case identifier")
    joined = ",".join(names)
    if len(joined) > 256:
        raise ValueError("too many categories")
    return joined


def _checked_detail(detail: Mapping[str, DetailValue]) -> dict[str, DetailValue]:
    """A flat object of a few short scalars: room for an outcome or a channel, none for a
    message or a profile."""
    if not isinstance(detail, Mapping):
        raise ValueError("detail must be a mapping")
    if len(detail) > MAX_DETAIL_FIELDS:
        raise ValueError(f"detail has more than {MAX_DETAIL_FIELDS} fields")
    checked: dict[str, DetailValue] = {}
    for key, value in detail.items():
        if not isinstance(key, str) or _TOKEN.fullmatch(key) is None:
            raise ValueError(f"detail key {key!r} is not a lower-case identifier")
        if value is not None and not isinstance(value, str | int | bool):
            raise ValueError(f"detail[{key!r}] must be a str, int, bool or None")
        if isinstance(value, str) and len(value) > MAX_DETAIL_STRING:
            raise ValueError(f"detail[{key!r}] is longer than {MAX_DETAIL_STRING} characters")
        checked[key] = value
    return checked
