"""The transcript of a community: every message with its author and role, the summary, export.

Usage::

    await record_message(session=session, community=community, message_id=55, author_id=42,
                         author_name="한지훈", author_role="expert", kind="text", text="…", now=now)
    summary = await summarise(session=session, community=community, now=now)
    text = await export_text(session=session, community_id=community.id)
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from community.brief import local_time
from storage.communities import (
    add_message,
    find_message,
    get_community,
    get_member,
    save_community,
    transcript,
)
from storage.models.communities import Community, CommunityMessage, MemberRole
from storage.models.incidents import Incident

SNIPPET = 200
# The kind of an entry holding the new words of an edited message (not counted as a message).
EDIT_KIND = "edit"


async def role_of(
    *, session: AsyncSession, community: Community, user_id: int, staff_role: str | None
) -> str:
    """Return the role a person speaks with in the community (staff, expert, agency, other)."""
    if staff_role:
        return MemberRole.STAFF
    assert community.id is not None
    member = await get_member(session=session, community_id=community.id, telegram_user_id=user_id)
    return member.role if member is not None else MemberRole.OTHER


async def record_message(
    *,
    session: AsyncSession,
    community: Community,
    message_id: int | None,
    author_id: int | None,
    author_name: str,
    author_role: str,
    kind: str,
    text: str | None,
    now: datetime,
    decision: bool = False,
    pinned: bool = False,
) -> CommunityMessage:
    """Store a community message and count it as activity (a quiet-close warning is reset)."""
    assert community.id is not None
    entry = await add_message(
        session=session,
        message=CommunityMessage(
            community_id=community.id,
            incident_id=community.incident_id,
            chat_id=community.hub_chat_id,
            message_id=message_id,
            author_id=author_id,
            author_name=author_name[:128],
            author_role=author_role,
            kind=kind,
            text=text,
            decision=decision,
            pinned=pinned,
            at=now,
        ),
    )
    if author_role != MemberRole.BOT:
        community.last_activity_at = now
        community.quiet_warned_at = None
        await save_community(session=session, community=community)
    return entry


async def mark(
    *,
    session: AsyncSession,
    community: Community,
    message_id: int,
    pinned: bool | None = None,
    decision: bool | None = None,
    deleted: bool | None = None,
) -> CommunityMessage | None:
    """Flag a stored message as pinned, a decision or deleted (None when it is not stored)."""
    assert community.id is not None
    entry = await find_message(session=session, community_id=community.id, message_id=message_id)
    if entry is None:
        return None
    if pinned is not None:
        entry.pinned = pinned
    if decision is not None:
        entry.decision = decision
    if deleted is not None:
        entry.deleted = deleted
    session.add(entry)
    await session.flush()
    return entry


@dataclass
class Participant:
    """Someone who wrote in the community, and how often."""

    name: str
    role: str
    messages: int


@dataclass
class Summary:
    """What happened in a community, for the staff topic when it closes."""

    community_id: int
    incident_id: int
    title: str
    opened: str
    closed: str
    duration_minutes: int
    messages: int
    participants: list[Participant] = field(default_factory=list)
    pinned: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)


def _snippet(entry: CommunityMessage) -> str:
    text = (entry.text or f"[{entry.kind}]").strip()
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"


def _duration(start: datetime, end: datetime) -> int:
    return max(0, int((end - start) / timedelta(minutes=1)))


async def summarise(
    *, session: AsyncSession, community: Community, now: datetime, tz: str = "Asia/Seoul"
) -> Summary:
    """Summarise a community: participants, duration, pinned messages and decisions."""
    assert community.id is not None
    entries = await transcript(session=session, community_id=community.id)
    counts: Counter[tuple[int | None, str, str]] = Counter()
    for entry in entries:
        if entry.author_role != MemberRole.BOT and entry.kind != EDIT_KIND:
            counts[(entry.author_id, entry.author_name, entry.author_role)] += 1
    end = community.closed_at or now
    return Summary(
        community_id=community.id,
        incident_id=community.incident_id,
        title=community.title,
        opened=local_time(community.opened_at, tz),
        closed=local_time(end, tz),
        duration_minutes=_duration(community.opened_at, end),
        messages=sum(counts.values()),
        participants=[
            Participant(name=name, role=role, messages=count)
            for (_, name, role), count in counts.most_common()
        ],
        pinned=[_snippet(entry) for entry in entries if entry.pinned],
        decisions=[_snippet(entry) for entry in entries if entry.decision],
    )


def _line(entry: CommunityMessage, tz: str) -> str:
    flags = "".join(
        mark
        for mark, on in (
            ("[edit]", entry.kind == EDIT_KIND),
            ("[pinned]", entry.pinned),
            ("[decision]", entry.decision),
        )
        if on
    )
    deleted = " [deleted]" if entry.deleted else ""
    body = entry.text if entry.text is not None else f"[{entry.kind}]"
    return (
        f"{local_time(entry.at, tz)} {entry.author_name} ({entry.author_role})"
        f"{' ' + flags if flags else ''}{deleted}: {body}"
    )


async def _community_and_entries(
    session: AsyncSession, community_id: int
) -> tuple[Community, list[CommunityMessage]]:
    community = await get_community(session=session, community_id=community_id)
    if community is None:
        raise LookupError(f"no community {community_id}")
    return community, list(await transcript(session=session, community_id=community_id))


async def export_text(*, session: AsyncSession, community_id: int, tz: str = "Asia/Seoul") -> str:
    """Return a community's transcript as plain text, one message a line."""
    community, entries = await _community_and_entries(session, community_id)
    incident = await session.get(Incident, community.incident_id)
    reference = (incident.reference if incident else None) or f"#{community.incident_id}"
    header = [
        f"Community {community.id}: {community.title}",
        f"Incident {reference} (id {community.incident_id})",
        f"Opened {local_time(community.opened_at, tz)}"
        + (f", closed {local_time(community.closed_at, tz)}" if community.closed_at else ""),
        f"Fields: {', '.join(community.fields)}",
        "",
    ]
    return "\n".join([*header, *(_line(entry, tz) for entry in entries)]) + "\n"


async def export_json(*, session: AsyncSession, community_id: int) -> str:
    """Return a community's transcript as JSON (times in ISO 8601 UTC)."""
    community, entries = await _community_and_entries(session, community_id)
    document = {
        "community_id": community.id,
        "incident_id": community.incident_id,
        "title": community.title,
        "state": community.state,
        "fields": community.fields,
        "opened_at": community.opened_at.isoformat(),
        "closed_at": community.closed_at.isoformat() if community.closed_at else None,
        "messages": [
            {
                "at": entry.at.isoformat(),
                "message_id": entry.message_id,
                "author_id": entry.author_id,
                "author_name": entry.author_name,
                "author_role": entry.author_role,
                "kind": entry.kind,
                "text": entry.text,
                "pinned": entry.pinned,
                "decision": entry.decision,
                "deleted": entry.deleted,
            }
            for entry in entries
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)
