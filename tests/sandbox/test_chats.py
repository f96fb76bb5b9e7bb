"""getChat, getChatMember, getChatAdministrators, member count, commands."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats

from tests.sandbox.conftest import World


async def test_get_chat_for_private_and_forum(world: World) -> None:
    private = await world.bot.get_chat(world.alice["id"])
    assert private.type == "private" and private.first_name == "Alice"
    forum = await world.bot.get_chat(world.staff["id"])
    assert forum.type == "supergroup" and forum.is_forum and forum.title == "Situation room"
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await world.bot.get_chat(-1009999)


async def test_members_and_administrators(world: World) -> None:
    group = world.staff["id"]
    me = await world.bot.get_chat_member(group, world.me["id"])
    assert me.status == "administrator"
    assert getattr(me, "can_manage_topics", False) and not getattr(me, "can_promote_members", True)
    owner = await world.bot.get_chat_member(group, world.alice["id"])
    assert owner.status == "creator"
    bob = await world.bot.get_chat_member(group, world.bob["id"])
    assert bob.status == "member"
    admins = await world.bot.get_chat_administrators(group)
    assert {a.user.id for a in admins} == {world.alice["id"], world.me["id"]}
    assert await world.bot.get_chat_member_count(group) == 3


async def test_bot_not_in_the_group(world: World) -> None:
    other = await world.client.create_supergroup(title="Elsewhere", members=[world.bob["id"]])
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the supergroup chat"):
        await world.bot.send_message(other["id"], "hi")


async def test_commands_by_scope(world: World) -> None:
    private = [
        BotCommand(command="start", description="시작"),
        BotCommand(command="report", description="신고"),
    ]
    assert await world.bot.set_my_commands(private)
    assert await world.bot.set_my_commands(
        [BotCommand(command="take", description="접수")], scope=BotCommandScopeAllGroupChats()
    )
    assert [c.command for c in await world.bot.get_my_commands()] == ["start", "report"]
    grouped = await world.bot.get_my_commands(scope=BotCommandScopeAllGroupChats())
    assert [c.command for c in grouped] == ["take"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await world.bot.set_my_commands([BotCommand(command="Bad-Command", description="x")])


async def test_basic_group_and_privacy_mode(world: World) -> None:
    client, bob = world.client, world.bob["id"]
    group = await client.create_group(
        title="동네 모임", bot_token="123456:TEST", members=[bob], bot_admin=False
    )
    assert group["type"] == "group" and group["id"] < 0
    await world.bot.get_updates(offset=-1)
    await client.send_text(bob, group["id"], "그냥 대화")
    await client.send_text(bob, group["id"], "/report@jikimi_bot 불")
    await client.send_text(bob, group["id"], "@jikimi_bot 도와줘")
    await client.send_text(bob, group["id"], "/other@someone_else_bot")
    updates = await world.bot.get_updates()
    texts = [u.message.text for u in updates if u.message and u.message.text]
    assert texts[-2:] == ["/report@jikimi_bot 불", "@jikimi_bot 도와줘"]
    assert "그냥 대화" not in texts
    sent = await world.bot.send_message(group["id"], "안녕하세요")
    reply = await client.send_text(bob, group["id"], "네", reply_to_message_id=sent.message_id)
    updates = await world.bot.get_updates(offset=updates[-1].update_id + 1)
    assert updates[-1].message and updates[-1].message.message_id == reply["message_id"]
