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
