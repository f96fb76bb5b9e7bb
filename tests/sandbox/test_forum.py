"""Forum topics: create/edit/close/reopen/delete, thread ids on sends, closed topics, rights."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest

from sandbox.client import SandboxError
from sandbox.server import SandboxServer
from tests.sandbox.conftest import TOKEN, World


async def test_topic_lifecycle(world: World) -> None:
    group = world.staff["id"]
    topic = await world.bot.create_forum_topic(group, "🔥 화재 #12")
    thread = topic.message_thread_id
    sent = await world.bot.send_message(group, "현장 확인 중", message_thread_id=thread)
    assert sent.message_thread_id == thread and sent.is_topic_message
    assert sent.reply_to_message and sent.reply_to_message.forum_topic_created
    assert await world.bot.edit_forum_topic(group, thread, name="🔥 화재 #12 (진압)")
    topics = await world.client.topics(group)
    assert any(t["name"] == "🔥 화재 #12 (진압)" for t in topics)
    shown = await world.client.messages(group, message_thread_id=thread)
    assert [
        next(iter(k for k in m if k.startswith("forum_topic") or k == "text")) for m in shown
    ] == [
        "forum_topic_created",
        "text",
        "forum_topic_edited",
    ]
    assert await world.bot.close_forum_topic(group, thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await world.bot.close_forum_topic(group, thread)
    assert await world.bot.reopen_forum_topic(group, thread)
    assert await world.bot.delete_forum_topic(group, thread)
    assert all(t["message_thread_id"] != thread for t in await world.client.topics(group))
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await world.bot.send_message(group, "x", message_thread_id=thread)


async def test_closed_topic_rejects_members_and_bots_without_the_right(world: World) -> None:
    client = world.client
    group = await client.create_supergroup(
        title="Experts hub",
        is_forum=True,
        bot_token=TOKEN,
        bot_rights={"can_pin_messages": True},
        members=[world.bob["id"]],
        admins=[world.alice["id"]],
    )
    topic = await client.create_topic(group["id"], "공지", world.alice["id"])
    thread = topic["message_thread_id"]
    await world.bot.send_message(group["id"], "열린 토픽", message_thread_id=thread)
    await client.close_topic(group["id"], thread, world.alice["id"])
    with pytest.raises(TelegramBadRequest, match="TOPIC_CLOSED"):
        await world.bot.send_message(group["id"], "닫힌 토픽", message_thread_id=thread)
    with pytest.raises(SandboxError, match="TOPIC_CLOSED"):
        await client.send_text(world.bob["id"], group["id"], "닫힘?", message_thread_id=thread)
    # the admin who can manage topics still writes there
    await client.send_text(world.alice["id"], group["id"], "관리자", message_thread_id=thread)


async def test_creating_topics_needs_can_manage_topics(world: World) -> None:
    group = await world.client.create_supergroup(
        title="Plain forum", is_forum=True, bot_token=TOKEN, members=[world.bob["id"]]
    )
    with pytest.raises(TelegramBadRequest, match="not enough rights to create a topic"):
        await world.bot.create_forum_topic(group["id"], "x")
    plain = await world.client.create_supergroup(title="Not a forum", bot_token=TOKEN)
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await world.bot.create_forum_topic(plain["id"], "x")


async def test_user_messages_in_topics_reach_the_bot(world: World) -> None:
    group = world.staff["id"]
    topic = await world.client.create_topic(group, "상황 #1", world.alice["id"])
    await world.bot.get_updates(offset=-1)
    await world.client.send_text(
        world.bob["id"], group, "현장 도착", message_thread_id=topic["message_thread_id"]
    )
    updates = await world.bot.get_updates()
    message = updates[-1].message
    assert message and message.text == "현장 도착"
    assert message.message_thread_id == topic["message_thread_id"] and message.is_topic_message
    assert message.chat.is_forum


async def test_topic_creator_posts_in_its_closed_topic_unless_strict(
    world: World, sandbox: SandboxServer
) -> None:
    group = world.staff["id"]
    topic = await world.bot.create_forum_topic(group, "종결된 사건")
    await world.bot.close_forum_topic(group, topic.message_thread_id)
    await world.bot.send_message(group, "종결 메모", message_thread_id=topic.message_thread_id)
    sandbox.config.closed_topic_admin_bypass = False
    with pytest.raises(TelegramBadRequest, match="TOPIC_CLOSED"):
        await world.bot.send_message(group, "x", message_thread_id=topic.message_thread_id)


async def test_closed_general_topic(world: World) -> None:
    group = world.staff["id"]
    assert await world.bot.close_general_forum_topic(group)
    with pytest.raises(SandboxError, match="TOPIC_CLOSED"):
        await world.client.send_text(world.bob["id"], group, "일반 토픽")
    await world.bot.send_message(group, "관리자 공지")  # can_manage_topics still posts
    assert await world.bot.reopen_general_forum_topic(group)
    await world.client.send_text(world.bob["id"], group, "다시 열림")
