"""The conversation store: users, conversations, messages and safety events.

Synchronous SQLAlchemy 2 with short sessions; async callers use ``asyncio.to_thread``. Methods
take and return plain values, never ORM objects, so nothing leaks a session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from soulchat.store.migrate import ensure_schema
from soulchat.store.models import Conversation, Message, SafetyEvent, User, aware, utcnow

_REGION_CODE = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class UserRecord:
    id: int
    platform: str
    platform_user_id: str
    locale: str | None
    consent_at: datetime | None
    ai_disclosed_at: datetime | None = None
    region: str | None = None  # chosen with /region (ISO 3166-1 alpha-2), None: automatic


@dataclass(frozen=True)
class StoredMessage:
    id: int
    role: str
    text: str
    reply_to_id: int | None = None

    @property
    def position(self) -> tuple[int, int]:
        """Conversation order: a reply right after the message it answers."""
        if self.role == "assistant" and self.reply_to_id is not None:
            return (self.reply_to_id, 1)
        return (self.id, 0)


@dataclass(frozen=True)
class RiskEvent:
    kind: str  # "inbound_risk", "guard_risk" or "risk_resolved"
    tier: int
    categories: frozenset[str]
    at: datetime


RISK_KINDS = ("inbound_risk", "guard_risk", "risk_resolved")


@dataclass(frozen=True)
class ForgetReport:
    users: int
    conversations: int
    messages: int
    safety_events: int


def create_store_engine(url: str) -> Engine:
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:  # a server may have closed idle connections; a file cannot
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL cannot corrupt the database; a power cut may lose the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, auto_migrate: bool = True) -> Store:
        """Connect and check the schema (``SchemaError`` when it is behind)."""
        if url.startswith("sqlite:///"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_store_engine(url)
        ensure_schema(engine, auto_migrate=auto_migrate)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def _session(self) -> Session:
        return self._sessions()

    # -- users ---------------------------------------------------------------------------
    def get_or_create_user(
        self, platform: str, platform_user_id: str, locale: str | None = None
    ) -> UserRecord:
        with self._session() as session:
            user = self._find_user(session, platform, platform_user_id)
            if user is None:
                user = User(platform=platform, platform_user_id=platform_user_id, locale=locale)
                session.add(user)
                try:
                    session.commit()
                except IntegrityError:  # created concurrently by another process
                    session.rollback()
                    user = self._find_user(session, platform, platform_user_id)
                    assert user is not None
            return _user_record(user)

    def find_user(self, platform: str, platform_user_id: str) -> UserRecord | None:
        with self._session() as session:
            user = self._find_user(session, platform, platform_user_id)
            return None if user is None else _user_record(user)

    @staticmethod
    def _find_user(session: Session, platform: str, platform_user_id: str) -> User | None:
        query = select(User).where(
            User.platform == platform, User.platform_user_id == platform_user_id
        )
        return session.scalars(query).first()

    def mark_ai_disclosed(self, user_id: int, at: datetime | None = None) -> None:
        with self._session() as session:
            values = {"ai_disclosed_at": at or utcnow()}
            session.execute(update(User).where(User.id == user_id).values(**values))
            session.commit()

    def set_locale(self, user_id: int, locale: str) -> None:
        with self._session() as session:
            session.execute(update(User).where(User.id == user_id).values(locale=locale))
            session.commit()

    def set_region(self, user_id: int, region: str | None) -> None:
        """Remember the region the user chose for their crisis lines (an ISO 3166-1 alpha-2
        code, stored upper-case); None forgets the choice. Whether the crisis resources have
        lines for it is the caller's check (``SafetyPolicy.known_region``)."""
        if region is not None:
            region = region.strip().upper()
            if not _REGION_CODE.fullmatch(region):
                raise ValueError(f"region must be a two-letter ISO 3166-1 code, got {region!r}")
        with self._session() as session:
            session.execute(update(User).where(User.id == user_id).values(region=region))
            session.commit()

    def set_consent(self, user_id: int, given: bool) -> None:
        with self._session() as session:
            value = utcnow() if given else None
            # The consent question itself says SoulChat is an AI.
            values = {"consent_at": value, **({"ai_disclosed_at": value} if given else {})}
            session.execute(update(User).where(User.id == user_id).values(**values))
            session.commit()

    # -- conversations -------------------------------------------------------------------
    def open_conversation(self, user_id: int) -> int:
        """The user's open conversation, started if there is none."""
        with self._session() as session:
            query = (
                select(Conversation.id)
                .where(Conversation.user_id == user_id, Conversation.closed_at.is_(None))
                .order_by(Conversation.id.desc())
            )
            found = session.scalars(query).first()
            if found is not None:
                return found
            conversation = Conversation(user_id=user_id)
            session.add(conversation)
            session.commit()
            return conversation.id

    def close_conversations(self, user_id: int) -> None:
        """End the open conversation (``/reset``); the next message starts a new one."""
        with self._session() as session:
            session.execute(
                update(Conversation)
                .where(Conversation.user_id == user_id, Conversation.closed_at.is_(None))
                .values(closed_at=utcnow())
            )
            session.commit()

    # -- messages ------------------------------------------------------------------------
    def add_user_message(
        self, conversation_id: int, text: str, platform_message_id: str | None = None
    ) -> int | None:
        """Store what the user sent; None when that platform message was stored already."""
        return self._add_message(conversation_id, "user", text, platform_message_id, None)

    def add_assistant_message(
        self, conversation_id: int, text: str, turn_key: str, reply_to_id: int | None = None
    ) -> bool:
        """Store a reply once per turn key; False when the turn already has one."""
        added = self._add_message(conversation_id, "assistant", text, None, turn_key, reply_to_id)
        return added is not None

    def _add_message(
        self,
        conversation_id: int,
        role: str,
        text: str,
        platform_message_id: str | None,
        idempotency_key: str | None,
        reply_to_id: int | None = None,
    ) -> int | None:
        # Core, not the ORM: this runs for every message and the ORM's unit of work
        # costs more than the two statements.
        now = utcnow()
        try:
            with self.engine.begin() as connection:
                message_id = connection.scalar(
                    insert(Message)
                    .values(
                        conversation_id=conversation_id,
                        role=role,
                        text=text,
                        created_at=now,
                        platform_message_id=platform_message_id,
                        idempotency_key=idempotency_key,
                        reply_to_id=reply_to_id,
                    )
                    .returning(Message.id)
                )
                if role == "user":  # activity is the user's; a reply follows within minutes
                    connection.execute(
                        update(Conversation)
                        .where(Conversation.id == conversation_id)
                        .values(last_activity_at=now)
                    )
        except IntegrityError:
            return None
        return message_id

    def recent_messages(self, conversation_id: int, limit: int) -> list[StoredMessage]:
        """The last ``limit`` messages of a conversation, in conversation order."""
        query = (
            select(Message.id, Message.role, Message.text, Message.reply_to_id)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        messages = [
            StoredMessage(id=row.id, role=row.role, text=row.text, reply_to_id=row.reply_to_id)
            for row in rows
        ]
        return sorted(messages, key=lambda message: message.position)

    # -- safety --------------------------------------------------------------------------
    def record_safety_event(
        self,
        user_id: int,
        conversation_id: int | None,
        kind: str,
        tier: int,
        categories: list[str],
    ) -> None:
        with self._session() as session:
            session.add(
                SafetyEvent(
                    user_id=user_id,
                    conversation_id=conversation_id,
                    kind=kind,
                    tier=tier,
                    categories=",".join(sorted(categories)),
                )
            )
            session.commit()

    def risk_history(self, user_id: int, recent: int = 50) -> list[RiskEvent]:
        """A user's risk events, oldest first: every high-tier (3-4) one and resolution, plus
        the ``recent`` latest others. Risk belongs to the person, not to one conversation, so a
        /reset does not clear a disclosed plan."""
        kinds = SafetyEvent.kind.in_(RISK_KINDS)
        with self._session() as session:
            lasting = select(SafetyEvent).where(
                SafetyEvent.user_id == user_id,
                kinds,
                (SafetyEvent.tier >= 3) | (SafetyEvent.kind == "risk_resolved"),
            )
            latest = (
                select(SafetyEvent)
                .where(SafetyEvent.user_id == user_id, kinds, SafetyEvent.tier < 3)
                .order_by(SafetyEvent.id.desc())
                .limit(recent)
            )
            rows = {row.id: row for row in session.scalars(lasting)}
            rows.update({row.id: row for row in session.scalars(latest)})
            return [
                RiskEvent(
                    kind=row.kind,
                    tier=row.tier,
                    categories=frozenset(c for c in row.categories.split(",") if c),
                    at=aware(row.created_at),
                )
                for _, row in sorted(rows.items())
            ]

    def highest_risk_tier(self, conversation_id: int) -> int:
        """The highest inbound risk tier recorded in a conversation (0 if none)."""
        with self._session() as session:
            query = select(func.max(SafetyEvent.tier)).where(
                SafetyEvent.conversation_id == conversation_id,
                SafetyEvent.kind == "inbound_risk",
            )
            return int(session.scalar(query) or 0)

    # -- deletion ------------------------------------------------------------------------
    def forget_user(self, platform: str, platform_user_id: str) -> ForgetReport:
        """Delete everything stored about one user, in one transaction."""
        with self._session() as session:
            user = self._find_user(session, platform, platform_user_id)
            if user is None:
                return ForgetReport(0, 0, 0, 0)
            conversation_ids = select(Conversation.id).where(Conversation.user_id == user.id)
            messages = session.execute(
                delete(Message).where(Message.conversation_id.in_(conversation_ids))
            )
            events = session.execute(delete(SafetyEvent).where(SafetyEvent.user_id == user.id))
            conversations = session.execute(
                delete(Conversation).where(Conversation.user_id == user.id)
            )
            session.execute(delete(User).where(User.id == user.id))
            session.commit()
            return ForgetReport(
                users=1,
                conversations=_rowcount(conversations),
                messages=_rowcount(messages),
                safety_events=_rowcount(events),
            )

    def purge_idle_conversations(self, older_than: timedelta) -> int:
        """Delete conversations idle for longer than ``older_than``; returns how many."""
        cutoff = utcnow() - older_than
        with self._session() as session:
            stale = select(Conversation.id).where(Conversation.last_activity_at < cutoff)
            session.execute(delete(Message).where(Message.conversation_id.in_(stale)))
            session.execute(delete(SafetyEvent).where(SafetyEvent.conversation_id.in_(stale)))
            result = session.execute(
                delete(Conversation).where(Conversation.last_activity_at < cutoff)
            )
            session.commit()
            return _rowcount(result)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _user_record(user: User) -> UserRecord:
    return UserRecord(
        id=user.id,
        platform=user.platform,
        platform_user_id=user.platform_user_id,
        locale=user.locale,
        consent_at=user.consent_at,
        ai_disclosed_at=None if user.ai_disclosed_at is None else aware(user.ai_disclosed_at),
        region=user.region,
    )
