"""What staff do to an incident from its card: take, release, prioritise, change scenario,
merge, hand over to an agency, close, reopen. Each action records an audit event and queues
every message it causes (card edit, topic rename, citizens' notices) in the caller's
transaction.

Usage::

    outcome = await take(session=session, incident_id=7, actor=actor, room=room, now=now)
    outcome.ok, outcome.answer          # the short answer shown to the staff member
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from markupsafe import Markup
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from community.hub_work import HubWork
from community.lifecycle import on_incident_closed, on_incident_reopened
from community.ports import HubAdmin
from situation import notify, scenarios
from situation.agencies import METHODS
from situation.audit import Actor, record
from situation.cards import (
    CANNED,
    CLOSE_REASONS,
    PRIORITIES,
    StaffAction,
    agency_buttons,
    canned_buttons,
    card_buttons,
    close_buttons,
    label,
    merge_buttons,
    method_buttons,
    scenario_buttons,
)
from situation.deadlines import (
    cancel_deadline,
    chased,
    merge_deadlines,
    reprioritise_deadline,
    restart_deadline,
)
from situation.followup import reopen
from situation.incidents import higher_priority
from situation.intake import send_manual
from situation.limits import TEXT_LIMIT, clip, room_for
from situation.outgoing import Outgoing
from situation.relay import merge_target, recipients, send_canned
from situation.roles import at_least
from situation.staffroom import (
    RoomConfig,
    Topic,
    incident_topic_link,
    post_moved_media,
    refresh_card,
    show_menu,
)
from situation.texts import LANGUAGES, render
from storage.audit import last_event
from storage.escalations import (
    add_followup,
    add_handover,
    handovers_of_incident,
    move_handovers,
)
from storage.incidents import get_incident, lock_incident, merged_into, save_incident
from storage.models.escalations import AgencyHandover, FollowUp
from storage.models.incidents import Incident, IncidentStatus
from storage.models.staff import StaffRole
from storage.models.topics import TopicState
from storage.reports import reports_of_incident, save_report
from storage.staff import staff_names
from storage.topics import get_topic, save_topic


@dataclass(frozen=True)
class Outcome:
    """The result of a staff action: whether it changed anything and what to answer."""

    ok: bool
    answer: str


async def _open_incident(
    session: AsyncSession, incident_id: int, room: RoomConfig
) -> tuple[Incident | None, Outcome | None]:
    # Locked: two presses on one card (two workers) must not both act on what they read.
    incident = await lock_incident(session=session, incident_id=incident_id)
    if incident is None:
        return None, Outcome(False, render(room.lang, "staff_answer", key="unknown"))
    if incident.status == IncidentStatus.CLOSED:
        return None, Outcome(False, render(room.lang, "staff_answer", key="closed"))
    return incident, None


async def _topic_note(session: AsyncSession, incident_id: int, text: str) -> None:
    topic = await get_topic(session=session, incident_id=incident_id)
    if topic is not None:
        await Topic(session=session, topic=topic).text(text)


def _acknowledge(incident: Incident, actor: Actor, now: datetime) -> bool:
    """Mark the incident acknowledged by ``actor``; return whether this is the first time."""
    first = incident.acknowledged_at is None
    if first:
        incident.acknowledged_at = now
    if incident.status == IncidentStatus.NEW:
        incident.status = IncidentStatus.ACKNOWLEDGED
    if incident.holder is None and actor.user_id is not None:
        incident.holder = str(actor.user_id)
    return first


async def take(
    *,
    session: AsyncSession,
    incident_id: int,
    actor: Actor,
    room: RoomConfig,
    now: datetime,
    over: bool = False,
) -> Outcome:
    """Assign the incident to ``actor`` and acknowledge it (the citizens are told once).

    A plain take of an incident someone else holds is refused with their name: the presser
    saw the card before the other's take. Taking it over (``over``) is its own button.
    """
    incident, refused = await _open_incident(session, incident_id, room)
    if incident is None:
        assert refused is not None
        return refused
    if incident.holder == str(actor.user_id):
        return Outcome(False, render(room.lang, "staff_answer", key="already_yours"))
    if incident.holder and not over:
        holder = int(incident.holder)
        name = (await staff_names(session=session, user_ids=[holder])).get(holder, incident.holder)
        return Outcome(False, render(room.lang, "staff_answer", key="held_by", value=name))
    before = {"holder": incident.holder, "status": incident.status}
    incident.holder = str(actor.user_id)
    first = _acknowledge(incident, actor, now)
    incident.updated_at = now
    await save_incident(session=session, incident=incident)
    await cancel_deadline(session=session, incident_id=incident_id, now=now)
    await record(
        session=session,
        incident_id=incident_id,
        action="take",
        actor=actor,
        now=now,
        before=before,
        after={"holder": incident.holder, "status": incident.status},
    )
    if first:
        await notify.incident_acknowledged(session=session, incident_id=incident_id)
    await _topic_note(
        session, incident_id, render(room.lang, "staff_taken", who=actor.mention, first=first)
    )
    await refresh_card(session=session, incident=incident, room=room, now=now)
    return Outcome(True, render(room.lang, "staff_answer", key="taken"))


async def release(
    *,
    session: AsyncSession,
    incident_id: int,
    actor: Actor,
    role: str | None,
    room: RoomConfig,
    now: datetime,
) -> Outcome:
    """Give a held incident back to the queue (its holder, or a lead): nobody holds it, and its
    acknowledgement reminders run again from now until someone takes it.

    It stays acknowledged (its citizens were told; nothing is said to them again).
    """
    incident, refused = await _open_incident(session, incident_id, room)
    if incident is None:
        assert refused is not None
        return refused
    if incident.holder is None:
        return Outcome(False, render(room.lang, "staff_answer", key="not_held"))
    if incident.holder != str(actor.user_id) and not at_least(role, StaffRole.LEAD):
        holder = int(incident.holder)
        name = (await staff_names(session=session, user_ids=[holder])).get(holder, incident.holder)
        return Outcome(False, render(room.lang, "staff_answer", key="not_holder", value=name))
    before = {"holder": incident.holder}
    incident.holder = None
    incident.updated_at = now
    await save_incident(session=session, incident=incident)
    # Released and nobody picking it up is as bad as never taken: the chain runs again.
    await restart_deadline(session=session, incident=incident, room=room, now=now)
    await record(
        session=session,
        incident_id=incident_id,
        action="release",
        actor=actor,
        now=now,
        before=before,
        after={"holder": None, "status": incident.status},
    )
    await _topic_note(
        session,
        incident_id,
        render(
            room.lang,
            "staff_released",
            who=actor.mention,
            minutes=int(room.ack_time(incident.priority).total_seconds() // 60),
        ),
    )
    await refresh_card(session=session, incident=incident, room=room, now=now)
    return Outcome(True, render(room.lang, "staff_answer", key="released"))


async def set_priority(
    *,
    session: AsyncSession,
    incident_id: int,
    priority: str,
    actor: Actor,
    room: RoomConfig,
    now: datetime,
) -> Outcome:
    """Change the incident's priority (a running deadline moves with it)."""
    if priority not in PRIORITIES:
        return Outcome(False, render(room.lang, "staff_answer", key="invalid"))
    incident, refused = await _open_incident(session, incident_id, room)
    if incident is None:
        assert refused is not None
        return refused
    if incident.priority == priority:
        return Outcome(False, render(room.lang, "staff_answer", key="unchanged"))
    before = {"priority": incident.priority}
    incident.priority = priority
    incident.updated_at = now
    await save_incident(session=session, incident=incident)
    await reprioritise_deadline(session=session, incident=incident, room=room, now=now)
    await record(
        session=session,
        incident_id=incident_id,
        action="priority",
        actor=actor,
        now=now,
        before=before,
        after={"priority": priority},
    )
    await refresh_card(session=session, incident=incident, room=room, now=now)
    return Outcome(True, render(room.lang, "staff_answer", key="priority", value=priority))


