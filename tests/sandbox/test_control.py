"""The control API as people use it: rules for users, reading chats, waiting, resetting."""

from __future__ import annotations

import asyncio
import sys

import aiohttp
import pytest
from aiogram.types import BufferedInputFile

from sandbox.client import SandboxClient, SandboxError
from sandbox.images import tiny_png
from sandbox.server import SandboxServer
from tests.sandbox.conftest import World


async def test_users_follow_the_rules(world: World) -> None:
    client = world.client
    outsider = await client.create_user(first_name="Outsider")
    with pytest.raises(SandboxError, match="not a member") as caught:
        await client.send_text(outsider["id"], world.staff["id"], "hi")
    assert caught.value.status == 403
    with pytest.raises(SandboxError, match="own id"):
        await client.send_text(outsider["id"], world.alice["id"], "hi")
    await client.block_bot(outsider["id"])
    with pytest.raises(SandboxError, match="blocked the bot"):
        await client.send_text(outsider["id"], outsider["id"], "hi")
    started = await client.start_bot(outsider["id"], payload="ref42")
    assert started["text"] == "/start ref42"
    with pytest.raises(SandboxError, match="must be a PNG"):
        await client.send_photo(outsider["id"], outsider["id"], b"text, not a photo")


async def test_first_message_lets_the_bot_answer(world: World) -> None:
    await world.client.send_text(world.bob["id"], world.bob["id"], "안녕하세요")
    sent = await world.bot.send_message(world.bob["id"], "네, 말씀하세요")
    assert sent.chat.id == world.bob["id"]


async def test_wait_for_message_walks_through_bot_messages(world: World) -> None:
    chat = world.alice["id"]

    async def later() -> None:
        await asyncio.sleep(0.2)
        await world.bot.send_message(chat, "첫째")
        await world.bot.send_message(chat, "둘째: 119")

    task = asyncio.create_task(later())
    first = await world.client.wait_for_message(chat)
    assert first["text"] == "첫째"
    second = await world.client.wait_for_message(chat, contains="119")
    assert second["text"] == "둘째: 119"
    await task
    with pytest.raises(SandboxError) as caught:
        await world.client.wait_for_message(chat, timeout=0.2)
    assert caught.value.status == 408
    mine = await world.client.wait_for_message(chat, from_bot=False, after_message_id=0)
    assert mine["text"] == "/start"


async def test_user_edits_become_edited_message_updates(world: World) -> None:
    chat = world.alice["id"]
    said = await world.client.send_text(chat, chat, "불이 났어요")
    await world.client.edit_text(chat, chat, said["message_id"], "불이 났어요 #화재")
    assert await world.client.pending_updates() >= 3
    updates = await world.bot.get_updates()
    await world.bot.get_updates(offset=updates[-1].update_id + 1)
    assert await world.client.pending_updates() == 0
    edited = updates[-1].edited_message
    assert edited and edited.text == "불이 났어요 #화재" and edited.edit_date
    assert edited.entities and edited.entities[0].type == "hashtag"


async def test_user_caption_edits_become_edited_message_updates(world: World) -> None:
    chat = world.alice["id"]
    said = await world.client.send_photo(chat, chat, tiny_png(), caption="담이 무너졌어요")
    await world.client.edit_caption(chat, chat, said["message_id"], "담이 무너졌어요 #붕괴")
    await world.client.edit_caption(chat, chat, said["message_id"], None)
    updates = await world.bot.get_updates()
    await world.bot.get_updates(offset=updates[-1].update_id + 1)
    with_caption, without = updates[-2].edited_message, updates[-1].edited_message
    assert with_caption and with_caption.caption == "담이 무너졌어요 #붕괴" and with_caption.photo
    assert with_caption.caption_entities and with_caption.caption_entities[0].type == "hashtag"
    assert without and without.caption is None and without.photo
    said_text = await world.client.send_text(chat, chat, "글")
    with pytest.raises(SandboxError) as caught:
        await world.client.edit_caption(chat, chat, said_text["message_id"], "사진 설명")
    assert caught.value.status == 400


async def test_chat_view_and_member_listing(world: World) -> None:
    info = await world.client.chat(world.staff["id"])
    statuses = {m["user"]["first_name"]: m["status"] for m in info["members"]}
    assert statuses == {"Alice": "creator", "Bob": "member", "Jikimi": "administrator"}
    assert info["invite_links"][0]["is_primary"]
    private = await world.client.chat(world.alice["id"])
    assert private["started"] and not private["blocked"]
    chats = await world.client.user_chats(world.alice["id"])
    assert [c["type"] for c in chats] == ["private", "supergroup"]


async def test_bot_voice_leave_and_export_link(world: World) -> None:
    voice = await world.bot.send_voice(
        world.alice["id"], BufferedInputFile(b"OggS voice", "v.ogg"), duration=2
    )
    assert voice.voice and voice.voice.duration == 2
    link = await world.bot.export_chat_invite_link(world.staff["id"])
    assert link.startswith("https://t.me/+")
    assert await world.bot.leave_chat(world.staff["id"])
    assert (await world.client.member(world.staff["id"], world.me["id"]))["status"] == "left"


async def test_state_lists_recent_events(sandbox: SandboxServer, world: World) -> None:
    await world.client.send_text(world.alice["id"], world.alice["id"], "이벤트")
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{sandbox.url}/control/state") as response,
    ):
        state = (await response.json())["result"]
    assert state["version"] > 0
    kinds = [(e["type"], e.get("chat_id")) for e in state["events"][-2:]]
    assert kinds == [("update", None), ("message", world.alice["id"])]


async def test_reset_forgets_everything(sandbox: SandboxServer, world: World) -> None:
    await world.client.reset()
    assert await world.client.users() == []
    async with SandboxClient(sandbox.url) as fresh:
        await fresh.create_bot(token="123456:TEST", username="jikimi_bot")
        assert len(await fresh.users()) == 1


async def test_module_runs_standalone() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        "--port",
        "0",
        "--no-rate-limits",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert b"sandbox listening on http://127.0.0.1:" in line
        url = line.split()[3].decode()
        async with SandboxClient(url) as client:
            assert await client.users() == []
    finally:
        process.terminate()
        await process.wait()


async def test_bad_control_calls_get_clear_errors(sandbox: SandboxServer, world: World) -> None:
    with pytest.raises(SandboxError, match="unexpected argument"):
        await world.client.call("send_text", user_id=1, chat_id=1, text="x", colour="red")
    with pytest.raises(SandboxError, match="unexpected argument"):  # the server's own
        await world.client.call("send_text", user_id=1, chat_id=1, text="x", world={})
    with pytest.raises(SandboxError, match="unknown control action"):
        await world.client.call("teleport")
    with pytest.raises(SandboxError, match="missing 1 required keyword-only argument"):
        await world.client.call("send_text", user_id=world.alice["id"], chat_id=world.alice["id"])
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{sandbox.url}/control/send_text",
            json={"user_id": world.alice["id"], "chat_id": world.alice["id"], "text": None},
        ) as response,
    ):
        assert response.status == 400
        assert "invalid argument" in (await response.json())["error"]


async def test_listeners_see_every_change(sandbox: SandboxServer, world: World) -> None:
    seen: list[dict[str, object]] = []
    sandbox.world.listeners.append(seen.append)
    sent = await world.bot.send_message(world.alice["id"], "관찰")
    assert {
        "type": "message",
        "chat_id": world.alice["id"],
        "message_id": sent.message_id,
    }.items() <= seen[-1].items()
