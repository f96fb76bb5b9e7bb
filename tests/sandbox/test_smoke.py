"""First contact: getMe, sendMessage, getUpdates through aiogram's real client."""

from __future__ import annotations

from tests.sandbox.conftest import World


async def test_get_me_send_and_poll(world: World) -> None:
    me = await world.bot.get_me()
    assert me.username == "jikimi_bot"
    assert me.is_bot
    updates = await world.bot.get_updates(timeout=0)
    texts = [u.message.text for u in updates if u.message]
    assert texts == ["/start"]
    sent = await world.bot.send_message(world.alice["id"], "<b>불</b>이 났어요", parse_mode="HTML")
    assert sent.text == "불이 났어요"
    assert sent.entities and sent.entities[0].type == "bold"
    shown = await world.client.messages(world.alice["id"])
    assert [m["text"] for m in shown] == ["/start", "불이 났어요"]
