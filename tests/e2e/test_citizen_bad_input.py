"""End to end: floods, unsupported messages and bad files get clear answers and lose nothing."""

from __future__ import annotations

from typing import Any

from sandbox.images import tiny_png
from tests.e2e.citizen_helpers import CITY_HALL, bot_texts, media_of, reports_of, settle
from tests.e2e.conftest import E2E


async def test_a_flood_is_throttled_and_merged_without_losing_anything(app: E2E) -> None:
    citizen = await app.citizen("급해요", "ko")
    client, chat = app.client, citizen.id
    await client.send_location(citizen.id, chat, *CITY_HALL)
    for i in range(25):
        await client.send_text(citizen.id, chat, f"물이 계속 차올라요 {i}")
    await settle(app, chat, timeout=40)

    (report,) = await reports_of(app, citizen.id)
    lines = (report.text or "").splitlines()
    assert lines == [f"물이 계속 차올라요 {i}" for i in range(25)]
    assert report.message_count == 26
    assert len(await bot_texts(app, chat)) < 15


async def test_unsupported_message_gets_a_polite_answer(app: E2E) -> None:
    citizen = await app.citizen("스티커", "ko")
    await app.client.send_sticker(citizen.id, citizen.id, tiny_png(8, 8), emoji="🙂")
    await settle(app, citizen.id)
    (answer,) = await bot_texts(app, citizen.id)
    assert "죄송합니다" in answer
    assert await reports_of(app, citizen.id) == []


async def test_oversized_photo_gets_a_clear_answer_and_the_report_goes_on(app: E2E) -> None:
    app.settings.reports.max_photo_bytes = 60
    citizen = await app.citizen("Big Photo", "en")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "A tree fell on a car")
    await client.send_photo(citizen.id, chat, tiny_png(width=40, height=40))
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    (media,) = await media_of(app, report.id)
    assert media.status == "too_large" and media.file_id
    assert report.text == "A tree fell on a car"
    assert any("too large" in text for text in await bot_texts(app, chat))


async def test_failed_download_gets_a_clear_answer(app: E2E) -> None:
    citizen = await app.citizen("다운실패", "ko")
    client, chat = app.client, citizen.id
    await client.fault("5xx", count=20, method="getFile")
    await client.send_photo(citizen.id, chat, tiny_png(rgb=(9, 9, 9)))
    await settle(app, chat, timeout=40)
    await client.clear_faults()
    (report,) = await reports_of(app, citizen.id)
    (media,) = await media_of(app, report.id)
    assert media.status == "failed" and media.file_id
    assert any("내려받지 못했습니다" in text for text in await bot_texts(app, chat))


async def test_photo_over_telegrams_download_limit_gets_a_clear_answer(
    app: E2E, sandbox: Any
) -> None:
    sandbox.config.max_download_size = 100  # stands in for getFile's 20 MB limit
    citizen = await app.citizen("큰사진", "ko")
    client, chat = app.client, citizen.id
    await client.send_photo(
        citizen.id, chat, tiny_png(width=300, height=300), caption="담벼락 붕괴"
    )
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    (media,) = await media_of(app, report.id)
    assert media.status == "too_large" and report.text == "담벼락 붕괴"
    assert any("너무 커서" in text for text in await bot_texts(app, chat))


async def test_an_audio_recording_is_kept_with_the_report_not_refused(app: E2E) -> None:
    """An audio file (a recorder app's clip) was answered as unsupported and thrown away."""
    for name, lang in (("녹음", "ko"), ("Recording", "en")):
        citizen = await app.citizen(name, lang)
        client, chat = app.client, citizen.id
        await client.send_text(citizen.id, chat, "옆집에서 가스 냄새가 나요")
        await settle(app, chat)
        uploaded = await client.send_document(citizen.id, chat, b"ID3 clip", "clip.m4a")
        file_id = uploaded["document"]["file_id"]
        sender = {"id": citizen.id, "is_bot": False, "first_name": name, "language_code": lang}
        await client.inject_update(
            "message",
            {
                "message_id": int(uploaded["message_id"]) + 1,
                "date": int(uploaded["date"]),
                "chat": {"id": chat, "type": "private", "first_name": name},
                "from": sender,
                "audio": {
                    "file_id": file_id,
                    "file_unique_id": f"{file_id}-audio",
                    "duration": 12,
                    "mime_type": "audio/mp4",
                    "file_name": "clip.m4a",
                    "file_size": 8,
                },
            },
        )
        await settle(app, chat)
        (report,) = await reports_of(app, citizen.id)
        kept = [m for m in await media_of(app, report.id) if m.file_unique_id == f"{file_id}-audio"]
        assert len(kept) == 1 and kept[0].status == "stored", lang
        unsupported = "죄송합니다" if lang == "ko" else "Sorry"
        assert not any(unsupported in text for text in await bot_texts(app, chat)), lang
