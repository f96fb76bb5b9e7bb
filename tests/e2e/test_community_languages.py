"""An English-speaking expert reads the community's name in English, from invitation to thanks."""

from __future__ import annotations

from community.registry import Registration, register, verify
from tests.e2e.community_helpers import (
    incident_with_card,
    links_in,
    open_and_invite,
    seed,
)
from tests.e2e.conftest import E2E


async def test_an_english_expert_reads_the_community_name_in_english(app: E2E) -> None:
    """Approval and thanks name the community "Fire", not "화재", for an English expert."""
    await seed(app)
    user = await app.client.create_user(first_name="Jane Park", language_code="en")
    uid = int(user["id"])
    lead_id = app.world.person("최도윤").id
    await app.client.start_bot(uid, app.token)
    async with app.runtime.session_factory() as session, session.begin():
        expert = await register(
            session=session,
            telegram_user_id=uid,
            registration=Registration(name="Jane Park", fields=["fire"], language="en"),
            now=app.clock.now(),
        )
        assert expert.id is not None
        await verify(
            session=session,
            expert_id=expert.id,
            verifier_id=lead_id,
            approve=True,
            now=app.clock.now(),
        )
    await app.settle()
    lead = app.world.person("최도윤")
    staff_chat = app.world.staff_chat_id
    incident_id, thread_id, card_id = await incident_with_card(app)
    await open_and_invite(app, incident_id, thread_id, card_id)
    [link] = links_in(await app.client.wait_for_message(uid, contains="community invitation"))
    await app.client.join_request(uid, link)
    approved = await app.client.wait_for_message(uid, contains="You are in")
    assert "I-20261122-0042 Fire" in str(approved.get("text"))
    await app.client.send_text(lead.id, staff_chat, "/closecommunity", message_thread_id=thread_id)
    thanks = await app.client.wait_for_message(uid, contains="Thank you")
    assert "I-20261122-0042 Fire" in str(thanks.get("text"))
    assert "화재" not in str(approved.get("text")) + str(thanks.get("text"))


async def test_an_expert_hears_their_registered_language_in_private_whatever_the_app_says(
    app: E2E,
) -> None:
    """/start, /away and /available answer in the registry's language, like the invitations."""
    said: dict[str, list[str]] = {}
    for name, app_language, registered in (("Jane Park", "ko", "en"), ("한지훈", "en", "ko")):
        user = await app.client.create_user(first_name=name, language_code=app_language)
        uid = int(user["id"])
        async with app.runtime.session_factory() as session, session.begin():
            await register(
                session=session,
                telegram_user_id=uid,
                registration=Registration(name=name, fields=["fire"], language=registered),
                now=app.clock.now(),
            )
        for command in ("/start", "/away", "/available"):
            await app.client.send_text(uid, uid, command)
            await app.settle()
        said[registered] = [
            str(m.get("text"))
            for m in await app.client.messages(uid)
            if m.get("from", {}).get("is_bot")
        ][-3:]
    english, korean = said["en"], said["ko"]
    assert "Welcome, Jane Park" in english[0], english
    assert "You are away" in english[1] and "You are available" in english[2], english
    assert "한지훈님, 안녕하세요" in korean[0], korean
    assert "부재 중" in korean[1] and "초대를 받을 수 있는" in korean[2], korean
