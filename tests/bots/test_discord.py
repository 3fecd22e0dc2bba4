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

from bots.discord.app import SoulChatDiscord
from bots.runtime import open_service
from bots.service import ConversationService
from bots.texts import text as say
from soulchat.config import Settings
from tests.bots.test_service import SAFE_REPLY, ScriptedBackend


@dataclass
class World:
    env: simcord.Env
    bot: SoulChatDiscord
    service: ConversationService


@asynccontextmanager
async def discord_world(settings: Settings) -> AsyncIterator[World]:
    async with open_service(settings, embedded_worker=True, backend=ScriptedBackend()) as service:
        bot = SoulChatDiscord(settings.discord, service)
        async with simcord.run(bot, settle_timeout=20) as env:
            yield World(env, bot, service)


async def until(env: simcord.Env, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """The reply comes from the queue worker's thread, after simcord's settling: wait for it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, env.transcript()[-3000:]
        await asyncio.sleep(0.05)
        await env.settle()


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
    make_settings: Callable[..., Settings],
) -> None:
    async with discord_world(make_settings()) as world:
        alice = world.env.create_user("alice")
        await alice.send_dm("hi, I have had a rough week")
        dm = alice.dm_channel
        welcome = dm.last_message
        assert welcome is not None and "SoulChat" in welcome.content
        assert not any(SAFE_REPLY in text for text in texts(dm))  # nothing before consent
        await alice.click(welcome, custom_id="sc:consent:yes")
        await until(world.env, lambda: any(SAFE_REPLY in text for text in texts(dm)))
        user = await world.service.user("discord", str(alice.id))
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
        user = await world.service.user("discord", str(alice.id))
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
    settings = make_settings()
    async with open_service(
        settings, embedded_worker=True, backend=ScriptedBackend(reply=long_reply)
    ) as service:
        bot = SoulChatDiscord(settings.discord, service)
        async with simcord.run(bot, settle_timeout=20) as env:
            alice = env.create_user("alice")
            await alice.send_dm("hello")
            await alice.click(alice.dm_channel.last_message, custom_id="sc:consent:yes")
            await until(env, lambda: "number 119" in texts(alice.dm_channel)[-1])
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
        assert (await world.service.user("discord", str(alice.id))).consent_at is None


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
