"""End to end: /forget removes a citizen's personal data and keeps the anonymous incident."""

from __future__ import annotations

from pathlib import Path

from sandbox.images import tiny_png
from tests.e2e.citizen_helpers import (
    CITY_HALL,
    all_incidents,
    bot_messages,
    media_of,
    reports_of,
    settle,
)
from tests.e2e.conftest import E2E


async def test_forget_removes_personal_data(app: E2E) -> None:
    citizen = await app.citizen("지울사람", "ko")
    client, chat = app.client, citizen.id
    await client.send_text(citizen.id, chat, "도로가 침수됐어요 제 번호는 010-0000-0000")
    await client.send_photo(citizen.id, chat, tiny_png(rgb=(1, 2, 3)))
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await settle(app, chat)
    (report,) = await reports_of(app, citizen.id)
    (media,) = await media_of(app, report.id)
    stored = Path(app.settings.media_dir) / (media.path or "")
    assert stored.exists()

    await client.send_text(citizen.id, chat, "/forget")
    await settle(app, chat)
    question = (await bot_messages(app, chat))[-1]
    yes = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await client.press_button(citizen.id, chat, question["message_id"], yes)
    await settle(app, chat)

    assert await reports_of(app, citizen.id) == []  # no citizen has this Telegram id any more
    (kept,) = await media_of(app, report.id)
    assert kept.status == "purged" and kept.path is None and kept.file_id is None
    assert not stored.exists()
    (incident,) = await all_incidents(app)
    assert incident.report_count == 1 and incident.district_name == "중구"
    assert "삭제했습니다" in ((await bot_messages(app, chat))[-1].get("text") or "")
