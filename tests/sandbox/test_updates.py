"""getUpdates long polling: offsets, limit, timeout, allowed_updates, conflicts."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiogram.exceptions import ClientDecodeError, TelegramConflictError

from sandbox.client import SandboxError
from sandbox.server import SandboxServer
from tests.sandbox.conftest import TOKEN, World


async def test_offsets_confirm_updates(world: World) -> None:
    for text in ("하나", "둘", "셋"):
        await world.client.send_text(world.alice["id"], world.alice["id"], text)
    first = await world.bot.get_updates(allowed_updates=["message"])
    texts = [u.message.text for u in first if u.message]
    assert texts == ["/start", "하나", "둘", "셋"]
    ids = [u.update_id for u in first]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    again = await world.bot.get_updates(offset=ids[1] + 1)
    assert [u.update_id for u in again][: len(ids) - 2] == ids[2:]
    limited = await world.bot.get_updates(offset=ids[1] + 1, limit=1)
    assert [u.update_id for u in limited] == [ids[2]]
    assert await world.bot.get_updates(offset=ids[-1] + 1, timeout=0) == []


async def test_long_poll_waits_for_the_next_update(world: World) -> None:
    start = await world.bot.get_updates()
    offset = start[-1].update_id + 1
    poll = asyncio.create_task(world.bot.get_updates(offset=offset, timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()
    await world.client.send_text(world.alice["id"], world.alice["id"], "불이야")
    updates = await asyncio.wait_for(poll, 5)
    assert [u.message.text for u in updates if u.message] == ["불이야"]


async def test_long_poll_times_out_empty(world: World) -> None:
    start = await world.bot.get_updates()
    assert await world.bot.get_updates(offset=start[-1].update_id + 1, timeout=1) == []


async def test_negative_offset_keeps_the_last_updates(world: World) -> None:
    await world.client.send_text(world.alice["id"], world.alice["id"], "a")
    await world.client.send_text(world.alice["id"], world.alice["id"], "b")
    last = await world.bot.get_updates(offset=-1)
    assert [u.message.text for u in last if u.message] == ["b"]


async def test_allowed_updates_filter_chat_member_by_default(
    world: World, sandbox: SandboxServer
) -> None:
    await world.bot.get_updates(offset=-1)
    # chat_member is opt-in on Telegram
    await world.client.add_member(world.staff["id"], (await world.client.create_user("Dan"))["id"])
    plain = await world.bot.get_updates()
    assert not [u for u in plain if u.chat_member]
    await world.bot.get_updates(offset=plain[-1].update_id + 1, allowed_updates=["chat_member"])
    erin = await world.client.create_user("Erin")
    await world.client.add_member(world.staff["id"], erin["id"])
    await world.client.send_text(world.alice["id"], world.alice["id"], "ignored")
    updates = await world.bot.get_updates()
    assert [u.event_type for u in updates] == ["chat_member"]
    assert updates[0].chat_member and updates[0].chat_member.new_chat_member.user.id == erin["id"]


async def test_second_poller_terminates_the_first(world: World, sandbox: SandboxServer) -> None:
    start = await world.bot.get_updates()
    offset = start[-1].update_id + 1
    generation = sandbox.world.bots[TOKEN].poll_generation
    first = asyncio.create_task(world.bot.get_updates(offset=offset, timeout=5))
    for _ in range(1000):  # until the first poll is waiting in the sandbox
        if sandbox.world.bots[TOKEN].poll_generation != generation:
            break
        await asyncio.sleep(0.01)
    second = asyncio.create_task(world.bot.get_updates(offset=offset, timeout=1))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await first
    assert await second == []


async def test_get_updates_conflicts_with_a_webhook(world: World) -> None:
    await world.bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(
        TelegramConflictError,
        match="can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    ):
        await world.bot.get_updates()
    await world.bot.delete_webhook()
    assert await world.bot.get_updates()


async def test_get_and_post_with_every_body_encoding(sandbox: SandboxServer, world: World) -> None:
    base = f"{sandbox.url}/bot{TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/getMe") as response:
            assert (await response.json())["result"]["username"] == "jikimi_bot"
        chat = world.alice["id"]
        async with http.post(f"{base}/sendMessage", json={"chat_id": chat, "text": "json"}) as r:
            assert (await r.json())["result"]["text"] == "json"
        async with http.post(f"{base}/sendMessage", data={"chat_id": chat, "text": "form"}) as r:
            assert (await r.json())["result"]["text"] == "form"
        async with http.get(f"{base}/sendMessage", params={"chat_id": chat, "text": "q"}) as r:
            assert (await r.json())["result"]["text"] == "q"
        form = aiohttp.FormData()
        form.add_field("chat_id", str(chat))
        form.add_field("text", "multipart")
        async with http.post(f"{base}/sendMessage", data=form) as r:
            assert (await r.json())["result"]["text"] == "multipart"


async def test_unknown_method_and_token(sandbox: SandboxServer, world: World) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sandbox.url}/bot{TOKEN}/sendTeleport") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        async with http.post(f"{sandbox.url}/bot999:WRONG/getMe") as response:
            assert response.status == 401
            assert (await response.json())["description"] == "Unauthorized"
        async with http.post(f"{sandbox.url}/bot{TOKEN}/GETME") as response:
            assert (await response.json())["ok"] is True


async def test_a_sandbox_bug_answers_like_a_telegram_500(
    sandbox: SandboxServer, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.methods import registry

    async def broken(call: registry.Call) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(registry.METHODS, "getme", broken)
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{sandbox.url}/bot{TOKEN}/getMe") as response,
    ):
        assert response.status == 500
        body = await response.json()
    assert body == {"ok": False, "error_code": 500, "description": "Internal Server Error"}


def _poll_message(user: dict[str, object]) -> dict[str, object]:
    """A private message carrying a poll without fields aiogram requires."""
    return {
        "message_id": 9001,
        "date": 1_700_000_000,
        "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
        "from": {"id": user["id"], "is_bot": False, "first_name": user["first_name"]},
        "poll": {"id": "p1", "question": "?", "options": [], "total_voter_count": 0},
    }


async def test_an_injected_update_arrives_exactly_as_given(
    sandbox: SandboxServer, world: World
) -> None:
    """inject_update queues any shape, numbered in turn; aiogram's own reader refuses it."""
    start = await world.bot.get_updates()
    offset = start[-1].update_id + 1
    payload = _poll_message(world.bob)
    queued = await world.client.inject_update("message", payload)
    assert queued == {"update_id": offset, "message": payload}
    async with aiohttp.ClientSession() as http:
        url = f"{sandbox.url}/bot{TOKEN}/getUpdates"
        async with http.post(url, json={"offset": offset}) as response:
            assert (await response.json())["result"] == [queued]
    with pytest.raises(ClientDecodeError):
        await world.bot.get_updates(offset=offset)
    # Bob never wrote before: the injected message counts as his first.
    sent = await world.bot.send_message(world.bob["id"], "다시 보내 주세요")
    assert sent.chat.id == world.bob["id"]


async def test_inject_update_respects_allowed_updates_and_checks_its_type(world: World) -> None:
    """A type the bot did not ask for is not queued; an empty type is refused."""
    await world.bot.get_updates(allowed_updates=["message"])
    assert await world.client.inject_update("poll", {"id": "p1"}) is None
    with pytest.raises(SandboxError) as caught:
        await world.client.inject_update("", {"id": "p1"})
    assert caught.value.status == 400
