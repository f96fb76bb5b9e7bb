"""Citizens take part only through the bot: staff relay their words in and experts' answers out.

Usage (inside the update's transaction)::

    await citizen_to_community(session=session, community=community, text=text, now=now)
    result = await community_to_citizens(session=session, community=community, room=room,
                                         actor=Actor(user_id=7, name="최도윤"), text=text,
                                         message_id=hub_message_id, now=now)

The community never sees who the citizen is, and citizens get the answer signed by the
situation room, never by the expert.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from community.errors import CommunityError
from community.outgoing import send_text
from community.transcript import record_message
from situation.audit import Actor
from situation.relay import RelayResult, StaffMessage, relay_staff_message
from situation.staffroom import RoomConfig
from situation.texts import render
from storage.models.communities import Community, CommunityState
from storage.models.incidents import Incident

CITIZEN_ROLE = "citizen"
CITIZEN_NAME = "citizen"


def _require_open(community: Community) -> None:
    if community.state != CommunityState.OPEN or community.topic_id is None:
        raise CommunityError("community_error_closed")


async def citizen_to_community(
    *, session: AsyncSession, community: Community, text: str, now: datetime, lang: str = "ko"
) -> None:
    """Post a reporting citizen's words in the community, without who they are."""
    _require_open(community)
    if not text.strip():
        raise CommunityError("community_error_no_target")
    assert community.topic_id is not None
    await send_text(
        session=session,
        chat_id=community.hub_chat_id,
        thread_id=community.topic_id,
        text=render(lang, "community_relay_citizen", text=text.strip()),
    )
    await record_message(
        session=session,
        community=community,
        message_id=None,
        author_id=None,
        author_name=CITIZEN_NAME,
        author_role=CITIZEN_ROLE,
        kind="relay",
        text=text.strip(),
        now=now,
    )


async def community_to_citizens(
    *,
    session: AsyncSession,
    community: Community,
    room: RoomConfig,
    actor: Actor,
    text: str,
    message_id: int,
    now: datetime,
) -> RelayResult:
    """Send an answer from the community to the incident's citizens, as the situation room.

    ``message_id`` is the hub message that asked for it: each one is delivered once.
    """
    _require_open(community)
    incident = await session.get(Incident, community.incident_id)
    thread_id = (incident.topic_id if incident is not None else None) or community.staff_thread_id
    if community.staff_chat_id is None or thread_id is None or not text.strip():
        raise CommunityError("community_error_no_target")
    return await relay_staff_message(
        session=session,
        room=room,
        message=StaffMessage(
            chat_id=community.staff_chat_id,
            thread_id=int(thread_id),
            message_id=message_id,
            kind="text",
            actor=actor,
            text=text.strip(),
            to_all=True,
            source_chat_id=community.hub_chat_id,
        ),
        now=now,
    )
