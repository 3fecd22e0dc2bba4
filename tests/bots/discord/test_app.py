"""The Discord bot driven through discord.py's real code by simcord (an in-memory Discord:
REST routes and gateway events, no network, no token), over the real service, queue worker
and store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest
import simcord

from bots.conversation import ConversationService
from bots.discord.app import SoulChatDiscord
from bots.discord.channel import DiscordChannel
from bots.reply_writer import ReplyWriter
from bots.runtime import open_runtime
from bots.texts import text as say
from safety.audit import AuditLog
from soulchat.config import Settings
from tests.bots.conversation.test_service import SAFE_REPLY, ScriptedBackend
from tests.bots.conversation.test_service import service_settings as service_settings  # the fixture
from tests.waiting import HANG_S


@dataclass
class World:
    env: simcord.Env
    bot: SoulChatDiscord
    service: ConversationService


@asynccontextmanager
async def discord_world(
    settings: Settings, backend: ScriptedBackend | None = None
) -> AsyncIterator[World]:
    backend = backend or ScriptedBackend()
    async with open_runtime(settings, embedded_worker=True, backend=backend) as runtime:
        bot = SoulChatDiscord(runtime)
        async with simcord.run(bot, settle_timeout=20) as env:
            yield World(env, bot, runtime.service)


async def until(env: simcord.Env, condition: Callable[[], bool], timeout: float = HANG_S) -> None:
    """The reply comes from the queue worker's thread, after simcord's settling: wait for it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, env.transcript()[-3000:]
        await asyncio.sleep(0.05)
        await env.settle()


async def wait_until(condition: Callable[[], bool]) -> None:
    """Like ``until``, without settling simcord's clock."""
    await asyncio.wait_for(_poll(condition), HANG_S)


async def _poll(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.02)


def texts(channel: simcord.ChannelHandle) -> list[str]:
    return [m.content for m in channel.history() if not m.is_system()]


def answers(result: simcord.InteractionResult) -> list[simcord.ResponseMessage]:
    """What a deferred slash command showed: the deferred response, then its follow-ups."""
    return ([result.response] if result.response else []) + list(result.followups)


def deferred_at_once(env: simcord.Env) -> bool:
    """The last interaction was first answered "thinking…" (type 5), before any work."""
    callbacks = [r for r in env.http_requests if r.path.endswith("/callback")]
    return bool(callbacks) and (callbacks[-1].json or {}).get("type") == 5


async def test_a_dm_asks_consent_first_then_answers_and_stores_the_conversation(
    service_settings: Settings,
) -> None:
    """Also on Redis and PostgreSQL (the ``redis`` parameter)."""
    async with discord_world(service_settings) as world:
        alice = world.env.create_user("alice")
        await alice.send_dm("hi, I have had a rough week")
        dm = alice.dm_channel
        welcome = dm.last_message
        assert welcome is not None and "SoulChat" in welcome.content
        assert not any(SAFE_REPLY in text for text in texts(dm))  # nothing before consent
        await alice.click(welcome, custom_id="sc:consent:yes")
        await until(world.env, lambda: any(SAFE_REPLY in text for text in texts(dm)))
        user = await world.service.commands.user("discord", str(alice.id))
        assert user.consent_at is not None
        stored = world.service.store.recent_messages(
            world.service.store.open_conversation(user.id), 10
        )
        assert [m.role for m in stored] == ["user", "assistant"]
        assert stored[0].text == "hi, I have had a rough week"


async def consented(world: World, user: simcord.UserHandle) -> None:
    await user.send_dm("hello")
    await user.click(user.dm_channel.last_message, custom_id="sc:consent:yes")
    await until(world.env, lambda: SAFE_REPLY in texts(user.dm_channel)[-1])


async def test_a_mention_in_a_server_is_answered_in_a_thread_opened_for_it(
    make_settings: Callable[..., Settings],
) -> None:
    async with discord_world(make_settings()) as world:
        guild = world.env.create_guild()
        general = guild.create_text_channel("general")
        bob_user = world.env.create_user("bob")
        await consented(world, bob_user)
        bob = guild.add_member(bob_user)
        await bob.send(general, "just chatting about the weather")  # not for the bot
        assert general.threads == [] and len(texts(general)) == 1
        assert world.bot.user is not None
        await bob.send(general, f"{world.bot.user.mention} can we talk?")
        assert len(general.threads) == 1
        thread = general.threads[0]
        await until(world.env, lambda: any(SAFE_REPLY in text for text in texts(thread)))
        assert any("private chat" in text for text in texts(thread))  # DMs, once per server
        assert len(texts(general)) == 2  # the channel itself is not flooded: both are bob's


