"""End to end: a citizen edits a message; the report, the citizen and the staff room follow."""

from __future__ import annotations

from sandbox.images import tiny_png
from tests.e2e.citizen_helpers import (
    CITY_HALL,
    all_incidents,
    bot_texts,
    media_of,
    reports_of,
    settle,
)
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import (
    button_data,
    card,
    press,
    seed_staff,
    text_of,
    topic_messages,
    topics,
)


async def test_an_edited_text_joins_the_report_prompts_119_and_reaches_the_staff(
    app: E2E,
) -> None:
    await seed_staff(app)
    citizen = await app.citizen("Editor", "en")
    client, chat = app.client, citizen.id
    said = await client.send_text(citizen.id, chat, "Flooding on the 3rd floor")
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await app.settle()
    (topic,) = await topics(app)
    thread = int(topic["message_thread_id"])
    assert "P1" not in text_of(await card(app, thread))
    before = len(await bot_texts(app, chat))

    await client.edit_text(
        citizen.id, chat, said["message_id"], "Flooding on the 5th floor, people trapped"
    )
    await app.settle()

    (report,) = await reports_of(app, citizen.id)
    assert report.text == "Flooding on the 5th floor, people trapped" and report.urgent
    answers = (await bot_texts(app, chat))[before:]
    assert "119" in answers[0]  # the urgent prompt comes first
    assert "correction was added" in answers[-1] and (report.reference or "?") in answers[-1]
    shown = [text_of(m) for m in await topic_messages(app, thread) if m["from"]["is_bot"]]
    assert any(
        "Flooding on the 3rd floor" in text and "5th floor, people trapped" in text
        for text in shown
    )
    the_card = await card(app, thread)
    assert "P1" in text_of(the_card) and "5th floor" in text_of(the_card)


async def test_an_edited_caption_joins_the_report_and_the_photo_stays(app: E2E) -> None:
    citizen = await app.citizen("캡션수정", "ko")
    client, chat = app.client, citizen.id
    said = await client.send_photo(citizen.id, chat, tiny_png(rgb=(9, 8, 7)), caption="담벼락 금감")
    await settle(app, chat)
    before = len(await bot_texts(app, chat))

    await client.edit_caption(citizen.id, chat, said["message_id"], "담벼락이 무너졌어요")
    await settle(app, chat)

    (report,) = await reports_of(app, citizen.id)
    assert report.text == "담벼락이 무너졌어요"
    (media,) = await media_of(app, report.id)
    assert media.status == "stored"
    answers = (await bot_texts(app, chat))[before:]
    assert answers and "수정하신 내용" in answers[-1]


async def test_an_edit_after_the_incident_closed_starts_a_new_report(app: E2E) -> None:
    await seed_staff(app)
    citizen = await app.citizen("닫힌신고", "ko")
    client, chat = app.client, citizen.id
    said = await client.send_text(citizen.id, chat, "아파트 3층 복도에서 불이 났어요")
    await client.send_location(citizen.id, chat, *CITY_HALL)
    await app.settle()
    (topic,) = await topics(app)
    the_card = await card(app, int(topic["message_thread_id"]))
    haeun = app.world.person("정하은")
    await press(app, haeun.id, the_card, button_data(the_card, "st:take:"))
    await client.send_text(
        haeun.id,
        app.world.staff_chat_id,
        "/close resolved 진화 완료",
        message_thread_id=int(topic["message_thread_id"]),
    )
    await app.settle()
    (incident,) = await all_incidents(app)
    assert incident.status == "closed"

    await client.edit_text(
        citizen.id, chat, said["message_id"], "다시 연기가 나요, 사람이 갇혔어요"
    )
    await app.settle()

    first, second = await reports_of(app, citizen.id)
    assert first.text == "아파트 3층 복도에서 불이 났어요"
    assert second.text == "다시 연기가 나요, 사람이 갇혔어요" and second.urgent
    assert second.incident_id != incident.id
    answers = (await bot_texts(app, chat))[-3:]
    assert "119" in answers[0] and any((second.reference or "?") in text for text in answers)


async def test_an_edit_that_tells_another_scenario_renames_the_incident_it_alone_made(
    app: E2E,
) -> None:
    """The report turned into a fire but its incident, card and topic stayed a flood."""
    await seed_staff(app)
    for name, lang, first, fixed in (
        ("화재정정", "ko", "도로가 물에 잠겼어요", "건물에서 불이 났어요"),
        ("Fixer", "en", "The street is flooded", "There is a fire in the building"),
    ):
        citizen = await app.citizen(name, lang)
        client, chat = app.client, citizen.id
        said = await client.send_text(citizen.id, chat, first)
        await client.send_location(citizen.id, chat, *CITY_HALL)
        await app.settle()
        (report,) = await reports_of(app, citizen.id)
        assert report.scenario == "inundation", lang

        await client.edit_text(citizen.id, chat, said["message_id"], fixed)
        await app.settle()

        (report,) = await reports_of(app, citizen.id)
        incident = next(i for i in await all_incidents(app) if i.id == report.incident_id)
        assert report.scenario == incident.scenario == "fire", lang
        topic = next(t for t in await topics(app) if (incident.reference or "?") in t["name"])
        assert "🔥" in topic["name"], lang
        the_card = text_of(await card(app, int(topic["message_thread_id"])))
        assert "🔥" in the_card and "침수" not in the_card.split("\n")[0], lang
