"""The "are you safe?" follow-up: some time after closing, each citizen is asked whether they
are safe and satisfied; the answer lands in the incident's topic and the figures.

Usage::

    asked = await ask_due(session=session, now=now)                       # the sweep
    await record_answer(session=session, followup_id=3, answer="yes", user_id=42, room=room,
                        now=now)                                          # the citizen's button
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlmodel.ext.asyncio.session import AsyncSession

from situation.audit import Actor, record
from situation.cards import label
from situation.outgoing import Outgoing, button
from situation.staffroom import RoomConfig, Topic
from situation.texts import render
from storage.escalations import due_followups, get_followup
from storage.incidents import get_incident
from storage.topics import get_topic

ANSWERS = ("yes", "no")


@dataclass(frozen=True)
class FollowUpAnswer:
    """The citizen's answer button: ``fu:<followup id>:<yes|no>``."""

    PREFIX: ClassVar[str] = "fu"
    followup_id: int
    answer: str

    def pack(self) -> str:
        """Return the callback data string."""
        return f"{self.PREFIX}:{self.followup_id}:{self.answer}"

    @classmethod
    def unpack(cls, data: str) -> FollowUpAnswer | None:
        """Parse callback data made by :meth:`pack`; None if it is not one."""
        parts = data.split(":")
        if len(parts) != 3 or parts[0] != cls.PREFIX or not parts[1].isdigit():
            return None
        if parts[2] not in ANSWERS:
            return None
        return cls(followup_id=int(parts[1]), answer=parts[2])


async def ask_due(*, session: AsyncSession, now: datetime) -> int:
    """Ask every citizen whose follow-up is due; return how many were asked."""
    asked = 0
    for followup in await due_followups(session=session, now=now):
        assert followup.id is not None
        incident = await get_incident(session=session, incident_id=followup.incident_id)
        out = Outgoing(session=session, chat_id=followup.citizen_user_id, lang=followup.language)
        await out.message(
            "staff_followup_question",
            incident=incident.reference if incident else None,
            buttons=[
                [
                    button(
                        label(followup.language, answer), FollowUpAnswer(followup.id, answer).pack()
                    )
                ]
                for answer in ANSWERS
            ],
        )
        followup.asked_at = now
        session.add(followup)
        asked += 1
    await session.flush()
    return asked


async def record_answer(
    *,
    session: AsyncSession,
    followup_id: int,
    answer: str,
    user_id: int,
    room: RoomConfig,
    now: datetime,
) -> bool:
    """Store a citizen's answer (the first one counts) and post it in the incident's topic."""
    followup = await get_followup(session=session, followup_id=followup_id)
    if followup is None or followup.citizen_user_id != user_id or answer not in ANSWERS:
        return False
    out = Outgoing(session=session, chat_id=user_id, lang=followup.language)
    if followup.answer is not None:
        await out.message("staff_followup_thanks", answer=followup.answer, again=True)
        return False
    followup.answer = answer
    followup.answered_at = now
    session.add(followup)
    await session.flush()
    await out.message("staff_followup_thanks", answer=answer, again=False)
    await record(
        session=session,
        incident_id=followup.incident_id,
        action="followup",
        actor=Actor(user_id=None, name="citizen"),
        now=now,
        after={"answer": answer},
    )
    topic = await get_topic(session=session, incident_id=followup.incident_id)
    if topic is not None:
        out_topic = Topic(session=session, topic=topic)
        await out_topic.send("reopen_topic", {})
        await out_topic.text(render(room.lang, "staff_followup_answer", answer=answer))
        await out_topic.send("close_topic", {})
    return True