async def set_scenario(
    *,
    session: AsyncSession,
    incident_id: int,
    slug: str,
    actor: Actor,
    room: RoomConfig,
    now: datetime,
) -> Outcome:
    """Change the incident's scenario and send the right manual to its citizens."""
    if not scenarios.known_scenario(slug):
        return Outcome(False, render(room.lang, "staff_answer", key="invalid"))
    incident, refused = await _open_incident(session, incident_id, room)
    if incident is None:
        assert refused is not None
        return refused
    if incident.scenario == slug:
        return Outcome(False, render(room.lang, "staff_answer", key="unchanged"))
    before = {"scenario": incident.scenario}
    incident.scenario = slug
    incident.updated_at = now
    await save_incident(session=session, incident=incident)
    for report in await reports_of_incident(session=session, incident_id=incident_id):
        report.scenario = slug
        report.scenario_confirmed = True
        await save_report(session=session, report=report)
    for target in await recipients(session=session, incident_id=incident_id):
        out = Outgoing(session=session, chat_id=target.chat_id, lang=target.lang)
        await out.message(
            "staff_citizen_scenario",
            reference=target.report.reference,
            scenario=scenarios.title(slug, target.lang),
        )
        await send_manual(out, slug)
    await record(
        session=session,
        incident_id=incident_id,
        action="scenario",
        actor=actor,
        now=now,
        before=before,
        after={"scenario": slug},
    )
    await refresh_card(session=session, incident=incident, room=room, now=now)
    return Outcome(True, render(room.lang, "staff_answer", key="scenario"))


