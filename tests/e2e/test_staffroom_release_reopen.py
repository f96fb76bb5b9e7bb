"""End to end: staff give a held incident back to the queue (/release, 🔓 on the card) and
reopen one closed by mistake (/reopen, ♻️ on the closed card); the refusals (not the holder,
not staff, wrong state, merged away); and the cards of chained merges naming where the reports
live now."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.citizen_helpers import CITY_HALL, all_incidents, bot_texts
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
JAMSIL = (37.5133, 127.1001)


async def write(app: E2E, user_id: int, thread: int, text: str) -> list[str]:
    """Write in a topic as ``user_id``; return what the bot posted there after it."""
    before = len(await topic_messages(app, thread))
    await app.client.send_text(user_id, app.world.staff_chat_id, text, message_thread_id=thread)
    await app.settle()
    return [text_of(m) for m in (await topic_messages(app, thread))[before:] if m["from"]["is_bot"]]


def reminders(messages: list[dict[str, Any]]) -> list[str]:
    """The escalation reminders among a topic's messages."""
    return [text_of(m) for m in messages if "⏰" in text_of(m) or "🚨" in text_of(m)]


async def history(app: E2E, user_id: int, thread: int) -> str:
    """The incident's timeline, as /history shows it."""
    (shown,) = await write(app, user_id, thread, "/history")
    return shown


async def test_the_holder_releases_and_a_released_incident_nobody_takes_escalates_again(
    app: E2E,
) -> None:
    await seed_staff(app)
    await report_fire(app)  # P1: two minutes to acknowledge
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    haeun, daniel = app.world.person("정하은"), app.world.person("Daniel Cho")
    the_card = await card(app, thread)
    await press(app, haeun.id, the_card, button_data(the_card, "st:take:"))

    # Another staff member (no lead) may not release what someone else holds.
    held = await card(app, thread)
    answer = await press(app, daniel.id, held, button_data(held, "st:release:"))
    assert "정하은 님이 담당 중입니다" in answer["text"]
    assert await write(app, daniel.id, thread, "/release") == [
        "정하은 님이 담당 중입니다. 본인이나 조장(lead) 이상만 해제할 수 있습니다."
    ]
    assert "담당: 정하은" in text_of(await card(app, thread))

    # Not staff at all: refused, nothing changes.
    stranger = await app.client.create_user(first_name="Mallory", language_code="en")
    await app.client.add_member(app.world.staff_chat_id, int(stranger["id"]))
    answer = await press(app, int(stranger["id"]), held, button_data(held, "st:release:"))
    assert answer["text"] == "Only situation-room staff can use this."
    assert await write(app, int(stranger["id"]), thread, "/release") == [
        "Only situation-room staff can use this."
    ]
    assert "담당: 정하은" in text_of(await card(app, thread))

    app.clock.advance(timedelta(minutes=10))
    await sweep(app)
    assert reminders(await topic_messages(app, thread)) == []  # held: no reminders

    shown = await write(app, haeun.id, thread, "/release")
    assert len(shown) == 1 and shown[0].startswith("🔓") and "정하은" in shown[0]
    (incident,) = await all_incidents(app)
    assert incident.holder is None and incident.status == "acknowledged"
    released = await card(app, thread)
    assert "담당: 없음" in text_of(released) and "담당 해제됨" in text_of(released)
    button_data(released, "st:take:")  # the card offers Take again
    assert "release" in await history(app, haeun.id, thread)

    # Nothing to release any more.
    assert await write(app, haeun.id, thread, "/release") == [
        "담당자가 없는 사건이라 해제할 것이 없습니다."
    ]

    # Released and nobody picks it up: the chain runs again from the release.
    app.clock.advance(timedelta(minutes=1))
    await sweep(app)
    assert reminders(await topic_messages(app, thread)) == []
    app.clock.advance(timedelta(minutes=1, seconds=5))
    await sweep(app)
    assert len(reminders(await topic_messages(app, thread))) == 1
    assert "(초과)" in text_of(await card(app, thread))

    # Taking it again stops the chain.
    again = await card(app, thread)
    await press(app, daniel.id, again, button_data(again, "st:take:"))
    app.clock.advance(timedelta(minutes=10))
    await sweep(app)
    assert len(reminders(await topic_messages(app, thread))) == 1

    # A lead may release what someone else holds (with the card's button).
    lead = app.world.person("최도윤")
    held = await card(app, thread)
    answer = await press(app, lead.id, held, button_data(held, "st:release:"))
    assert answer["text"].startswith("담당을 해제했습니다")
    (incident,) = await all_incidents(app)
    assert incident.holder is None


async def close_as(app: E2E, user_id: int, thread: int) -> None:
    """Close the topic's incident with /close as ``user_id``."""
    await app.client.send_text(
        user_id, app.world.staff_chat_id, "/close resolved 진화 완료", message_thread_id=thread
    )
    await app.settle()


