"""End to end: under a surge the staff room is fed no faster than Telegram delivers to a group;
the reports that gather meanwhile reach the incident's topic as one digest, none lost."""

from __future__ import annotations

import asyncio

import pytest

from bot.settings import Settings
from tests.e2e.citizen_helpers import CITY_HALL
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import text_of, topic_messages, topics

JOINING = ["둘째", "셋째", "넷째", "다섯째", "여섯째"]


def _slow_staff_group(settings: Settings) -> None:
    settings.sender.group_per_minute = 60  # one message a second into the staff group
    settings.sender.group_burst = 1
    settings.situation_room.queue_limit = 2


async def _report(app: E2E, name: str) -> None:
    citizen = await app.citizen(name)
    await app.client.send_text(citizen.id, citizen.id, f"아파트 복도에서 불이 났어요 ({name})")
    await app.client.send_location(citizen.id, citizen.id, *CITY_HALL)


@pytest.mark.bot_settings.with_args(_slow_staff_group)
async def test_reports_that_come_while_the_staff_queue_is_full_arrive_as_one_digest(
    app: E2E,
) -> None:
    await _report(app, "첫째")
    for _ in range(200):  # the topic opens; its card, pin and map pin fill the staff queue
        if await topics(app):
            break
        await asyncio.sleep(0.05)
    for name in JOINING:  # spaced wider than the projector's passes (0.2 s)
        await _report(app, name)
        await asyncio.sleep(0.4)
    await app.settle(timeout=30)

    (topic,) = await topics(app)
    shown = [text_of(m) for m in await topic_messages(app, int(topic["message_thread_id"]))]
    for name in ["첫째", *JOINING]:
        assert any(f"({name})" in text for text in shown), name  # nobody's report is lost
    # The others joined while the topic's first messages held the queue: one digest lists
    # them all, instead of a message and a map pin each.
    (digest,) = [text for text in shown if "새 신고" in text and "이 건에 연결" in text]
    assert f"새 신고 {len(JOINING)}건" in digest
    assert all(f"({name})" in digest for name in JOINING)
