"""Files: users' uploads retrievable with getFile + download, the 20 MB limit, URLs."""

from __future__ import annotations

import io

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiohttp import web

from sandbox.images import tiny_png
from sandbox.server import SandboxServer
from tests.sandbox.conftest import World


async def test_user_photo_album_document_voice_are_downloadable(world: World) -> None:
    client, chat = world.client, world.alice["id"]
    await world.bot.get_updates(offset=-1)
    png = tiny_png(16, 9)
    await client.send_photo(chat, chat, png, caption="연기가 나요")
    await client.send_album(chat, chat, [tiny_png(3, 3), tiny_png(5, 5)], caption="현장 사진")
    await client.send_document(chat, chat, b"report body", "report.txt", "text/plain")
    await client.send_voice(chat, chat, b"OggS fake opus", duration=3)
    updates = (await world.bot.get_updates())[1:]
    messages = [u.message for u in updates if u.message]
    photo = messages[0].photo
    assert photo and (photo[-1].width, photo[-1].height) == (16, 9)
    assert messages[0].caption == "연기가 나요"
    assert messages[1].media_group_id and messages[1].media_group_id == messages[2].media_group_id
    assert messages[1].caption == "현장 사진" and messages[2].caption is None
    file = await world.bot.get_file(photo[-1].file_id)
    assert file.file_path and file.file_size == len(png)
    buffer = io.BytesIO()
    await world.bot.download_file(file.file_path, buffer)
    assert buffer.getvalue() == png
    document = messages[3].document
    assert document and document.file_name == "report.txt"
    downloaded = await world.bot.download(document.file_id)
    assert downloaded is not None and downloaded.read() == b"report body"
    voice = messages[4].voice
    assert voice and voice.duration == 3


async def test_get_file_limits(world: World, sandbox: SandboxServer) -> None:
    with pytest.raises(TelegramBadRequest, match="wrong file_id"):
        await world.bot.get_file("nope")
    big = sandbox.world.files.add(b"\0" * (20 * 1024 * 1024 + 1), "document", file_name="b.bin")
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await world.bot.get_file(big.file_id)


async def test_bot_sends_a_photo_by_url(world: World) -> None:
    png = tiny_png(7, 7)

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=png, content_type="image/png")

    app = web.Application()
    app.router.add_get("/photo.png", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        sent = await world.bot.send_photo(world.alice["id"], f"http://127.0.0.1:{port}/photo.png")
        assert sent.photo and sent.photo[-1].width == 7
        with pytest.raises(TelegramBadRequest, match="failed to get HTTP URL content"):
            await world.bot.send_photo(world.alice["id"], f"http://127.0.0.1:{port}/missing.png")
    finally:
        await runner.cleanup()
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await world.bot.send_photo(world.alice["id"], "AgACunknown")


async def test_user_audio_video_note_and_sticker_arrive_and_copy(world: World) -> None:
    """A person's audio file, video note and sticker reach the bot, which can copy each."""
    client, chat = world.client, world.alice["id"]
    await world.bot.get_updates(offset=-1)
    await client.send_audio(
        chat, chat, b"ID3 song", file_name="siren.mp3", duration=7, caption="소리"
    )
    await client.send_video_note(chat, chat, b"\0\0\0 ftypmp4", duration=5)
    await client.send_sticker(chat, chat, tiny_png(8, 8), emoji="👍")
    messages = [u.message for u in (await world.bot.get_updates())[1:] if u.message]
    audio, note, sticker = (
        (m.audio for m in messages[:1]),
        messages[1].video_note,
        messages[2].sticker,
    )
    (audio,) = audio
    assert audio and audio.file_name == "siren.mp3" and audio.duration == 7
    assert messages[0].caption == "소리"
    assert note and note.duration == 5 and note.length == 240
    assert sticker and sticker.emoji == "👍" and (sticker.width, sticker.height) == (8, 8)
    downloaded = await world.bot.download(audio.file_id)
    assert downloaded is not None and downloaded.read() == b"ID3 song"
    for message in messages:
        await world.bot.copy_message(world.staff["id"], chat, message.message_id)
    shown = await client.messages(world.staff["id"])
    assert [key for m in shown[-3:] for key in ("audio", "video_note", "sticker") if key in m] == [
        "audio",
        "video_note",
        "sticker",
    ]
    dice = await client.send_dice(chat, chat, "🎯")
    assert dice["dice"]["emoji"] == "🎯" and 1 <= dice["dice"]["value"] <= 6
