"""Record every action on an incident and render its timeline.

Usage (inside the transaction that made the change)::

    await record(session=session, incident_id=7, action="priority", actor=actor, now=now,
                 before={"priority": "P3"}, after={"priority": "P1"})
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from situation.limits import NAME_ROOM, TEXT_LIMIT, clip, visible_len
from situation.texts import render
from storage.audit import add_event, events_of_incident
from storage.models.audit import IncidentEvent


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member (Telegram id and name) or the system (id None)."""

    user_id: int | None
    name: str

    @property
    def mention(self) -> Markup:
        """An HTML mention of the actor (plain name for the system), cut to NAME_ROOM."""
        name = clip(self.name, NAME_ROOM)
        if self.user_id is None:
            return Markup.escape(name)
        return Markup('<a href="tg://user?id={}">{}</a>').format(self.user_id, name)


SYSTEM = Actor(user_id=None, name="system")


async def record(
    *,
    session: AsyncSession,
    incident_id: int,
    action: str,
    actor: Actor,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """Add an event to an incident's timeline in the caller's transaction."""
    await add_event(
        session=session,
        incident_id=incident_id,
        at=now,
        actor_id=actor.user_id,
        actor_name=actor.name,
        action=action,
        before=before,
        after=after,
        note=note[:2000] if note else None,
    )


def event_as_dict(event: IncidentEvent) -> dict[str, Any]:
    """Return an event as plain data (for exports)."""
    return {
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor_name,
        "action": event.action,
        "before": event.before,
        "after": event.after,
        "note": event.note,
    }


def _change(event: IncidentEvent) -> str:
    keys = sorted(set(event.before or {}) | set(event.after or {}))
    parts = []
    for key in keys:
        old = (event.before or {}).get(key)
        new = (event.after or {}).get(key)
        parts.append(f"{key}: {old} → {new}" if old is not None else f"{key}: {new}")
    return ", ".join(parts)


# A timeline line quotes a note and a change in at most this many UTF-16 units each.
HISTORY_NOTE_ROOM = 200
HISTORY_CHANGE_ROOM = 200


def render_history(
    events: Sequence[IncidentEvent], *, lang: str, reference: str, timezone: str
) -> str:
    """Render a timeline as one staff message (the newest entries if it is long)."""
    zone = ZoneInfo(timezone)
    lines = [
        {
            "time": event.at.astimezone(zone).strftime("%m-%d %H:%M:%S"),
            "actor": clip(event.actor_name or "system", NAME_ROOM),
            "action": event.action,
            "change": clip(_change(event), HISTORY_CHANGE_ROOM),
            "note": clip(event.note or "", HISTORY_NOTE_ROOM),
        }
        for event in events
    ]
    text = render(lang, "staff_history", reference=reference, lines=lines, cut=0)
    cut = 0
    while visible_len(text) > TEXT_LIMIT and lines:
        lines = lines[1:]
        cut += 1
        text = render(lang, "staff_history", reference=reference, lines=lines, cut=cut)
    return text


async def history(
    *, session: AsyncSession, incident_id: int, lang: str, reference: str, timezone: str
) -> str:
    """Return the rendered timeline of an incident."""
    events = await events_of_incident(session=session, incident_id=incident_id)
    return render_history(events, lang=lang, reference=reference, timezone=timezone)
