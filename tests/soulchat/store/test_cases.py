"""Crisis cases in the store: one unresolved case per person, conditional transitions, and
nothing left of them when the person deletes their data (the audit chain stays valid)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safety.audit import AuditLog
from soulchat.store import Store
from soulchat.store.cases import CaseRecord, CaseStore
from soulchat.store.models import utcnow
from tests.soulchat.store.test_store import store, store_url  # noqa: F401  (fixtures)


def _open(
    cases: CaseStore, user_id: int, tier: int, categories: list[str]
) -> tuple[CaseRecord, bool]:
    return cases.open_or_raise(
        user_id=user_id,
        conversation_id=None,
        platform="telegram",
        locale="en",
        tier=tier,
        categories=categories,
    )


def test_one_unresolved_case_per_person_raised_not_duplicated(store: Store) -> None:  # noqa: F811
    cases = CaseStore(store.engine)
    user = store.get_or_create_user("telegram", "1")
    first, new = _open(cases, user.id, 2, ["self_harm"])
    again, news = _open(cases, user.id, 2, ["suicide"])
    assert new and not news and again.id == first.id
    raised, rose = _open(cases, user.id, 4, ["suicide"])
    assert rose and raised.tier == 4 and raised.categories == ("self_harm", "suicide")


def test_transitions_are_conditional(store: Store) -> None:  # noqa: F811
    cases = CaseStore(store.engine)
    user = store.get_or_create_user("telegram", "1")
    case, _ = _open(cases, user.id, 4, ["suicide"])
    assert cases.claim(case.id, "operator:telegram:9") is not None
    assert cases.claim(case.id, "operator:telegram:8") is None
    assert cases.release(case.id, "operator:telegram:8") is None
    assert cases.resolve(case.id, "operator:telegram:8", "referred") is None
    with pytest.raises(ValueError, match="unknown outcome"):
        cases.resolve(case.id, "operator:telegram:9", "fine")
    done = cases.resolve(case.id, "operator:telegram:9", "referred")
    assert done is not None and done.status == "resolved" and done.acknowledged_at
    assert cases.claim(case.id, "operator:telegram:9") is None
    assert cases.active_for_user(user.id) is None


def test_overdue_cases_are_paged_once(store: Store) -> None:  # noqa: F811
    cases = CaseStore(store.engine)
    user = store.get_or_create_user("telegram", "1")
    case, _ = _open(cases, user.id, 4, ["suicide"])
    targets = {4: timedelta(minutes=2), 3: timedelta(minutes=5)}
    assert cases.overdue(utcnow(), targets) == []
    later = utcnow() + timedelta(minutes=3)
    assert [c.id for c in cases.overdue(later, targets)] == [case.id]
    assert cases.mark_paged(case.id) and not cases.mark_paged(case.id)
    assert cases.overdue(later, targets) == []


def test_forgetting_a_person_removes_their_cases_and_keeps_the_audit_valid(
    store: Store,  # noqa: F811
) -> None:
    cases = CaseStore(store.engine)
    audit = AuditLog(store.engine)
    user = store.get_or_create_user("telegram", "1")
    case, _ = _open(cases, user.id, 3, ["suicide"])
    audit.append("case_opened", subject=f"case:{case.id}", case_id=case.id, tier=3)
    store.forget_user("telegram", "1")
    assert cases.get(case.id) is None
    assert audit.verify().ok and audit.verify().entries == 1
