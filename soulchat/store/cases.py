"""Crisis cases in the store: open, raise, claim, release, resolve, find overdue ones.

State changes are conditional updates (``WHERE status = ...``), so two operators pressing
Claim at once, or two bot processes paging the same case, cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from soulchat.store.models import CrisisCase, User, aware, utcnow

UNRESOLVED = ("open", "claimed")
OUTCOMES: tuple[str, ...] = (
    "safe_plan",  # the person is safe for now and has a plan / someone with them
    "referred",  # passed to a crisis line or a service
    "emergency",  # emergency services were contacted
    "no_response",  # the person stopped answering
    "false_alarm",  # no risk on a human's reading
    "other",
)


@dataclass(frozen=True)
class CaseRecord:
    id: int
    user_id: int
    platform_user_id: str  # for relaying only; never in an alert, a log line or the audit
    conversation_id: int | None
    platform: str
    locale: str
    reason: str
    tier: int
    categories: tuple[str, ...]
    status: str
    operator: str | None
    opened_at: datetime
    acknowledged_at: datetime | None
    paged_at: datetime | None
    outcome: str | None


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else aware(moment)


class CaseStore:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def _record(self, session: Session, case: CrisisCase) -> CaseRecord:
        user = session.get(User, case.user_id)
        opened = _aware(case.opened_at)
        assert opened is not None
        return CaseRecord(
            id=case.id,
            user_id=case.user_id,
            platform_user_id=user.platform_user_id if user else "",
            conversation_id=case.conversation_id,
            platform=case.platform,
            locale=case.locale,
            reason=case.reason,
            tier=case.tier,
            categories=tuple(c for c in case.categories.split(",") if c),
            status=case.status,
            operator=case.operator,
            opened_at=opened,
            acknowledged_at=_aware(case.acknowledged_at),
            paged_at=_aware(case.paged_at),
            outcome=case.outcome,
        )

    def _unresolved(self, session: Session, user_id: int) -> CrisisCase | None:
        query = (
            select(CrisisCase)
            .where(CrisisCase.user_id == user_id, CrisisCase.status.in_(UNRESOLVED))
            .order_by(CrisisCase.id.desc())
        )
        return session.scalars(query).first()

    def open_or_raise(
        self,
        *,
        user_id: int,
        conversation_id: int | None,
        platform: str,
        locale: str,
        tier: int,
        categories: list[str],
        reason: str = "risk",
    ) -> tuple[CaseRecord, bool]:
        """The user's unresolved case, opened if there is none, its tier and categories raised
        to these if higher. Returns the case and whether it is new or its tier rose (either
        way, operators should hear about it)."""
        with self._sessions() as session:
            case = self._unresolved(session, user_id)
            if case is None:
                case = CrisisCase(
                    user_id=user_id,
                    conversation_id=conversation_id,
                    platform=platform,
                    locale=locale,
                    reason=reason,
                    tier=tier,
                    categories=",".join(sorted(categories)),
                    status="open",
                )
                session.add(case)
                session.commit()
                return self._record(session, case), True
            merged = sorted(set(case.categories.split(",")) - {""} | set(categories))
            news = tier > case.tier
            case.tier = max(case.tier, tier)
            case.categories = ",".join(merged)
            session.commit()
            return self._record(session, case), news

    def get(self, case_id: int) -> CaseRecord | None:
        with self._sessions() as session:
            case = session.get(CrisisCase, case_id)
            return None if case is None else self._record(session, case)

    def active_for_user(self, user_id: int) -> CaseRecord | None:
        with self._sessions() as session:
            case = self._unresolved(session, user_id)
            return None if case is None else self._record(session, case)

    def unresolved(self) -> list[CaseRecord]:
        with self._sessions() as session:
            query = (
                select(CrisisCase)
                .where(CrisisCase.status.in_(UNRESOLVED))
                .order_by(CrisisCase.tier.desc(), CrisisCase.opened_at)
            )
            return [self._record(session, case) for case in session.scalars(query)]

    def claimed_by(self, operator: str) -> list[CaseRecord]:
        """The operator's claimed cases, the most recently claimed first."""
        with self._sessions() as session:
            query = (
                select(CrisisCase)
                .where(CrisisCase.status == "claimed", CrisisCase.operator == operator)
                .order_by(CrisisCase.claimed_at.desc())
            )
            return [self._record(session, case) for case in session.scalars(query)]

    def _transition(
        self, case_id: int, where: tuple[Any, ...], values: Mapping[str, Any]
    ) -> CaseRecord | None:
        with self._sessions() as session:
            result = session.execute(
                update(CrisisCase).where(CrisisCase.id == case_id, *where).values(**values)
            )
            session.commit()
            if not getattr(result, "rowcount", 0):
                return None
            case = session.get(CrisisCase, case_id)
            assert case is not None
            session.refresh(case)
            return self._record(session, case)

    def claim(self, case_id: int, operator: str) -> CaseRecord | None:
        """Claim an open case (or re-claim one's own); None if someone else holds it or it
        is resolved."""
        now = utcnow()
        current = self.get(case_id)
        if current is None or current.status == "resolved":
            return None
        if current.status == "claimed":
            return current if current.operator == operator else None
        return self._transition(
            case_id,
            (CrisisCase.status == "open",),
            {
                "status": "claimed",
                "operator": operator,
                "claimed_at": now,
                "acknowledged_at": current.acknowledged_at or now,
            },
        )

    def release(self, case_id: int, operator: str) -> CaseRecord | None:
        return self._transition(
            case_id,
            (CrisisCase.status == "claimed", CrisisCase.operator == operator),
            {"status": "open", "operator": None},
        )

    def resolve(self, case_id: int, operator: str, outcome: str) -> CaseRecord | None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
        now = utcnow()
        current = self.get(case_id)
        if current is None or current.status == "resolved":
            return None
        if current.status == "claimed" and current.operator != operator:
            return None
        return self._transition(
            case_id,
            (CrisisCase.status.in_(UNRESOLVED),),
            {
                "status": "resolved",
                "operator": operator,
                "resolved_at": now,
                "outcome": outcome,
                "acknowledged_at": current.acknowledged_at or now,
            },
        )

    def overdue(self, now: datetime, targets: Mapping[int, timedelta]) -> list[CaseRecord]:
        """Open cases nobody acknowledged within their tier's response target, not yet
        paged."""
        found = []
        for case in self.unresolved():
            target = targets.get(case.tier)
            if case.status != "open" or case.acknowledged_at or case.paged_at or target is None:
                continue
            if now - case.opened_at >= target:
                found.append(case)
        return found

    def mark_paged(self, case_id: int) -> bool:
        """True for exactly one caller per case."""
        updated = self._transition(
            case_id, (CrisisCase.paged_at.is_(None),), {"paged_at": utcnow()}
        )
        return updated is not None