async def test_forget_asks_first_then_leaves_nothing(
    make_settings: Callable[..., Settings],
) -> None:
    async with discord_world(make_settings()) as world:
        alice = world.env.create_user("alice")
        await consented(world, alice)
        result = await alice.slash("forget")
        assert deferred_at_once(world.env) and result.ephemeral
        confirm = answers(result)[-1]
        await alice.click(confirm.message, custom_id="sc:forget:yes")
        user = await world.service.commands.user("discord", str(alice.id))
        assert user.consent_at is None
        assert (
            world.service.store.recent_messages(world.service.store.open_conversation(user.id), 10)
            == []
        )


async def test_slash_commands_answer_only_the_person_who_asked(
    make_settings: Callable[..., Settings],
) -> None:
    async with discord_world(make_settings()) as world:
        guild = world.env.create_guild()
        general = guild.create_text_channel("general")
        bob = guild.add_member(world.env.create_user("bob"))
        result = await bob.slash(general, "resources")
        assert deferred_at_once(world.env) and result.ephemeral
        assert "988" in answers(result)[-1].content
        result = await bob.slash(general, "lang", language="zh")
        assert answers(result)[-1].content == say("zh", "language_set")
        assert texts(general) == []


async def test_a_picture_without_words_gets_a_kind_reply(
    make_settings: Callable[..., Settings],
) -> None:
    async with discord_world(make_settings()) as world:
        alice = world.env.create_user("alice")
        await consented(world, alice)
        dm = alice.dm_channel
        picture = world.env.backend.store_attachments(dm.id, [("cat.png", b"\x89PNG fake")])
        await alice.send_dm("", attachments=picture)
        assert "text" in texts(alice.dm_channel)[-1]


async def test_a_crisis_message_gets_the_crisis_lines_at_once(
    make_settings: Callable[..., Settings],
) -> None:
    async with discord_world(make_settings()) as world:
        alice = world.env.create_user("alice")
        await consented(world, alice)
        await alice.send_dm("I took 40 of my pills an hour ago")
        await until(world.env, lambda: any("988" in text for text in texts(alice.dm_channel)))


async def test_a_long_reply_arrives_whole_in_parts_under_discords_limit(
    make_settings: Callable[..., Settings],
) -> None:
    long_reply = " ".join(f"Sentence number {n} is here to fill the reply." for n in range(120))
    async with discord_world(make_settings(), ScriptedBackend(reply=long_reply)) as world:
        alice = world.env.create_user("alice")
        await alice.send_dm("hello")
        await alice.click(alice.dm_channel.last_message, custom_id="sc:consent:yes")
        await until(world.env, lambda: "number 119" in texts(alice.dm_channel)[-1])
        parts = [t for t in texts(alice.dm_channel) if t.startswith("Sentence")]
        assert all(len(part) <= 2000 for part in parts) and len(parts) >= 3
        assert " ".join(parts).replace("  ", " ").count("Sentence number") == 120


async def test_people_not_on_the_invite_list_are_refused_kindly(
    make_settings: Callable[..., Settings],
) -> None:
    async with discord_world(make_settings(discord={"allowed_user_ids": [1]})) as world:
        alice = world.env.create_user("alice")
        await alice.send_dm("hello")
        assert "invited" in texts(alice.dm_channel)[-1]
        assert (await world.service.commands.user("discord", str(alice.id))).consent_at is None


def test_the_message_content_intent_is_asked_for_only_when_configured() -> None:
    from bots.discord.app import intents_for
    from soulchat.config import DiscordSettings

    assert not intents_for(DiscordSettings()).message_content
    assert intents_for(DiscordSettings(message_content=True)).message_content
    assert isinstance(intents_for(DiscordSettings()), discord.Intents)


def test_the_token_comes_from_settings_or_a_secret_file(tmp_path: Path) -> None:
    from bots.discord.runner import read_token
    from soulchat.config import ConfigError, DiscordSettings

    token = "MTIzNDU2Nzg5.GhIjKl.secret-part-xyz"
    assert read_token(DiscordSettings(token=token)) == token  # type: ignore[arg-type]
    secret = tmp_path / "token"
    secret.write_text(token + "\n")
    assert read_token(DiscordSettings(token_file=str(secret))) == token
    with pytest.raises(ConfigError, match="SOULCHAT_DISCORD__TOKEN"):
        read_token(DiscordSettings())
    with pytest.raises(ConfigError) as bad:
        read_token(DiscordSettings(token="not-a-token-secretpart"))  # type: ignore[arg-type]
    assert "secretpart" not in str(bad.value)
    with pytest.raises(ConfigError, match="token_file"):
        read_token(DiscordSettings(token_file=str(tmp_path / "missing")))


