"""Helpers of the community end-to-end tests: seed the demo world, read the database."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from community.callbacks import OpenCommunity
from community.outgoing import button, send_text
from community.registry import seed_demo_experts
from situation.roles import seed_demo_staff
from storage.incidents import create_incident
from storage.models.communities import Community, CommunityMember, CommunityMessage
from storage.models.incidents import Incident
from tests.e2e.conftest import E2E


async def seed(app: E2E) -> None:
    """Register the demo staff (with roles) and the demo experts (verified)."""
    async with app.runtime.session_factory() as session, session.begin():
        await seed_demo_staff(
            session=session,
            world_staff=[(p.id, p.name, p.role) for p in app.world.staff],
        )
        await seed_demo_experts(
            session=session,
            experts=app.world.experts,
        )


async def incident_with_card(
    app: E2E, *, scenario: str = "fire", reference: str = "I-20261122-0042"
) -> tuple[int, int, int]:
    """Create an incident, its staff topic and a card with the "Open expert community" button.

    Returns (incident id, staff topic id, card message id).
    """
    lead = app.world.person("최도윤")
    topic = await app.client.create_topic(app.world.staff_chat_id, "🔥 화재 test", user_id=lead.id)
    thread_id = int(topic["message_thread_id"])
    async with app.runtime.session_factory() as session, session.begin():
        incident = await create_incident(
            session=session,
            incident=Incident(
                scenario=scenario,
                reference=reference,
                priority="P1",
                district_name="종로구",
                latitude=37.5729,
                longitude=126.9794,
                report_count=2,
                topic_id=thread_id,
            ),
        )
        assert incident.id is not None
        await send_text(
            session=session,
            chat_id=app.world.staff_chat_id,
            thread_id=thread_id,
            text=f"incident {incident.reference}",
            buttons=[[button("🧑‍🔬 Open expert community", OpenCommunity(incident.id).pack())]],
        )
    card = await app.client.wait_for_message(
        app.world.staff_chat_id, message_thread_id=thread_id, contains=incident.reference
    )
    return incident.id, thread_id, int(card["message_id"])


async def community_of(app: E2E, incident_id: int) -> Community:
    """Return the incident's community."""
    async with app.runtime.session_factory() as session:
        statement = select(Community).where(col(Community.incident_id) == incident_id)
        return (await session.exec(statement)).one()


async def members_of(app: E2E, community_id: int) -> list[CommunityMember]:
    """Return a community's members."""
    async with app.runtime.session_factory() as session:
        statement = select(CommunityMember).where(col(CommunityMember.community_id) == community_id)
        return list((await session.exec(statement)).all())


async def transcript_of(app: E2E, community_id: int) -> list[CommunityMessage]:
    """Return a community's stored transcript."""
    async with app.runtime.session_factory() as session:
        statement = (
            select(CommunityMessage)
            .where(col(CommunityMessage.community_id) == community_id)
            .order_by(col(CommunityMessage.id))
        )
        return list((await session.exec(statement)).all())


def links_in(message: dict[str, Any]) -> list[str]:
    """Return the URLs of a message's text links."""
    return [str(e["url"]) for e in message.get("entities", []) if e.get("type") == "text_link"]


async def open_and_invite(
    app: E2E, incident_id: int, thread_id: int, card_id: int
) -> tuple[Community, int]:
    """Open the incident's community from its card and send the invitations, as the lead.

    Returns the community and the message id of its panel in the staff topic.
    """
    lead, staff_chat = app.world.person("최도윤"), app.world.staff_chat_id
    await app.client.press_button(lead.id, staff_chat, card_id, f"com:open:{incident_id}")
    await app.settle()
    community = await community_of(app, incident_id)
    panel = await app.client.wait_for_message(
        staff_chat, message_thread_id=thread_id, contains="전문가 커뮤니티"
    )
    await app.client.press_button(
        lead.id, staff_chat, int(panel["message_id"]), f"com:send:{community.id}"
    )
    return community, int(panel["message_id"])


async def join_with_invitation(app: E2E, user_id: int) -> None:
    """Have an invited expert ask to join with the link of their invitation, and settle."""
    [link] = links_in(await app.client.wait_for_message(user_id, contains="비상 커뮤니티 초대"))
    await app.client.join_request(user_id, link)
    await app.settle()
