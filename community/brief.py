"""The incident brief: what experts see first (pinned) and what the invitation says.

It never carries a citizen's identity: only the scenario, place, time, report texts and media.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from manuals.catalog import load_catalog
from storage.models.communities import Community
from storage.models.incidents import Incident
from storage.reports import media_of_report, reports_of_incident

MAX_TEXTS = 3
MAX_TEXT_CHARS = 300
MAX_PHOTOS = 5


@dataclass
class Brief:
    """An incident's facts, ready for the templates."""

    incident_id: int
    reference: str
    scenario: str | None
    scenario_name: str
    icon: str
    priority: str
    district: str | None
    opened: str
    report_count: int
    latitude: float | None
    longitude: float | None
    texts: list[str] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)

    def title(self, lang: str) -> str:
        """Return the community's topic title (at most 128 characters)."""
        return _title(self.icon, self.reference, self.scenario_name)


def _title(icon: str, reference: str, scenario_name: str) -> str:
    return f"{icon} {reference} {scenario_name}".strip()[:128]


async def community_title(*, session: AsyncSession, community: Community, lang: str) -> str:
    """Return the community's title in ``lang`` (its topic keeps the language it opened in)."""
    incident = await session.get(Incident, community.incident_id)
    if incident is None:
        return community.title
    scenario = load_catalog().get(incident.scenario) if incident.scenario else None
    return _title(
        scenario.icon if scenario else "🆘",
        incident_reference(incident),
        scenario.name(lang) if scenario else "",
    )


def incident_reference(incident: Incident) -> str:
    """Return the incident's reference, or ``#<id>`` when it has none."""
    return incident.reference or f"#{incident.id}"


def local_time(at: datetime, tz: str) -> str:
    """Format an aware time in the service's time zone."""
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


async def build_brief(
    *, session: AsyncSession, incident: Incident, lang: str, tz: str = "Asia/Seoul"
) -> Brief:
    """Gather the brief of an incident from its reports (texts, photos, location)."""
    assert incident.id is not None
    scenario = load_catalog().get(incident.scenario) if incident.scenario else None
    reports = await reports_of_incident(session=session, incident_id=incident.id)
    texts: list[str] = []
    photos: list[str] = []
    latitude, longitude = incident.latitude, incident.longitude
    for report in reports:
        if report.text and len(texts) < MAX_TEXTS:
            texts.append(report.text[:MAX_TEXT_CHARS])
        if latitude is None and report.latitude is not None:
            latitude, longitude = report.latitude, report.longitude
        if report.id is None or len(photos) >= MAX_PHOTOS:
            continue
        for media in await media_of_report(session=session, report_id=report.id):
            if media.kind == "photo" and media.file_id and len(photos) < MAX_PHOTOS:
                photos.append(media.file_id)
    return Brief(
        incident_id=incident.id,
        reference=incident_reference(incident),
        scenario=incident.scenario,
        scenario_name=scenario.name(lang) if scenario else "",
        icon=scenario.icon if scenario else "🆘",
        priority=incident.priority,
        district=incident.district_name,
        opened=local_time(incident.opened_at, tz),
        report_count=incident.report_count,
        latitude=latitude,
        longitude=longitude,
        texts=texts,
        photos=photos,
    )


def topic_link(hub_chat_id: int, topic_id: int | None) -> str:
    """Return the t.me link of a topic of a supergroup (``-100`` ids)."""
    internal = str(abs(hub_chat_id))
    if internal.startswith("100"):
        internal = internal[3:]
    return f"https://t.me/c/{internal}/{topic_id}" if topic_id else f"https://t.me/c/{internal}"
