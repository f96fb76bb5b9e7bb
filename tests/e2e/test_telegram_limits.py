"""End to end: with the sandbox enforcing Telegram's default limits, and the sender at its
default settings, nothing the bot sends is answered 429."""

from __future__ import annotations

import asyncio

import pytest

from bot.api_calls import rate_limit_tally
from bot.settings import SenderSettings, Settings
from sandbox.images import tiny_png
from tests.e2e.citizen_helpers import CITY_HALL, bot_messages, bot_text, north_of, settle
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import text_of, topic_messages, topics


def _telegram_defaults(settings: Settings) -> None:
    settings.sender = SenderSettings()


async def _assert_no_429(app: E2E) -> None:
    assert await app.client.rate_limited() == []  # the sandbox refused nothing
    assert rate_limit_tally(app.runtime.bot).count == 0  # and the bot saw no 429 at all


@pytest.mark.bot_settings.with_args(_telegram_defaults)
async def test_a_citizens_burst_of_replies_causes_no_429(app: E2E) -> None:
    """Fire words, a photo and a location: four replies to one chat within a second or two."""
    await app.client.set_rate_limits(True)
    citizen = await app.citizen("김급해", "ko")
    chat = citizen.id
    await app.client.send_text(citizen.id, chat, "아파트 3층 복도에서 불이 났어요")
    await app.client.send_photo(citizen.id, chat, tiny_png(rgb=(250, 80, 0)))
    await app.client.send_location(citizen.id, chat, *CITY_HALL)
    await settle(app, chat, timeout=30)

    texts = [bot_text(m) for m in await bot_messages(app, chat)]
    assert len(texts) >= 4, texts
    assert "119" in texts[0]  # call 119 first, then the manual, then the confirmation
    manual = next(i for i, text in enumerate(texts) if "불이야" in text)
    confirmation = next(i for i, text in enumerate(texts) if "접수번호" in text)
    assert manual < confirmation
    await _assert_no_429(app)


@pytest.mark.bot_settings.with_args(_telegram_defaults)
async def test_a_new_incidents_burst_into_the_staff_group_causes_no_429(app: E2E) -> None:
    """A topic, its card, pin, map and an album of photos go to the staff group at once."""
    await app.client.set_rate_limits(True)
    citizen = await app.citizen("박사진", "ko")
    chat = citizen.id
    photos = [tiny_png(rgb=(10 * i, 120, 60)) for i in range(3)]
    await app.client.send_album(citizen.id, chat, photos, caption="지붕이 무너졌어요")
    await app.client.send_location(citizen.id, chat, *CITY_HALL)
    await app.settle(timeout=60)

    (topic,) = await topics(app)
    shown = await topic_messages(app, int(topic["message_thread_id"]))
    assert sum(1 for m in shown if m.get("photo")) == len(photos)
    assert any("지붕이 무너졌어요" in text_of(m) for m in shown)
    await _assert_no_429(app)


@pytest.mark.bot_settings.with_args(_telegram_defaults)
async def test_many_citizens_at_once_cause_no_429(app: E2E) -> None:
    """Citizens reporting together share the bot's overall limit and the staff group's."""
    await app.client.set_rate_limits(True)
    citizens = [await app.citizen(f"시민{i}", "ko") for i in range(8)]
    await asyncio.gather(
        *(
            app.client.send_text(c.id, c.id, f"지하 주차장에 물이 차올라요 ({i})")
            for i, c in enumerate(citizens)
        )
    )
    await asyncio.gather(
        *(
            app.client.send_location(c.id, c.id, *north_of(CITY_HALL, 5_000 * i))
            for i, c in enumerate(citizens)
        )
    )
    await settle(app, *(c.id for c in citizens), timeout=60)

    for citizen in citizens:
        texts = [bot_text(m) for m in await bot_messages(app, citizen.id)]
        assert any("접수번호" in text for text in texts), texts
    await _assert_no_429(app)
