"""Edits, live locations, deletion (48-hour window, rights) and pins."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
)

from sandbox.images import tiny_png
from tests.sandbox.conftest import World

BUTTONS = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="확인", callback_data="ack")]]
)


async def test_edit_text_and_markup(world: World) -> None:
    chat = world.alice["id"]
    sent = await world.bot.send_message(chat, "접수 대기", reply_markup=BUTTONS)
    edited = await world.bot.edit_message_text(
        "<b>접수됨</b>", chat_id=chat, message_id=sent.message_id, parse_mode="HTML"
    )
    assert not isinstance(edited, bool)
    assert edited.text == "접수됨" and edited.edit_date
    assert edited.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await world.bot.edit_message_text(
            "<b>접수됨</b>", chat_id=chat, message_id=sent.message_id, parse_mode="HTML"
        )
    await world.bot.edit_message_reply_markup(
        chat_id=chat, message_id=sent.message_id, reply_markup=BUTTONS
    )
    shown = (await world.client.messages(chat))[-1]
    assert shown["text"] == "접수됨"
    assert shown["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ack"
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await world.bot.edit_message_text("x", chat_id=chat, message_id=9999)


async def test_cannot_edit_someone_elses_message(world: World) -> None:
    mine = await world.client.send_text(world.alice["id"], world.alice["id"], "사용자 메시지")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await world.bot.edit_message_text(
            "x", chat_id=world.alice["id"], message_id=mine["message_id"]
        )


async def test_edit_caption(world: World) -> None:
    chat = world.alice["id"]
    photo = await world.bot.send_photo(chat, BufferedInputFile(tiny_png(), "p.png"), caption="a")
    edited = await world.bot.edit_message_caption(
        chat_id=chat, message_id=photo.message_id, caption="사진 설명"
    )
    assert not isinstance(edited, bool) and edited.caption == "사진 설명"
    text = await world.bot.send_message(chat, "text")
    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await world.bot.edit_message_caption(chat_id=chat, message_id=text.message_id, caption="x")


async def test_bot_live_location(world: World) -> None:
    chat = world.alice["id"]
    live = await world.bot.send_location(chat, 37.5663, 126.9779, live_period=120)
    moved = await world.bot.edit_message_live_location(
        latitude=37.5759, longitude=126.9769, chat_id=chat, message_id=live.message_id
    )
    assert not isinstance(moved, bool) and moved.location
    assert moved.location.latitude == pytest.approx(37.5759)
    await world.bot.stop_message_live_location(chat_id=chat, message_id=live.message_id)
    await world.client.advance_time(200)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await world.bot.edit_message_live_location(
            latitude=37.0, longitude=126.0, chat_id=chat, message_id=live.message_id
        )
    static = await world.bot.send_location(chat, 37.5, 126.9)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await world.bot.edit_message_live_location(
            latitude=37.0, longitude=126.0, chat_id=chat, message_id=static.message_id
        )


async def test_user_live_location_updates_arrive_as_edited_messages(world: World) -> None:
    client, chat = world.client, world.alice["id"]
    await world.bot.get_updates(offset=-1)
    live = await client.send_location(chat, chat, 37.4753, 126.6329, live_period=900)
    await client.edit_live_location(chat, chat, live["message_id"], 37.5340, 126.6495)
    await client.stop_live_location(chat, chat, live["message_id"])
    updates = (await world.bot.get_updates())[1:]
    assert updates[0].message and updates[0].message.location
    assert updates[0].message.location.live_period == 900
    assert updates[1].edited_message and updates[1].edited_message.location
    assert updates[1].edited_message.location.latitude == pytest.approx(37.5340)
    assert updates[2].edited_message is not None


async def test_delete_rules(world: World) -> None:
    chat = world.alice["id"]
    sent = await world.bot.send_message(chat, "지울 메시지")
    assert await world.bot.delete_message(chat, sent.message_id)
    assert all(m["message_id"] != sent.message_id for m in await world.client.messages(chat))
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await world.bot.delete_message(chat, sent.message_id)
    old = await world.bot.send_message(chat, "오래된 메시지")
    await world.client.advance_time(48 * 3600 + 1)
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await world.bot.delete_message(chat, old.message_id)


async def test_deleting_others_messages_in_groups_needs_the_right(world: World) -> None:
    client = world.client
    group = await client.create_supergroup(
        title="No rights", bot_token="123456:TEST", members=[world.bob["id"]]
    )
    said = await client.send_text(world.bob["id"], group["id"], "안녕하세요")
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await world.bot.delete_message(group["id"], said["message_id"])
    said = await client.send_text(world.bob["id"], world.staff["id"], "안녕하세요")
    assert await world.bot.delete_message(world.staff["id"], said["message_id"])


async def test_pin_and_unpin(world: World) -> None:
    group = world.staff["id"]
    sent = await world.bot.send_message(group, "공지")
    assert await world.bot.pin_chat_message(group, sent.message_id)
    shown = await world.client.messages(group)
    assert next(m for m in shown if m["message_id"] == sent.message_id)["pinned"] is True
    assert "pinned_message" in shown[-1]
    assert await world.bot.unpin_chat_message(group, message_id=sent.message_id)
    shown = await world.client.messages(group)
    assert next(m for m in shown if m["message_id"] == sent.message_id)["pinned"] is False
    plain = await world.client.create_supergroup(
        title="No pin rights", bot_token="123456:TEST", members=[world.bob["id"]]
    )
    other = await world.bot.send_message(plain["id"], "x")
    with pytest.raises(TelegramBadRequest, match="not enough rights to manage pinned messages"):
        await world.bot.pin_chat_message(plain["id"], other.message_id)


async def test_edit_media_swaps_the_photo(world: World) -> None:
    chat = world.alice["id"]
    photo = await world.bot.send_photo(chat, BufferedInputFile(tiny_png(2, 2), "a.png"))
    edited = await world.bot.edit_message_media(
        InputMediaPhoto(media=BufferedInputFile(tiny_png(9, 9), "b.png"), caption="새 사진"),
        chat_id=chat,
        message_id=photo.message_id,
    )
    assert not isinstance(edited, bool) and edited.photo
    assert edited.photo[-1].width == 9 and edited.caption == "새 사진"
    text = await world.bot.send_message(chat, "글")
    with pytest.raises(TelegramBadRequest, match="there is no media in the message to edit"):
        await world.bot.edit_message_media(
            InputMediaPhoto(media=photo.photo[-1].file_id if photo.photo else ""),
            chat_id=chat,
            message_id=text.message_id,
        )