async def merge(
    *,
    session: AsyncSession,
    source_id: int,
    target_id: int,
    actor: Actor,
    room: RoomConfig,
    now: datetime,
    hub: HubAdmin | None = None,
    work: HubWork | None = None,
) -> Outcome:
    """Move every report of ``source_id`` into ``target_id`` and close the source's topic.

    ``hub`` and ``work``: the closed source's community is tidied (links, mutes) at once after
    the commit, else by the next community sweep.
    """
    if source_id == target_id:
        return Outcome(False, render(room.lang, "staff_answer", key="invalid"))
    # Both rows locked in id order, as the deadlines are (``merge_deadlines``): a merge of the
    # same pair pressed the other way round at once must wait, not deadlock.
    for incident_id in sorted((source_id, target_id)):
        await lock_incident(session=session, incident_id=incident_id)
    source, refused = await _open_incident(session, source_id, room)
    if source is None:
        assert refused is not None
        return refused
    target, _ = await _open_incident(session, target_id, room)
    if target is None:
        return await _closed_target(session, target_id, room)
    source_people = await recipients(session=session, incident_id=source_id)
    # A case a staff member already acknowledged stays acknowledged where its reports go.
    inherits = target.status == IncidentStatus.NEW and source.status != IncidentStatus.NEW
    target_people = await recipients(session=session, incident_id=target_id) if inherits else []
    moved = list(await reports_of_incident(session=session, incident_id=source_id))
    for report in moved:
        report.incident_id = target_id
        await save_report(session=session, report=report)
    target.report_count += len(moved)
    # The agencies told about the source were told about the target's situation: its card and
    # timeline list them (an escalated source makes the target escalated, see below).
    handed_over = list(
        await move_handovers(session=session, source_id=source_id, target_id=target_id)
    )
    target.urgent = target.urgent or source.urgent
    target.priority = higher_priority(target.priority, source.priority)
    if source.last_report_at and (
        target.last_report_at is None or source.last_report_at > target.last_report_at
    ):
        target.last_report_at = source.last_report_at
    target_before = {"status": target.status, "holder": target.holder}
    # The source's citizens were not told of an acknowledgement yet: the merge notice says the
    # situation room already handles the incident they are joined to.
    handled = source.status == IncidentStatus.NEW and target.status != IncidentStatus.NEW
    if inherits:
        target.status = source.status
        target.acknowledged_at = now
    # Whoever holds the source goes on with its reports in a target nobody holds (unacknowledged
    # or released): a released target's chain would otherwise chase what they handle.
    takes_holder = target.holder is None and source.holder is not None
    if takes_holder:
        target.holder = source.holder
    target.updated_at = now
    await save_incident(session=session, incident=target)
    if (inherits or takes_holder) and target.holder is not None:
        await cancel_deadline(session=session, incident_id=target_id, now=now)
    elif chased(target) and chased(source):
        # Nobody holds either (unacknowledged, or released): the earlier clock (and the
        # reminders it posted) goes on, at the merged priority.
        await merge_deadlines(session=session, source=source, target=target, room=room, now=now)
    before = {"status": source.status, "reports": source.report_count}
    source.status = IncidentStatus.CLOSED
    source.merged_into_id = target_id
    source.closed_at = now
    source.closing_note = render(room.lang, "staff_label", key="merged")
    source.report_count = 0
    source.updated_at = now
    await save_incident(session=session, incident=source)
    await cancel_deadline(session=session, incident_id=source_id, now=now)
    await on_incident_closed(
        session=session,
        incident_id=source_id,
        now=now,
        lang=room.lang,
        tz=room.timezone,
        hub=hub,
        work=work,
    )

    for person in source_people:
        out = Outgoing(session=session, chat_id=person.chat_id, lang=person.lang)
        await out.message(
            "staff_citizen_merged",
            reference=person.report.reference,
            incident=target.reference,
            handled=handled,
        )
    for person in target_people:  # the target's own citizens hear of the acknowledgement once
        out = Outgoing(session=session, chat_id=person.chat_id, lang=person.lang)
        await out.message(
            "citizen_incident_acknowledged",
            reference=person.report.reference,
            incident=target.reference,
        )

    target_topic = await get_topic(session=session, incident_id=target_id)
    link = await incident_topic_link(session=session, room=room, incident_id=target_id)
    source_topic = await get_topic(session=session, incident_id=source_id)
    if source_topic is not None:
        out_topic = Topic(session=session, topic=source_topic)
        await out_topic.text(
            render(
                room.lang,
                "staff_merged_away",
                who=actor.mention,
                reference=target.reference,
                link=link,
            )
        )
        await refresh_card(session=session, incident=source, room=room, now=now)
        await out_topic.send("close_topic", {})
        source_topic.state = TopicState.CLOSED
        source_topic.updated_at = now
        await save_topic(session=session, topic=source_topic)
    await _topic_note(
        session,
        target_id,
        render(
            room.lang,
            "staff_merged_here",
            who=actor.mention,
            reference=source.reference,
            reports=len(moved),
            texts=[report.text for report in moved if report.text][:10],
        ),
    )
    if target_topic is not None and moved:
        await post_moved_media(session=session, topic=target_topic, reports=moved, lang=room.lang)
    await refresh_card(session=session, incident=target, room=room, now=now)
    # Incidents merged into the source before now live on in the target too: their cards
    # name it and link its topic (the source's topic is closed).
    for earlier in await _merged_before(session, source_id):
        await refresh_card(session=session, incident=earlier, room=room, now=now)
    for incident_id, after in (
        (source_id, {"status": IncidentStatus.CLOSED, "merged_into": target.reference}),
        (
            target_id,
            {
                "merged_from": source.reference,
                "reports": target.report_count,
                "status": target.status,
                "holder": target.holder,
            },
        ),
    ):
        await record(
            session=session,
            incident_id=incident_id,
            action="merge",
            actor=actor,
            now=now,
            before=before if incident_id == source_id else target_before,
            after=after,
        )
    for handover in handed_over:  # the target's timeline shows the hand-overs it now lists
        await record(
            session=session,
            incident_id=target_id,
            action="handover",
            actor=actor,
            now=now,
            after={
                "agency": handover.agency,
                "method": handover.method,
                "ref": handover.reference,
                "merged_from": source.reference,
            },
        )
    return Outcome(True, render(room.lang, "staff_answer", key="merged", value=target.reference))