def custom_ids(message: discord.Message) -> list[str]:
    return [
        child.custom_id
        for row in message.components
        for child in getattr(row, "children", [])
        if isinstance(getattr(child, "custom_id", None), str)
    ]


async def test_crisis_to_an_operator_on_discord_and_back(
    make_settings: Callable[..., Settings],
) -> None:
    async with discord_world(make_settings()) as world:
        env = world.env
        guild = env.create_guild()
        desk_channel = guild.create_text_channel("operators")
        op_user, stranger_user = env.create_user("op"), env.create_user("stranger")
        op, stranger = guild.add_member(op_user), guild.add_member(stranger_user)
        team = world.service.settings.discord
        team.operator_ids = [op_user.id]
        team.operators_chat_id = desk_channel.id
        world.bot.settings.operators_chat_id = desk_channel.id
        await world.bot.attach_operators()
        alice = env.create_user("alice")
        await consented(world, alice)

        started = asyncio.get_running_loop().time()
        await alice.send_dm("I've taken 40 of my sleeping pills, goodbye")
        await until(env, lambda: any("Case #" in t for t in texts(desk_channel)))
        await until(env, lambda: any("988" in t for t in texts(alice.dm_channel)))
        assert asyncio.get_running_loop().time() - started < 10
        alert = next(m for m in desk_channel.history() if "Case #" in m.content)
        assert "tier 4" in alert.content and str(alice.id) not in alert.content
        claim = next(c for c in custom_ids(alert) if c.startswith("sc:case:claim:"))

        refused = await stranger.click(alert, custom_id=claim)
        assert refused.followups[-1].ephemeral  # seen by the stranger alone
        assert "Only listed operators" in refused.followups[-1].content
        await op.click(alert, custom_id=claim)
        await until(
            env, lambda: any("human volunteer has joined" in t for t in texts(alice.dm_channel))
        )

        # Latched: the person's words go to the operator, and the bot says nothing.
        replies_before = texts(alice.dm_channel).count(SAFE_REPLY)
        await alice.send_dm("I'm scared, my heart is racing")
        await until(env, lambda: any("heart is racing" in t for t in texts(op_user.dm_channel)))
        await op_user.send_dm("I'm here with you. Are you somewhere safe?")
        await until(
            env,
            lambda: any(
                t.startswith("👤 Human volunteer: I'm here") for t in texts(alice.dm_channel)
            ),
        )
        assert texts(alice.dm_channel).count(SAFE_REPLY) == replies_before

        number = int(claim.rsplit(":", 1)[1])
        done = await op.slash(
            desk_channel, "case", action="resolve", number=number, outcome="referred"
        )
        assert done.ephemeral and "resolved" in answers(done)[-1].content
        await until(
            env, lambda: any("handed the conversation back" in t for t in texts(alice.dm_channel))
        )
        log = AuditLog(world.service.store.engine)
        assert {"case_opened", "alert_sent", "claimed", "resolved"} <= {
            e.event for e in log.entries()
        }
        assert log.verify().ok


async def test_a_streamed_reply_grows_in_one_message_with_typing_before_it(
    make_settings: Callable[..., Settings],
) -> None:
    """The reply writer over a real discord.py channel: typing, a preview, edits, the final
    text in the same message (simcord runs the bot's timers on its own clock, so the writer is
    driven here directly; its pacing is tested in test_reply_writer.py)."""
    async with discord_world(make_settings()) as world:
        alice = world.env.create_user("alice")
        await alice.send_dm("hello")
        channel = await world.bot.fetch_channel(alice.dm_channel.id)
        assert isinstance(channel, discord.DMChannel)
        writer = ReplyWriter(DiscordChannel(channel), limit=2000, min_interval_s=0.0)
        await writer.typing()
        await writer.reply_progress("I hear")
        await writer.reply_progress("I hear you. That")
        await writer.reply_final(SAFE_REPLY, replaced=False)
        await world.env.settle()
        calls = [(r.method, r.path) for r in world.env.http_requests]
        assert calls.count(("POST", f"/channels/{channel.id}/typing")) == 1
        edited = {path for method, path in calls if method == "PATCH"}
        assert len(edited) == 1  # one message, grown in place
        assert texts(alice.dm_channel)[-1] == SAFE_REPLY
        assert not any(
            text.startswith("I hear") and text != SAFE_REPLY for text in texts(alice.dm_channel)
        )


