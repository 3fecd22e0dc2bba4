"""Tables of the conversation store. Changing them needs an Alembic migration."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; everything here is stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("platform", "platform_user_id", name="uq_users_platform_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    locale: Mapped[str | None] = mapped_column(String(8))
    # The region the user chose for their crisis lines (/region): an ISO 3166-1 alpha-2 code.
    # None: chosen from their client's language tag or the deployment's default.
    region: Mapped[str | None] = mapped_column(String(8))
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the user was last told they are talking to an AI (see bots/conversation/service.py).
    ai_disclosed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_user_open", "user_id", "closed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint(
            "conversation_id", "platform_message_id", name="uq_messages_platform_message"
        ),
        Index("ix_messages_conversation_id", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # "user" or "assistant"
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    platform_message_id: Mapped[str | None] = mapped_column(String(128))
    # For a reply: the last user message it answers. Messages sent while it was generated
    # have lower ids than the reply but come after it in the conversation.
    reply_to_id: Mapped[int | None] = mapped_column(Integer)
    # The turn key of an assistant reply: a redelivered generation cannot store a second one.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class SafetyEvent(Base):
    """A safety decision, recorded without the message text."""

    __tablename__ = "safety_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))  # e.g. inbound_risk, output_replaced
    tier: Mapped[int] = mapped_column(Integer)
    categories: Mapped[str] = mapped_column(String(256))  # comma-separated
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditLogEntry(Base):
    """One safety-relevant event of a crisis conversation, append-only and hash-chained
    (``safety.audit``). No message text and nothing that identifies the user: it must stay
    verifiable after the user's data is deleted, so it has no foreign keys."""

    __tablename__ = "audit_log"
    __table_args__ = (
        UniqueConstraint("seq", name="uq_audit_log_seq"),
        UniqueConstraint("hash", name="uq_audit_log_hash"),
        Index("ix_audit_log_event_created_at", "event", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, 3... with no gaps
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # UTC
    event: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: survives deletions
    subject: Mapped[str] = mapped_column(String(64))  # pseudonymous, e.g. "conversation:123"
    tier: Mapped[int | None] = mapped_column(Integer)
    categories: Mapped[str] = mapped_column(String(256))  # comma-separated, sorted
    actor: Mapped[str] = mapped_column(String(64))  # "bot", "system" or "operator:…"
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON object of small fields
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class CrisisCase(Base):
    """A person a human operator should look at: opened when risk reaches the alert tier or
    the person asks for a human. One unresolved case per user at a time."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status_opened", "status", "opened_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(16))  # "risk" or "requested"
    tier: Mapped[int] = mapped_column(Integer)
    categories: Mapped[str] = mapped_column(String(256))  # comma-separated, sorted
    status: Mapped[str] = mapped_column(String(16))  # "open", "claimed", "resolved"
    operator: Mapped[str | None] = mapped_column(String(64))  # "telegram:1234"
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(32))
