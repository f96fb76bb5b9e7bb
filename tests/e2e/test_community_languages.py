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
