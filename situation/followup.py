"""The "are you safe?" follow-up: some time after closing, each citizen is asked whether they
are safe and satisfied; the answer lands in the incident's topic and the figures, and a "no"
brings the incident back to the staff room (reopened, its deadline running again).

Usage::

    asked = await ask_due(session=session, now=now)                       # the sweep
    await record_answer(session=session, followup_id=3, answer="yes", user_id=42, room=room,
                        now=now)                                          # the citizen's button
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlmodel.ext.asyncio.session import AsyncSession

from community.lifecycle import on_incident_reopened
from situation.audit import Actor, record
from situation.cards import label
from situation.deadlines import restart_deadline
from situation.outgoing import Outgoing, button
from situation.relay import merge_target
from situation.staffroom import RoomConfig, Topic, refresh_card
from situation.texts import render
from storage.citizens import find_citizen
from storage.escalations import drop_pending_followups, due_followups, get_followup
from storage.incidents import get_incident, lock_incident, save_incident
from storage.models.incidents import Incident, IncidentStatus
from storage.models.topics import TopicState
from storage.reports import reports_of_incident, save_report
from storage.topics import get_topic, save_topic

ANSWERS = ("yes", "no")
CITIZEN = Actor(user_id=None, name="citizen")


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
    """Store a citizen's answer (the first one counts) and post it in the incident's topic.

    A "no" (not safe, still needs help) brings a closed incident back to the room: see
    :func:`reopen`. An incident merged away since is left merged: the answer goes to the
    incident it was merged into, where the citizen's report is now.
    """
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
    await record(
        session=session,
        incident_id=followup.incident_id,
        action="followup",
        actor=CITIZEN,
        now=now,
        after={"answer": answer},
    )
    # Locked: two citizens answering "no" at once must not both reopen it.
    incident = await lock_incident(session=session, incident_id=followup.incident_id)
    if incident is not None and incident.merged_into_id is not None:
        # Merged away (after a reopening): the citizen's report lives on in the target, and
        # the merged incident must stay merged (reopened, it would be an empty case chased).
        target = await merge_target(session=session, incident=incident)
        assert target.id is not None
        incident = await lock_incident(session=session, incident_id=target.id)
    was_closed = incident is not None and incident.status == IncidentStatus.CLOSED
    reopened = False
    if answer == "no" and incident is not None:
        reopened = await reopen(
            session=session, incident=incident, citizen_user_ids=(user_id,), room=room, now=now
        )
    await out.message(
        "staff_followup_thanks",
        answer=answer,
        again=False,
        reference=incident.reference if incident is not None and answer == "no" else None,
    )
    where = incident.id if incident is not None and incident.id is not None else None
    topic = await get_topic(session=session, incident_id=where or followup.incident_id)
    if topic is not None:
        out_topic = Topic(session=session, topic=topic)
        line = render(room.lang, "staff_followup_answer", answer=answer, reopened=reopened)
        if reopened:
            await out_topic.text(line)  # the topic was reopened for good by reopen()
        elif was_closed:  # reopened for the line only, closed again
            await out_topic.send("reopen_topic", {})
            await out_topic.text(line)
            await out_topic.send("close_topic", {})
        else:  # the incident is open again already (another citizen said no)
            await out_topic.text(line)
    if reopened and incident is not None and incident.id is not None:
        # Its expert community closed with it: staff are offered to reopen it, after the line.
        await on_incident_reopened(session=session, incident_id=incident.id, lang=room.lang)
    return True


async def reopen(
    *,
    session: AsyncSession,
    incident: Incident,
    room: RoomConfig,
    now: datetime,
    citizen_user_ids: Collection[int] = (),
    actor: Actor = CITIZEN,
    reason: str = "followup_no",
) -> bool:
    """Bring a closed incident back to the room; False if it is open.

    A citizen's "no" to the follow-up, or staff reopening an incident closed by mistake
    (``situation.triage.reopen_incident``). The incident is new again with nobody holding it,
    its topic is reopened and its card redrawn, its acknowledgement deadline runs again from
    now, its follow-ups not asked yet are dropped, and the latest report of each citizen of
    ``citizen_user_ids`` in it is active again so what they write next joins the topic.
    """
    assert incident.id is not None
    if incident.status != IncidentStatus.CLOSED:
        return False
    before = {
        "status": incident.status,
        "holder": incident.holder,
        "closing_note": incident.closing_note,
    }
    incident.status = IncidentStatus.NEW
    incident.holder = None
    incident.closed_at = None
    incident.closing_note = None
    incident.updated_at = now
    await save_incident(session=session, incident=incident)
    await restart_deadline(session=session, incident=incident, room=room, now=now)
    # Nobody is asked "are you safe?" about an incident that is open again; closing it again
    # schedules the follow-ups afresh.
    await drop_pending_followups(session=session, incident_id=incident.id)
    reports = await reports_of_incident(session=session, incident_id=incident.id)
    for citizen_user_id in citizen_user_ids:
        citizen = await find_citizen(session=session, telegram_user_id=citizen_user_id)
        if citizen is None:
            continue
        theirs = [
            report
            for report in reports
            if report.citizen_id == citizen.id and report.sealed_at is None
        ]
        if theirs:  # their latest report takes their next words (the intake's window)
            theirs[-1].last_message_at = now
            theirs[-1].updated_at = now
            await save_report(session=session, report=theirs[-1])
    await record(
        session=session,
        incident_id=incident.id,
        action="reopen",
        actor=actor,
        now=now,
        before=before,
        after={"status": incident.status, "reason": reason},
    )
    topic = await get_topic(session=session, incident_id=incident.id)
    if topic is not None:
        await Topic(session=session, topic=topic).send("reopen_topic", {})
        topic.state = TopicState.OPEN
        topic.updated_at = now
        await save_topic(session=session, topic=topic)
    await refresh_card(session=session, incident=incident, room=room, now=now)
    return True