async def test_staff_reopen_an_incident_closed_by_mistake(app: E2E) -> None:
    await seed_staff(app)
    citizen = await report_fire(app)
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    haeun, daniel = app.world.person("정하은"), app.world.person("Daniel Cho")
    lead = app.world.person("최도윤")
    the_card = await card(app, thread)
    await press(app, haeun.id, the_card, button_data(the_card, "st:take:"))

    # Open: nothing to reopen.
    assert await write(app, lead.id, thread, "/reopen") == [
        "진행 중인 사건이라 다시 열 것이 없습니다."
    ]

    await close_as(app, haeun.id, thread)
    (closed,) = await topics(app)
    assert closed.get("is_closed") is True
    closed_card = await card(app, thread)
    reopen = button_data(closed_card, "st:reopen:")

    # Another staff member, not a lead, did not close it: refused.
    answer = await press(app, daniel.id, closed_card, reopen)
    assert "24시간" in answer["text"]
    stranger = await app.client.create_user(first_name="Mallory", language_code="en")
    await app.client.add_member(app.world.staff_chat_id, int(stranger["id"]))
    answer = await press(app, int(stranger["id"]), closed_card, reopen)
    assert answer["text"] == "Only situation-room staff can use this."
    (incident,) = await all_incidents(app)
    assert incident.status == "closed"

    # Whoever closed it reopens it (the closed topic is no place they can write: the button).
    app.clock.advance(timedelta(minutes=30))
    answer = await press(app, haeun.id, closed_card, reopen)
    assert answer["text"] == "다시 열었습니다."
    (incident,) = await all_incidents(app)
    assert incident.status == "new" and incident.holder is None and incident.closed_at is None
    (reopened,) = await topics(app)
    assert reopened["name"].startswith("🔴") and not reopened.get("is_closed")
    redrawn = await card(app, thread)
    assert "담당: 없음" in text_of(redrawn) and "진화 완료" not in text_of(redrawn)
    button_data(redrawn, "st:take:")
    told = (await bot_texts(app, citizen.id))[-1]
    assert "다시 열렸습니다" in told and str(incident.reference) in told
    assert any(text_of(m).startswith("♻️") for m in await topic_messages(app, thread))
    assert "reopen" in await history(app, haeun.id, thread)

    # Its deadline runs again from the reopening (P1: two minutes).
    app.clock.advance(timedelta(minutes=2, seconds=5))
    await sweep(app)
    assert len(reminders(await topic_messages(app, thread))) == 1

    # The first closing's follow-up is dropped: nobody is asked about an open incident.
    app.clock.advance(timedelta(hours=2))
    await sweep(app)
    assert not [t for t in await bot_texts(app, citizen.id) if "안전하신가요" in t]

    # Closed again; a day later only a lead may reopen it.
    await close_as(app, haeun.id, thread)
    app.clock.advance(timedelta(hours=25))
    closed_card = await card(app, thread)
    answer = await press(app, haeun.id, closed_card, button_data(closed_card, "st:reopen:"))
    assert "24시간" in answer["text"]
    shown = await write(app, lead.id, thread, "/reopen")
    assert [text for text in shown if text.startswith("♻️")]  # the note says it, no answer
    assert not [text for text in shown if "다시 열 수" in text]
    (incident,) = await all_incidents(app)
    assert incident.status == "new"


async def threads(app: E2E) -> dict[int, int]:
    """Each incident's topic thread, by incident id (topics open in the incidents' order)."""
    incidents = await all_incidents(app)
    found = [int(topic["message_thread_id"]) for topic in await topics(app)]
    return {
        int(incident.id or 0): thread for incident, thread in zip(incidents, found, strict=True)
    }


async def merge(app: E2E, user_id: int, source_id: int, target_id: int) -> None:
    """Merge incident ``source_id`` into ``target_id`` with the source card's buttons."""
    thread = (await threads(app))[source_id]
    source_card = await card(app, thread)
    await press(app, user_id, source_card, button_data(source_card, "st:mrg:"))
    source_card = await card(app, thread)
    await press(app, user_id, source_card, f"st:mrgto:{source_id}:{target_id}")


def links(message: dict[str, Any]) -> list[str]:
    """The URLs a message links to."""
    return [str(e["url"]) for e in message.get("entities") or [] if e.get("type") == "text_link"]


async def test_a_merged_away_incident_is_not_reopened_and_names_its_target(app: E2E) -> None:
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    await report_fire(app, "둘째", where=GANGNAM)
    first, second = await all_incidents(app)
    assert first.id is not None and second.id is not None
    lead = app.world.person("최도윤")
    thread = (await threads(app))[first.id]
    await merge(app, lead.id, first.id, second.id)

    merged_card = await card(app, thread)
    assert not merged_card.get("reply_markup", {}).get("inline_keyboard")  # no reopen button
    (shown,) = await write(app, lead.id, thread, "/reopen")
    assert str(second.reference) in shown and "진행 중이니" in shown
    first, _ = await all_incidents(app)
    assert first.status == "closed" and first.merged_into_id == second.id


async def test_a_chained_merge_redraws_earlier_cards_to_name_the_last_target(app: E2E) -> None:
    """A into B, then B into C: A's card names C and links C's topic, not B's closed one."""
    await seed_staff(app)
    await report_fire(app, "첫째", where=CITY_HALL)
    await report_fire(app, "둘째", where=GANGNAM)
    await report_fire(app, "셋째", where=JAMSIL)
    a, b, c = await all_incidents(app)
    assert a.id is not None and b.id is not None and c.id is not None
    haeun = app.world.person("정하은")
    thread = await threads(app)
    await merge(app, haeun.id, a.id, b.id)
    a_card = text_of(await card(app, thread[a.id]))
    assert f"{b.reference} 건으로 병합됨" in a_card

    await merge(app, haeun.id, b.id, c.id)

    a_card_message = await card(app, thread[a.id])
    assert f"{c.reference} 건으로 병합됨" in text_of(a_card_message)
    assert str(b.reference) not in text_of(a_card_message).split("병합됨")[0].split("🔗")[-1]
    assert any(url.endswith(f"/{thread[c.id]}") for url in links(a_card_message))
    b_card_message = await card(app, thread[b.id])
    assert f"{c.reference} 건으로 병합됨" in text_of(b_card_message)
    assert any(url.endswith(f"/{thread[c.id]}") for url in links(b_card_message))
