"""Sending methods through aiogram: text, HTML, keyboards, media, locations, copies, errors."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    InputMediaVideo,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)

from sandbox.images import tiny_png
from tests.sandbox.conftest import World


async def test_text_with_html_entities_in_utf16(world: World) -> None:
    sent = await world.bot.send_message(
        world.alice["id"], '🔥 <b>화재</b> <a href="https://119.go.kr">119</a>', parse_mode="HTML"
    )
    assert sent.text == "🔥 화재 119"
    kinds = [(e.type, e.offset, e.length) for e in sent.entities or []]
    # the emoji is two UTF-16 units, so "화재" starts at offset 3
    assert kinds == [("bold", 3, 2), ("text_link", 6, 3)]


async def test_message_too_long_counts_after_entity_parsing(world: World) -> None:
    body = "<b>" + "가" * 4096 + "</b>"
    sent = await world.bot.send_message(world.alice["id"], body, parse_mode="HTML")
    assert len(sent.text or "") == 4096
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await world.bot.send_message(world.alice["id"], "가" * 4097)
    # 2049 emoji = 4098 UTF-16 units: too long although only 2049 characters
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await world.bot.send_message(world.alice["id"], "🔥" * 2049)


async def test_bad_html_is_rejected_like_telegram(world: World) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await world.bot.send_message(world.alice["id"], "a<br>b", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Can't find end tag corresponding to start tag"):
        await world.bot.send_message(world.alice["id"], "<b>unclosed", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Unmatched end tag"):
        await world.bot.send_message(world.alice["id"], "<b><i>x</b></i>", parse_mode="HTML")


async def test_empty_text_is_rejected(world: World) -> None:
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await world.bot.send_message(world.alice["id"], "   ")


async def test_inline_keyboard_and_callback_data_limit(world: World) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="접수", callback_data="take:1")]]
    )
    sent = await world.bot.send_message(world.alice["id"], "신고", reply_markup=markup)
    assert isinstance(sent.reply_markup, InlineKeyboardMarkup)
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "take:1"
    too_long = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="x" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await world.bot.send_message(world.alice["id"], "신고", reply_markup=too_long)
    # 22 Hangul syllables are 66 bytes in UTF-8: over the limit
    hangul = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="가" * 22)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await world.bot.send_message(world.alice["id"], "신고", reply_markup=hangul)


async def test_too_many_buttons(world: World) -> None:
    row = [InlineKeyboardButton(text=str(i), callback_data=str(i)) for i in range(8)]
    markup = InlineKeyboardMarkup(inline_keyboard=[row] * 13)
    with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
        await world.bot.send_message(world.alice["id"], "목록", reply_markup=markup)


async def test_reply_keyboard_is_shown_in_the_chat(world: World) -> None:
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="📍 위치 보내기", request_location=True)]],
        resize_keyboard=True,
    )
    sent = await world.bot.send_message(
        world.alice["id"], "위치를 보내 주세요", reply_markup=keyboard
    )
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    shown = (await world.client.messages(world.alice["id"]))[-1]
    assert shown["reply_markup"]["keyboard"][0][0]["request_location"] is True
    await world.bot.send_message(
        world.alice["id"], "감사합니다", reply_markup=ReplyKeyboardRemove()
    )
    shown = (await world.client.messages(world.alice["id"]))[-1]
    assert shown["reply_markup"] == {"remove_keyboard": True}


async def test_chat_not_found(world: World) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await world.bot.send_message(-100999, "hello")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await world.bot.send_message(424242, "hello")


async def test_bot_cannot_write_first(world: World) -> None:
    with pytest.raises(
        TelegramForbiddenError, match="Forbidden: bot can't initiate conversation with a user"
    ):
        await world.bot.send_message(world.bob["id"], "hello")


async def test_blocked_by_the_user(world: World) -> None:
    await world.client.block_bot(world.alice["id"])
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await world.bot.send_message(world.alice["id"], "hello")
    await world.client.unblock_bot(world.alice["id"])
    await world.bot.send_message(world.alice["id"], "welcome back")
    updates = await world.bot.get_updates()
    statuses = [
        u.my_chat_member.new_chat_member.status
        for u in updates
        if u.my_chat_member is not None and u.my_chat_member.chat.type == "private"
    ]
    assert statuses == ["kicked", "member"]


async def test_photo_upload_file_id_reuse_and_caption_limit(world: World) -> None:
    png = tiny_png(8, 6)
    sent = await world.bot.send_photo(
        world.alice["id"],
        BufferedInputFile(png, "fire.png"),
        caption="<i>현장</i>",
        parse_mode="HTML",
    )
    assert sent.photo and (sent.photo[-1].width, sent.photo[-1].height) == (8, 6)
    assert sent.caption == "현장"
    again = await world.bot.send_photo(world.alice["id"], sent.photo[-1].file_id)
    assert again.photo and again.photo[-1].file_unique_id == sent.photo[-1].file_unique_id
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await world.bot.send_photo(world.alice["id"], sent.photo[-1].file_id, caption="x" * 1025)
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await world.bot.send_photo(world.alice["id"], BufferedInputFile(b"not an image", "x.png"))
    shown = await world.client.messages(world.alice["id"])
    assert shown[-1]["photo"][0]["file_id"] == sent.photo[-1].file_id
    assert await world.client.download(sent.photo[-1].file_id) == png


async def test_document_and_media_group(world: World) -> None:
    doc = await world.bot.send_document(
        world.alice["id"], BufferedInputFile(b"%PDF-1.4 manual", "manual.pdf"), caption="매뉴얼"
    )
    assert doc.document and doc.document.file_name == "manual.pdf"
    album = await world.bot.send_media_group(
        world.alice["id"],
        [
            InputMediaPhoto(media=BufferedInputFile(tiny_png(), "a.png"), caption="앨범"),
            InputMediaPhoto(media=BufferedInputFile(tiny_png(2, 2), "b.png")),
        ],
    )
    assert len(album) == 2
    assert album[0].media_group_id and album[0].media_group_id == album[1].media_group_id
    assert album[0].caption == "앨범" and album[1].caption is None
    with pytest.raises(TelegramBadRequest, match="2-10"):
        await world.bot.send_media_group(
            world.alice["id"], [InputMediaPhoto(media=BufferedInputFile(tiny_png(), "a.png"))]
        )


async def test_location_live_location_venue_and_contact(world: World) -> None:
    static = await world.bot.send_location(world.alice["id"], 37.5663, 126.9779)
    assert static.location and static.location.latitude == pytest.approx(37.5663)
    live = await world.bot.send_location(world.alice["id"], 37.5663, 126.9779, live_period=600)
    assert live.location and live.location.live_period == 600
    with pytest.raises(TelegramBadRequest, match="wrong live period"):
        await world.bot.send_location(world.alice["id"], 37.5, 126.9, live_period=5)
    venue = await world.bot.send_venue(
        world.alice["id"], 37.4602, 126.4407, "인천공항", "인천 중구 공항로 272"
    )
    assert venue.venue and venue.venue.title == "인천공항"
    contact = await world.bot.send_contact(world.alice["id"], "119", "소방")
    assert contact.contact and contact.contact.phone_number == "119"


async def test_copy_and_forward(world: World) -> None:
    client = world.client
    original = await client.send_text(world.alice["id"], world.alice["id"], "불이 났어요")
    topic = await world.bot.create_forum_topic(world.staff["id"], "신고 #1")
    copied = await world.bot.copy_message(
        world.staff["id"],
        world.alice["id"],
        original["message_id"],
        message_thread_id=topic.message_thread_id,
    )
    shown = await client.messages(world.staff["id"], message_thread_id=topic.message_thread_id)
    assert [m["message_id"] for m in shown][-1] == copied.message_id
    assert shown[-1]["text"] == "불이 났어요" and "forward_origin" not in shown[-1]
    forwarded = await world.bot.forward_message(
        world.staff["id"], world.alice["id"], original["message_id"]
    )
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.type == "user"
    copies = await world.bot.copy_messages(
        world.staff["id"], world.alice["id"], [original["message_id"], 9999]
    )
    assert len(copies) == 1
    forwards = await world.bot.forward_messages(
        world.staff["id"], world.alice["id"], [original["message_id"]]
    )
    assert len(forwards) == 1
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await world.bot.copy_message(world.staff["id"], world.alice["id"], 9999)


async def test_a_copy_caption_is_parsed_and_counted_like_telegram(world: World) -> None:
    photo = await world.client.send_photo(world.alice["id"], world.alice["id"], tiny_png())
    alice, source = world.alice["id"], photo["message_id"]
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unmatched end tag"):
        await world.bot.copy_message(
            alice, alice, source, caption="연기 <b> & </script> 3층", parse_mode="HTML"
        )
    # 1024 units as shown: "&amp;" counts one, an emoji two
    await world.bot.copy_message(alice, alice, source, caption="&amp;" * 1024, parse_mode="HTML")
    assert (await world.client.messages(alice))[-1]["caption"] == "&" * 1024
    await world.bot.copy_message(alice, alice, source, caption="🔥" * 512, parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await world.bot.copy_message(alice, alice, source, caption="🔥" * 512 + "x")


async def test_reply_to_message(world: World) -> None:
    original = await world.client.send_text(world.alice["id"], world.alice["id"], "도와주세요")
    reply = await world.bot.send_message(
        world.alice["id"],
        "접수했습니다",
        reply_parameters=ReplyParameters(message_id=original["message_id"]),
    )
    assert reply.reply_to_message and reply.reply_to_message.text == "도와주세요"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await world.bot.send_message(
            world.alice["id"], "x", reply_parameters=ReplyParameters(message_id=9999)
        )


async def test_chat_action(world: World) -> None:
    assert await world.bot.send_chat_action(world.alice["id"], "typing")
    actions = await world.client.chat_actions(world.alice["id"])
    assert actions[-1]["action"] == "typing"
    with pytest.raises(TelegramForbiddenError):
        await world.bot.send_chat_action(world.bob["id"], "typing")


async def test_join_request_applicant_can_be_messaged_for_five_minutes(world: World) -> None:
    link = await world.bot.create_chat_invite_link(world.staff["id"], creates_join_request=True)
    carol = await world.client.create_user(first_name="Carol")
    with pytest.raises(TelegramForbiddenError):
        await world.bot.send_message(carol["id"], "hi")
    await world.client.join_request(carol["id"], link.invite_link)
    sent = await world.bot.send_message(carol["id"], "신청을 확인하고 있습니다")
    assert sent.chat.id == carol["id"]
    await world.client.advance_time(301)
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await world.bot.send_message(carol["id"], "still there?")


async def test_video_album_and_audio_parse_in_aiogram(world: World) -> None:
    album = await world.bot.send_media_group(
        world.alice["id"],
        [
            InputMediaVideo(media=BufferedInputFile(b"\x00\x00\x00\x18ftypmp42", "a.mp4")),
            InputMediaPhoto(media=BufferedInputFile(tiny_png(), "b.png")),
        ],
    )
    assert album[0].video and album[0].video.duration == 0
    audio = await world.bot.send_audio(
        world.alice["id"], BufferedInputFile(b"ID3 fake", "siren.mp3"), duration=4
    )
    assert audio.audio and audio.audio.duration == 4 and audio.audio.file_name == "siren.mp3"
    video = await world.bot.send_video(
        world.alice["id"],
        BufferedInputFile(b"\x00\x00\x00\x18ftyp", "v.mp4"),
        width=640,
        height=360,
    )
    assert video.video and (video.video.width, video.video.height) == (640, 360)