async def test_buttons_still_work_after_the_bot_restarts(
    make_settings: Callable[..., Settings],
) -> None:
    async with discord_world(make_settings()) as world:
        alice = world.env.create_user("alice")
        await alice.send_dm("hello")
        welcome = alice.dm_channel.last_message
        await world.env.restart_bot()
        await alice.click(welcome, custom_id="sc:consent:yes")
        user = await world.service.commands.user("discord", str(alice.id))
        assert user.consent_at is not None


async def test_a_failure_is_answered_with_an_apology_and_the_crisis_lines(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with discord_world(make_settings()) as world:
        alice = world.env.create_user("alice")

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("the store went away")

        monkeypatch.setattr(world.bot.desk, "text", broken)
        await alice.send_dm("hello?")
        last = texts(alice.dm_channel)[-1]
        assert last.startswith(say("en", "failed_here")) and "988" in last
        assert "hello?" not in last


async def test_a_mention_with_no_words_and_a_flood_get_kind_notices(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(discord={"flood_messages": 2, "flood_window_s": 60})
    async with discord_world(settings) as world:
        guild = world.env.create_guild()
        general = guild.create_text_channel("general")
        bob_user = world.env.create_user("bob")
        await consented(world, bob_user)
        bob = guild.add_member(bob_user)
        assert world.bot.user is not None
        await bob.send(general, world.bot.user.mention)
        thread = general.threads[0]
        await until(world.env, lambda: say("en", "empty") in texts(thread))
        for n in range(3):
            await bob_user.send_dm(f"message {n}")
        await until(world.env, lambda: say("en", "flood") in texts(bob_user.dm_channel))


async def test_the_final_text_arrives_through_server_errors(
    make_settings: Callable[..., Settings],
) -> None:
    async with discord_world(make_settings()) as world:
        alice = world.env.create_user("alice")
        await consented(world, alice)
        world.env.inject_error("POST", "/channels/*/messages", status=503, times=2)
        world.env.inject_error("POST", "/channels/*/messages", status=429, times=1)
        await alice.send_dm("are you there?")
        await until(world.env, lambda: texts(alice.dm_channel).count(SAFE_REPLY) == 2)
        await asyncio.sleep(0.5)
        assert texts(alice.dm_channel).count(SAFE_REPLY) == 2  # delivered once, not twice


async def test_in_its_thread_the_bot_says_once_that_it_needs_a_mention(
    make_settings: Callable[..., Settings],
) -> None:
    """Without the privileged intent Discord sends no text for a message that does not
    mention the bot; the person is told, once, instead of being ignored."""
    async with discord_world(make_settings()) as world:
        guild = world.env.create_guild()
        general = guild.create_text_channel("general")
        bob_user = world.env.create_user("bob")
        await consented(world, bob_user)
        bob = guild.add_member(bob_user)
        assert world.bot.user is not None
        await bob.send(general, f"{world.bot.user.mention} hi")
        thread = general.threads[0]
        await until(world.env, lambda: SAFE_REPLY in texts(thread))
        await bob.send(thread, "and another thing")  # no mention: no text for the bot
        await bob.send(thread, "hello??")
        hint = say("en", "mention_needed")
        assert texts(thread).count(hint) == 1


async def test_quick_messages_during_a_reply_are_answered_as_one_turn(
    make_settings: Callable[..., Settings],
) -> None:
    backend = ScriptedBackend()
    async with discord_world(make_settings(), backend) as world:
        env, alice = world.env, world.env.create_user("alice")
        await consented(world, alice)
        user = await world.service.commands.user("discord", str(alice.id))
        conversation = world.service.store.open_conversation(user.id)

        def stored() -> int:
            messages = world.service.store.recent_messages(conversation, 20)
            return sum(m.role == "user" for m in messages)

        # simcord's send_dm waits for the bot to finish; people do not. The first message's
        # reply is held in the model while two more arrive. (No settling meanwhile: the bot
        # cannot settle while its reply is held.)
        backend.hold()
        try:
            env.backend.create_message(alice.dm_channel.id, alice.id, "I failed my exam")
            await wait_until(lambda: len(backend.prompts) == 2)
            for words in ("and my dad will be furious", "I don't know what to do"):
                env.backend.create_message(alice.dm_channel.id, alice.id, words)
            await wait_until(lambda: stored() == 4)
        finally:
            backend.release()
        await until(env, lambda: texts(alice.dm_channel).count(SAFE_REPLY) >= 3)
        await asyncio.wait_for(world.service.wait_idle("discord", str(alice.id)), HANG_S)
        await env.settle()
        assert texts(alice.dm_channel).count(SAFE_REPLY) == 3  # not four: two joined
        last_turn = backend.prompts[-1].messages[-1]["content"]
        assert last_turn == "and my dad will be furious\nI don't know what to do"
