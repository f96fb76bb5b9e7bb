"""What an incident's staff-room card shows, read with one statement.

A card is redrawn for nearly every report that joins an incident in a surge, so its figures
(the first words, the photos, the acknowledgement clock, whether agencies were told) come
from one statement of scalar subqueries, built once, instead of one query each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy import select as columns
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.escalations import AgencyHandover, IncidentDeadline
from storage.models.reports import Report, ReportMedia, ReportMessage, ReportStatus

__all__ = ["CardFigures", "card_figures"]


@dataclass(frozen=True, slots=True)
class CardFigures:
    """An incident card's figures: first filed words, photos, deadline, hand-overs recorded.

    The deadline as stored: when its clock started (None in rows from before it was stored),
    the base of its escalation ladder and how many reminders it posted.
    """

    words: str | None
    photos: int
    ack_due_at: datetime | None
    handovers: int
    ack_started_at: datetime | None = None
    reminders: int = 0
    forwarded: str | None = None
    """Where the first message a citizen forwarded into the incident came from, if any."""
    chasing: bool = False
    """Whether the deadline's escalation chain runs (not cancelled)."""
    withdrawn: int = 0
    """How many of the incident's reports their citizens cancelled (/cancel)."""


@cache
def _card_figures() -> Any:
    """The card's figures as one statement of scalar subqueries, built once."""
    incident_id: BindParameter[int] = bindparam("incident_id")
    filed = (col(Report.incident_id) == incident_id, col(Report.status) == ReportStatus.FILED)
    words = (
        select(Report.text)
        .where(*filed, col(Report.text).is_not(None), col(Report.text) != "")
        .order_by(col(Report.id))
        .limit(1)
        .scalar_subquery()
    )
    photos = (
        select(func.count(col(ReportMedia.id)))
        .join(Report, col(Report.id) == col(ReportMedia.report_id))
        .where(
            *filed,
            col(ReportMedia.kind) == "photo",
            col(ReportMedia.file_id).is_not(None),
            col(ReportMedia.file_id) != "",
        )
        .scalar_subquery()
    )
    deadline = col(IncidentDeadline.incident_id) == incident_id
    due_at = select(IncidentDeadline.due_at).where(deadline).scalar_subquery()
    started_at = select(IncidentDeadline.started_at).where(deadline).scalar_subquery()
    step = select(IncidentDeadline.step).where(deadline).scalar_subquery()
    cancelled_at = select(IncidentDeadline.cancelled_at).where(deadline).scalar_subquery()
    handovers = (
        select(func.count(col(AgencyHandover.id)))
        .where(col(AgencyHandover.incident_id) == incident_id)
        .scalar_subquery()
    )
    forwarded = (
        select(ReportMessage.forwarded_from)
        .join(Report, col(Report.id) == col(ReportMessage.report_id))
        .where(*filed, col(ReportMessage.forwarded_from).is_not(None))
        .order_by(col(ReportMessage.id))
        .limit(1)
        .scalar_subquery()
    )
    withdrawn = (
        select(func.count(col(Report.id)))
        .where(
            col(Report.incident_id) == incident_id,
            col(Report.status) == ReportStatus.CANCELLED,
        )
        .scalar_subquery()
    )
    # sqlalchemy's select: sqlmodel's is typed for at most four columns
    return columns(
        words, photos, due_at, handovers, started_at, step, forwarded, cancelled_at, withdrawn
    )


async def card_figures(*, session: AsyncSession, incident_id: int) -> CardFigures:
    """Return the figures the card of incident ``incident_id`` shows, in one query."""
    words, photos, due_at, handovers, started_at, step, forwarded, cancelled_at, withdrawn = (
        await session.exec(_card_figures(), params={"incident_id": incident_id})
    ).one()
    return CardFigures(
        words=words,
        photos=int(photos or 0),
        ack_due_at=due_at,
        handovers=int(handovers or 0),
        ack_started_at=started_at,
        reminders=int(step or 0),
        forwarded=forwarded,
        chasing=due_at is not None and cancelled_at is None,
        withdrawn=int(withdrawn or 0),
    )