async def _merged_before(session: AsyncSession, incident_id: int) -> list[Incident]:
    """Return every incident merged into ``incident_id``, directly or through merges of merges."""
    found: list[Incident] = []
    seen = {incident_id}
    waiting = [incident_id]
    while waiting:
        for earlier in await merged_into(session=session, incident_id=waiting.pop()):
            if earlier.id is not None and earlier.id not in seen:
                seen.add(earlier.id)
                found.append(earlier)
                waiting.append(earlier.id)
    return found


async def _closed_target(session: AsyncSession, target_id: int, room: RoomConfig) -> Outcome:
    """Refuse a merge into an incident that is gone or closed (a menu drawn before it closed),
    naming it and, when it was merged itself, the incident its reports now live in."""
    target = await get_incident(session=session, incident_id=target_id)
    if target is None:
        return Outcome(False, render(room.lang, "staff_answer", key="unknown"))
    if target.merged_into_id is not None:
        final = await merge_target(session=session, incident=target)
        return Outcome(
            False,
            render(
                room.lang,
                "staff_answer",
                key="target_merged",
                value=target.reference,
                into=final.reference,
            ),
        )
    return Outcome(
        False, render(room.lang, "staff_answer", key="target_closed", value=target.reference)
    )


async def merge_candidates(
    *, session: AsyncSession, incident_id: int, limit: int = 8
) -> list[Incident]:
    """Return the latest open incidents another one could be merged into."""
    statement = (
        select(Incident)
        .where(col(Incident.status).in_(IncidentStatus.OPEN), col(Incident.id) != incident_id)
        .order_by(col(Incident.id).desc())
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def escalate(
    *,
    session: AsyncSession,
    incident_id: int,
    agency: str,
    method: str,
    actor: Actor,
    room: RoomConfig,
    now: datetime,
    reference: str | None = None,
) -> Outcome:
    """Record a hand-over to an agency (acknowledges the incident) and tell the citizens."""
    found = room.agencies.get(agency)
    if found is None or method not in METHODS:
        return Outcome(False, render(room.lang, "staff_answer", key="invalid"))
    incident, refused = await _open_incident(session, incident_id, room)
    if incident is None:
        assert refused is not None
        return refused
    before = {"status": incident.status, "holder": incident.holder}
    first = _acknowledge(incident, actor, now)
    incident.status = IncidentStatus.ESCALATED
    incident.updated_at = now
    await save_incident(session=session, incident=incident)
    await cancel_deadline(session=session, incident_id=incident_id, now=now)
    await add_handover(
        session=session,
        handover=AgencyHandover(
            incident_id=incident_id,
            agency=agency,
            method=method,
            reference=reference,
            actor_id=actor.user_id,
            at=now,
        ),
    )
    await record(
        session=session,
        incident_id=incident_id,
        action="escalate",
        actor=actor,
        now=now,
        before=before,
        after={"status": incident.status, "agency": agency, "method": method, "ref": reference},
    )
    if first:
        await notify.incident_acknowledged(session=session, incident_id=incident_id)
    for target in await recipients(session=session, incident_id=incident_id):
        out = Outgoing(session=session, chat_id=target.chat_id, lang=target.lang)
        await out.message(
            "staff_citizen_escalated",
            reference=target.report.reference,
            agency=found.name(target.lang),
        )
    await _topic_note(
        session,
        incident_id,
        render(
            room.lang,
            "staff_escalated",
            who=actor.mention,
            agency=found.name(room.lang),
            contact=found.contact,
            method=label(room.lang, method),
            reference=reference,
        ),
    )
    await refresh_card(session=session, incident=incident, room=room, now=now)
    return Outcome(True, render(room.lang, "staff_answer", key="escalated"))


async def set_handover_reference(
    *,
    session: AsyncSession,
    incident_id: int,
    reference: str,
    actor: Actor,
    room: RoomConfig,
    now: datetime,
) -> Outcome:
    """Attach the agency's reference number to the incident's latest hand-over."""
    handovers = await handovers_of_incident(session=session, incident_id=incident_id)
    incident = await get_incident(session=session, incident_id=incident_id)
    if not handovers or incident is None:
        return Outcome(False, render(room.lang, "staff_answer", key="no_handover"))
    latest = handovers[-1]
    before = {"ref": latest.reference}
    latest.reference = reference[:128]
    session.add(latest)
    await session.flush()
    await record(
        session=session,
        incident_id=incident_id,
        action="handover_ref",
        actor=actor,
        now=now,
        before=before,
        after={"agency": latest.agency, "ref": latest.reference},
    )
    await refresh_card(session=session, incident=incident, room=room, now=now)
    return Outcome(True, render(room.lang, "staff_answer", key="saved"))


def close_arguments(args: str | None) -> tuple[str | None, str | None]:
    """Read ``/close [REASON] [note]``: the reason and the note (reason None: a mistyped one).

    A reason is its id or its label in Korean or English, in any case, with ``-``, ``_`` or a
    space between its words (``false-alarm``, ``False alarm``, ``오인신고``), also with an
    ending or shortened (see :func:`reason_by_part`: ``해결됨``, ``dup``). Without one, the
    incident is resolved and every word is the note, unless the first word is so close to a
    reason (see :func:`near_reason`) that it was probably meant as one: then nothing is read.
    """
    text = (args or "").strip()
    words = list(re.finditer(r"\S+", text))
    spellings = _reason_spellings()
    for count in (2, 1):
        if len(words) >= count:
            first = _squeeze(" ".join(word.group() for word in words[:count]))
            if first in spellings:
                note = text[words[count - 1].end() :].strip()
                return spellings[first], note or None
    if words and (reason := reason_by_part(words[0].group())) is not None:
        return reason, text[words[0].end() :].strip() or None
    if words and near_reason(" ".join(word.group() for word in words[:2])):
        return None, None
    return "resolved", text or None


def reason_by_part(word: str) -> str | None:
    """The one close reason a word begins with, or begins (its ending or an abbreviation).

    Korean adds endings to the reason (``해결됨``, ``중복입니다``); staff shorten English ones
    (``resolve``, ``dup``, ``false``) and Korean labels (``오인``). An abbreviation must keep at
    least half of the spelling, and two or three characters at the least.
    """
    squeezed = _squeeze(word)
    found = {
        reason
        for spelling, reason in _reason_spellings().items()
        if squeezed.startswith(spelling)
        or (spelling.startswith(squeezed) and len(squeezed) >= max(2, min(3, len(spelling) // 2)))
    }
    return found.pop() if len(found) == 1 else None


def near_reason(words: str) -> bool:
    """Whether the first word (or two) of ``words`` looks like a mistyped close reason.

    Close means at most two edits from a reason's id or label, or from a label's first word
    (``오보`` -> ``오인``), and fewer edits than the spelling has characters: a two-syllable
    Korean note (``진화 완료``) is not a mistyped ``해결`` just by having two syllables.
    """
    first, *rest = words.split()
    tried = {_squeeze(first)} | ({_squeeze(first + rest[0])} if rest else set())
    return any(
        edit_distance(word, spelling) <= min(2, len(spelling) - 1)
        for word in tried
        for spelling in _near_spellings()
    )


def edit_distance(a: str, b: str) -> int:
    """Return the Levenshtein distance between two strings."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def close_usage(lang: str) -> str:
    """Return how ``/close`` is typed, with every reason and its label, in ``lang``."""
    reasons = [(reason, label(lang, reason)) for reason in CLOSE_REASONS]
    return render(lang, "staff_usage", command="close", teams=[], reasons=reasons)


def _squeeze(word: str) -> str:
    """A word as reasons are compared: lower case, without ``-``, ``_`` or spaces."""
    return re.sub(r"[-_\s]+", "", word.casefold())


@lru_cache(maxsize=1)
def _reason_spellings() -> dict[str, str]:
    """Every accepted spelling of a close reason (squeezed), to its reason."""
    return {
        _squeeze(spelling): reason
        for reason in CLOSE_REASONS
        for spelling in (reason, label("ko", reason), label("en", reason))
    }


@lru_cache(maxsize=1)
def _near_spellings() -> frozenset[str]:
    """What a mistyped reason is compared with: the spellings and each label's first word."""
    firsts = {
        _squeeze(label(lang, reason).split()[0]) for reason in CLOSE_REASONS for lang in LANGUAGES
    }
    return frozenset(_reason_spellings()) | firsts


async def close(
    *,
    session: AsyncSession,
    incident_id: int,
    reason: str,
    actor: Actor,
    room: RoomConfig,
    now: datetime,
    note: str | None = None,
    hub: HubAdmin | None = None,
    work: HubWork | None = None,
) -> Outcome:
    """Close the incident with a reason and a note for the citizens; schedule the follow-up.

    ``hub`` and ``work``: its community's unused links are revoked and mutes lifted at once
    after the commit, else by the next community sweep.
    """
    if reason not in CLOSE_REASONS:
        return Outcome(False, render(room.lang, "staff_answer", key="invalid"))
    incident, refused = await _open_incident(session, incident_id, room)
    if incident is None:
        assert refused is not None
        return refused
    before = {"status": incident.status}
    staff_note = note.strip() if note and note.strip() else None
    incident.status = IncidentStatus.CLOSED
    incident.closed_at = now
    incident.closing_note = f"{label(room.lang, reason)}" + (
        f": {staff_note}" if staff_note else ""
    )
    if incident.acknowledged_at is None:
        incident.acknowledged_at = now
    incident.updated_at = now
    await save_incident(session=session, incident=incident)
    await cancel_deadline(session=session, incident_id=incident_id, now=now)
    targets = await recipients(session=session, incident_id=incident_id)
    for target in targets:
        out = Outgoing(session=session, chat_id=target.chat_id, lang=target.lang)
        citizen_note = staff_note or Markup(render(target.lang, "staff_close_note", reason=reason))
        await out.message(
            "citizen_incident_closed", reference=target.report.reference, note=citizen_note
        )
        if reason != "false_alarm":
            await add_followup(
                session=session,
                followup=FollowUp(
                    incident_id=incident_id,
                    citizen_user_id=target.chat_id,
                    language=target.lang,
                    due_at=now + room.followup_after,
                ),
            )
    await record(
        session=session,
        incident_id=incident_id,
        action="close",
        actor=actor,
        now=now,
        before=before,
        after={"status": incident.status, "reason": reason},
        note=staff_note,
    )
    await on_incident_closed(
        session=session,
        incident_id=incident_id,
        now=now,
        lang=room.lang,
        tz=room.timezone,
        hub=hub,
        work=work,
    )
    topic = await get_topic(session=session, incident_id=incident_id)
    await refresh_card(session=session, incident=incident, room=room, now=now)
    if topic is not None:
        out_topic = Topic(session=session, topic=topic)

        def closed(words: str | None) -> str:
            return render(
                room.lang,
                "staff_closed",
                who=actor.mention,
                reason=label(room.lang, reason),
                note=words,
                citizens=len(targets),
            )

        # The note is the staff member's own command, shown above: quoted in what room is left.
        note_room = room_for(closed, TEXT_LIMIT)
        await out_topic.text(closed(clip(staff_note, note_room) if staff_note else None))
        await out_topic.send("close_topic", {})
        topic.state = TopicState.CLOSED
        topic.updated_at = now
        await save_topic(session=session, topic=topic)
    return Outcome(True, render(room.lang, "staff_answer", key="closed_done"))


REOPEN_WINDOW = timedelta(hours=24)
"""How long the staff member who closed an incident may reopen it themselves (leads: always)."""


async def reopen_incident(
    *,
    session: AsyncSession,
    incident_id: int,
    actor: Actor,
    role: str | None,
    room: RoomConfig,
    now: datetime,
) -> Outcome:
    """Reopen an incident closed by mistake (a lead, or whoever closed it within a day).

    It comes back as a citizen's "no" to the follow-up brings it (:func:`reopen`): new, nobody
    holding it, topic reopened, deadline running from now, pending follow-ups dropped; every
    citizen of it is told their report is open again. A merged-away incident stays merged.
    """
    incident = await lock_incident(session=session, incident_id=incident_id)
    if incident is None or incident.id is None:
        return Outcome(False, render(room.lang, "staff_answer", key="unknown"))
    if incident.merged_into_id is not None:
        final = await merge_target(session=session, incident=incident)
        return Outcome(
            False,
            render(
                room.lang,
                "staff_answer",
                key="reopen_merged",
                value=incident.reference,
                into=final.reference,
                open=final.status != IncidentStatus.CLOSED,
            ),
        )
    if incident.status != IncidentStatus.CLOSED:
        return Outcome(False, render(room.lang, "staff_answer", key="not_closed"))
    if not at_least(role, StaffRole.LEAD):
        closing = await last_event(session=session, incident_id=incident.id, action="close")
        closed_at = incident.closed_at
        own = (
            closing is not None and actor.user_id is not None and closing.actor_id == actor.user_id
        )
        if not own or closed_at is None or now - closed_at > REOPEN_WINDOW:
            hours = int(REOPEN_WINDOW.total_seconds() // 3600)
            return Outcome(
                False, render(room.lang, "staff_answer", key="reopen_refused", value=hours)
            )
    people = await recipients(session=session, incident_id=incident.id)
    await reopen(
        session=session,
        incident=incident,
        room=room,
        now=now,
        citizen_user_ids=[person.chat_id for person in people],
        actor=actor,
        reason="staff",
    )
    for person in people:
        out = Outgoing(session=session, chat_id=person.chat_id, lang=person.lang)
        await out.message(
            "citizen_incident_reopened",
            reference=person.report.reference,
            incident=incident.reference,
        )
    await _topic_note(
        session,
        incident.id,
        render(room.lang, "staff_reopened", who=actor.mention, citizens=len(people)),
    )
    # Its expert community closed with it: staff are offered to reopen it, after the note.
    await on_incident_reopened(session=session, incident_id=incident.id, lang=room.lang)
    return Outcome(True, render(room.lang, "staff_answer", key="reopened"))


async def add_note(
    *, session: AsyncSession, incident_id: int, text: str, actor: Actor, now: datetime
) -> None:
    """Record an internal note (never relayed to citizens)."""
    await record(
        session=session, incident_id=incident_id, action="note", actor=actor, now=now, note=text
    )


MENUS = ("scnp", "mrg", "esc", "esca", "cls", "cnd", "back")


async def perform(
    *,
    session: AsyncSession,
    action: StaffAction,
    actor: Actor,
    room: RoomConfig,
    now: datetime,
    role: str | None = None,
    hub: HubAdmin | None = None,
    work: HubWork | None = None,
) -> Outcome:
    """Carry out a card button: open a sub-menu on the card or change the incident.

    ``hub`` and ``work`` tidy the community of an incident a close or merge closes.
    """
    iid, arg = action.incident_id, action.arg
    if action.action in MENUS:
        return await _menu(session, action, room)
    if action.action in ("take", "takeover"):
        over = action.action == "takeover"
        return await take(
            session=session, incident_id=iid, actor=actor, room=room, now=now, over=over
        )
    if action.action == "release":
        return await release(
            session=session, incident_id=iid, actor=actor, role=role, room=room, now=now
        )
    if action.action == "reopen":
        return await reopen_incident(
            session=session, incident_id=iid, actor=actor, role=role, room=room, now=now
        )
    if action.action == "pri":
        return await set_priority(
            session=session, incident_id=iid, priority=arg, actor=actor, room=room, now=now
        )
    if action.action == "scn":
        return await set_scenario(
            session=session, incident_id=iid, slug=arg, actor=actor, room=room, now=now
        )
    if action.action == "mrgto" and arg.isdigit():
        return await merge(
            session=session,
            source_id=iid,
            target_id=int(arg),
            actor=actor,
            room=room,
            now=now,
            hub=hub,
            work=work,
        )
    if action.action == "escm" and "." in arg:
        agency, method = arg.split(".", 1)
        return await escalate(
            session=session,
            incident_id=iid,
            agency=agency,
            method=method,
            actor=actor,
            room=room,
            now=now,
        )
    if action.action == "clsr":
        return await close(
            session=session,
            incident_id=iid,
            reason=arg,
            actor=actor,
            room=room,
            now=now,
            hub=hub,
            work=work,
        )
    if action.action == "cndx" and arg in CANNED:
        incident, refused = await _open_incident(session, iid, room)
        if incident is None:
            assert refused is not None
            return refused
        sent = await send_canned(session=session, incident_id=iid, key=arg, actor=actor, now=now)
        await show_menu(
            session=session, incident=incident, buttons=card_buttons(incident, lang=room.lang)
        )
        return Outcome(True, render(room.lang, "staff_answer", key="canned_sent", value=sent))
    return Outcome(False, render(room.lang, "staff_answer", key="invalid"))


async def _menu(session: AsyncSession, action: StaffAction, room: RoomConfig) -> Outcome:
    incident, refused = await _open_incident(session, action.incident_id, room)
    if incident is None:
        assert refused is not None
        return refused
    lang = room.lang
    if action.action == "scnp":
        page = int(action.arg) if action.arg.isdigit() else 0
        buttons = scenario_buttons(incident, lang=lang, page=page)
    elif action.action == "mrg":
        others = await merge_candidates(session=session, incident_id=action.incident_id)
        if not others:  # an empty list to choose from: say so, the card stays as it is
            return Outcome(False, render(lang, "staff_answer", key="no_merge_target"))
        buttons = merge_buttons(incident, others, lang=lang)
    elif action.action == "esc":
        buttons = agency_buttons(incident, room.agencies, lang=lang)
    elif action.action == "esca" and room.agencies.get(action.arg) is not None:
        buttons = method_buttons(incident, action.arg, lang=lang)
    elif action.action == "cls":
        buttons = close_buttons(incident, lang=lang)
    elif action.action == "cnd":
        buttons = canned_buttons(incident, lang=lang)
    else:
        buttons = card_buttons(incident, lang=lang)
    await show_menu(session=session, incident=incident, buttons=buttons)
    return Outcome(True, render(lang, "staff_answer", key="menu"))
