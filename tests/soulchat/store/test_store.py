"""The store on SQLite (default) and on real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text, update

from soulchat.store import SchemaError, Store
from soulchat.store import migrate as migrations
from soulchat.store.models import Conversation, Message, SafetyEvent, User
from soulchat.store.store import create_store_engine


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


def _count(store: Store, model: type) -> int:
    with store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def test_new_database_gets_the_schema(store: Store) -> None:
    assert migrations.current_revision(store.engine) == migrations.head_revision()


def test_users_are_unique_per_platform(store: Store) -> None:
    first = store.get_or_create_user("telegram", "42", "zh")
    again = store.get_or_create_user("telegram", "42")
    other = store.get_or_create_user("discord", "42")
    assert first.id == again.id
    assert again.locale == "zh"
    assert other.id != first.id


def test_messages_keep_order_and_reject_duplicates(store: Store) -> None:
    user = store.get_or_create_user("console", "ana")
    conversation = store.open_conversation(user.id)
    assert store.open_conversation(user.id) == conversation
    assert store.add_user_message(conversation, "hello", platform_message_id="m1") is not None
    assert store.add_user_message(conversation, "hello again", platform_message_id="m1") is None
    assert store.add_assistant_message(conversation, "hi", "turn-1")
    assert not store.add_assistant_message(conversation, "hi twice", "turn-1")
    messages = store.recent_messages(conversation, 10)
    assert [(m.role, m.text) for m in messages] == [("user", "hello"), ("assistant", "hi")]
    assert [m.text for m in store.recent_messages(conversation, 1)] == ["hi"]


def test_long_and_unicode_text_is_stored_whole(store: Store) -> None:
    user = store.get_or_create_user("console", "ana")
    conversation = store.open_conversation(user.id)
    long_text = "我很难过。" * 20_000 + " 🙂"
    store.add_user_message(conversation, long_text)
    assert store.recent_messages(conversation, 1)[0].text == long_text


def test_reset_starts_a_new_conversation(store: Store) -> None:
    user = store.get_or_create_user("console", "ana")
    first = store.open_conversation(user.id)
    store.close_conversations(user.id)
    assert store.open_conversation(user.id) != first


def test_forget_deletes_everything_of_one_user_only(store: Store) -> None:
    for name in ("ana", "bo"):
        user = store.get_or_create_user("telegram", name)
        conversation = store.open_conversation(user.id)
        store.add_user_message(conversation, f"{name} says hi")
        store.add_assistant_message(conversation, "hello", f"turn-{name}")
        store.record_safety_event(user.id, conversation, "inbound_risk", 3, ["suicide"])
        store.close_conversations(user.id)
        store.open_conversation(user.id)
    report = store.forget_user("telegram", "ana")
    assert (report.users, report.conversations, report.messages, report.safety_events) == (
        1,
        2,
        2,
        1,
    )
    assert store.find_user("telegram", "ana") is None
    assert _count(store, User) == 1
    assert _count(store, Conversation) == 2
    assert _count(store, Message) == 2
    assert _count(store, SafetyEvent) == 1
    with store.engine.connect() as connection:
        texts = connection.scalars(select(Message.text)).all()
    assert all("ana" not in t for t in texts)
    assert store.forget_user("telegram", "ana").users == 0


def test_retention_purges_idle_conversations(store: Store) -> None:
    user = store.get_or_create_user("console", "ana")
    old = store.open_conversation(user.id)
    store.add_user_message(old, "old news")
    store.close_conversations(user.id)
    recent = store.open_conversation(user.id)
    store.add_user_message(recent, "today")
    with store.engine.begin() as connection:
        connection.execute(
            update(Conversation)
            .where(Conversation.id == old)
            .values(last_activity_at=datetime.now(UTC) - timedelta(days=100))
        )
    assert store.purge_idle_conversations(timedelta(days=90)) == 1
    assert store.recent_messages(old, 10) == []
    assert [m.text for m in store.recent_messages(recent, 10)] == ["today"]


def test_database_behind_is_a_clear_error(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    Store.open(store_url).close()
    monkeypatch.setattr(migrations, "head_revision", lambda: "9999")  # a revision to come
    with pytest.raises(SchemaError, match=r"needs 9999.*soulchat db upgrade"):
        Store.open(store_url)


def test_foreign_database_is_not_touched(store_url: str) -> None:
    engine = create_store_engine(store_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE somebody_elses (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(SchemaError, match="no SoulChat schema"):
        Store.open(store_url)


def test_auto_migrate_off_refuses_an_empty_database(store_url: str) -> None:
    with pytest.raises(SchemaError, match="soulchat db upgrade"):
        Store.open(store_url, auto_migrate=False)


def test_highest_risk_tier_of_a_conversation(store: Store) -> None:
    user = store.get_or_create_user("console", "ana")
    conversation = store.open_conversation(user.id)
    assert store.highest_risk_tier(conversation) == 0
    store.record_safety_event(user.id, conversation, "inbound_risk", 2, ["suicide"])
    store.record_safety_event(user.id, conversation, "inbound_risk", 4, ["suicide"])
    store.record_safety_event(user.id, conversation, "output_replaced", 1, ["diagnosis"])
    assert store.highest_risk_tier(conversation) == 4


def test_a_chosen_region_persists(store_url: str) -> None:
    store = Store.open(store_url)
    user = store.get_or_create_user("telegram", "42", "en")
    assert user.region is None  # nobody has chosen until they do
    store.set_region(user.id, "au")
    assert store.get_or_create_user("telegram", "42").region == "AU"
    store.close()
    reopened = Store.open(store_url)  # survives a restart
    found = reopened.find_user("telegram", "42")
    assert found is not None and found.region == "AU" and found.locale == "en"
    reopened.set_region(user.id, None)  # back to the client's tag or the default
    assert reopened.get_or_create_user("telegram", "42").region is None
    reopened.close()


def test_set_region_touches_one_user_only(store: Store) -> None:
    ana = store.get_or_create_user("telegram", "ana")
    bo = store.get_or_create_user("telegram", "bo")
    store.set_region(ana.id, "TW")
    assert store.get_or_create_user("telegram", "ana").region == "TW"
    assert store.get_or_create_user("telegram", "bo").region is None
    assert bo.region is None


@pytest.mark.parametrize("bad", ["Australia", "AUS", "A", "", "1A", "A-U"])
def test_set_region_refuses_what_is_not_a_region_code(store: Store, bad: str) -> None:
    user = store.get_or_create_user("telegram", "ana")
    with pytest.raises(ValueError, match="two-letter ISO 3166-1 code"):
        store.set_region(user.id, bad)
    assert store.get_or_create_user("telegram", "ana").region is None


def test_forget_deletes_the_chosen_region(store: Store) -> None:
    user = store.get_or_create_user("telegram", "ana")
    store.set_region(user.id, "HK")
    assert store.forget_user("telegram", "ana").users == 1
    assert store.find_user("telegram", "ana") is None
    assert store.get_or_create_user("telegram", "ana").region is None  # a new user, unset
    with store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).where(User.region.is_not(None))) == 0


def test_migration_0005_adds_an_empty_region_to_existing_users(store_url: str) -> None:
    engine = create_store_engine(store_url)
    migrations.upgrade(engine, "0004")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (platform, platform_user_id, locale, created_at) "
                "VALUES ('telegram', '7', 'zh', CURRENT_TIMESTAMP)"
            )
        )
    with pytest.raises(SchemaError, match="needs 0005"):
        Store.open(store_url)  # an existing database is never migrated silently
    migrations.upgrade(engine)
    assert migrations.current_revision(engine) == "0005"
    engine.dispose()
    store = Store.open(store_url)
    user = store.find_user("telegram", "7")
    assert user is not None and user.locale == "zh" and user.region is None
    store.set_region(user.id, "TW")
    assert store.get_or_create_user("telegram", "7").region == "TW"
    store.close()


def test_migration_0005_downgrades(store_url: str) -> None:
    from alembic import command

    engine = create_store_engine(store_url)
    migrations.upgrade(engine)
    config = migrations._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    columns = {column["name"] for column in inspect(engine).get_columns("users")}
    assert "region" not in columns and "locale" in columns
    engine.dispose()


def test_the_migrated_schema_matches_the_models(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from soulchat.store.models import Base

    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
