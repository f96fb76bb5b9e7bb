"""End to end: what a merge of duplicate incidents does to the target's acknowledgement clock
and to its acknowledgement and holder."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.citizen_helpers import CITY_HALL, bot_texts
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import (
    button_data,
    card,
    press,
    report_fire,
    seed_staff,
    sweep,
    text_of,
    topic_messages,
    topics,
)

GANGNAM = (37.4979, 127.0276)


async def merge_into(app: E2E, user_id: int, source_thread: int) -> None:
    """Merge the incident of ``source_thread`` into the other open one with the card's buttons."""
    source_card = await card(app, source_thread)
    await press(app, user_id, source_card, button_data(source_card, "st:mrg:"))
    source_card = await card(app, source_thread)
    await press(app, user_id, source_card, button_data(source_card, "st:mrgto:"))


def reminders(messages: list[dict[str, Any]]) -> list[str]:
    """The escalation reminders among a topic's messages."""
    return [text_of(m) for m in messages if "⏰" in text_of(m) or "🚨" in text_of(m)]


async def test_a_merge_keeps_the_clock_of_the_earliest_unacknowledged_report(app: E2E) -> None:
    """The older incident merged into a newer one: reminders come on the older one's clock."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)  # P1: 2 minutes to acknowledge
    app.clock.advance(timedelta(seconds=90))
    await report_fire(app, "둘째", where=GANGNAM)
    older, newer = await topics(app)
    target = int(newer["message_thread_id"])

    await merge_into(app, app.world.person("정하은").id, int(older["message_thread_id"]))

    # 2 min 5 s after the first report, 35 s after the second: the first's deadline is over.
    app.clock.advance(timedelta(seconds=35))
    await sweep(app)
    shown = reminders(await topic_messages(app, target))
    assert len(shown) == 1 and "2분 경과" in shown[0]
    assert "(초과)" in text_of(await card(app, target))
    app.clock.advance(timedelta(minutes=2))  # the lead's step, on the same clock
    await sweep(app)
    assert len(reminders(await topic_messages(app, target))) == 2


async def test_a_merge_never_restarts_a_clock_that_already_reminded(app: E2E) -> None:
    """A reminder already posted is not posted again; the next step stays on the old clock."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    app.clock.advance(timedelta(minutes=2, seconds=5))
    await sweep(app)  # the first incident's team reminder
    await report_fire(app, "둘째", where=GANGNAM)
    older, newer = await topics(app)
    target = int(newer["message_thread_id"])

    await merge_into(app, app.world.person("정하은").id, int(older["message_thread_id"]))
    await sweep(app)
    assert reminders(await topic_messages(app, target)) == []  # the team step was done

    app.clock.advance(timedelta(minutes=2))  # 4 min 5 s after the first report: the lead's
    await sweep(app)
    (lead,) = reminders(await topic_messages(app, target))
    assert "조장" in lead and "4분 경과" in lead


async def test_merging_a_taken_incident_acknowledges_the_target(app: E2E) -> None:
    """The target inherits the acknowledgement and the holder; its citizens are told; no chase."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    second = await report_fire(app, "둘째", where=GANGNAM)
    taken, new = await topics(app)
    haeun = app.world.person("정하은")
    taken_card = await card(app, int(taken["message_thread_id"]))
    await press(app, haeun.id, taken_card, button_data(taken_card, "st:take:"))
    target = int(new["message_thread_id"])

    await merge_into(app, haeun.id, int(taken["message_thread_id"]))

    target_card = text_of(await card(app, target))
    assert "담당: 정하은" in target_card and "접수됨" in target_card
    _, new = await topics(app)
    assert new["name"].startswith("🟡")
    assert any("확인했습니다" in text for text in await bot_texts(app, second.id))
    app.clock.advance(timedelta(minutes=10))
    await sweep(app)
    assert reminders(await topic_messages(app, target)) == []
