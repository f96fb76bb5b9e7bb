"""The incident card: its text, its buttons and the callback data of those buttons.

Usage::

    StaffAction("pri", 42, "P1").pack()            # "st:pri:42:P1" (at most 64 bytes)
    StaffAction.unpack("st:pri:42:P1").arg         # "P1"
    card_text(view, lang="ko")                     # the card's HTML
    card_buttons(incident, lang="ko")              # the main keyboard
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from community.callbacks import OpenCommunity
from manuals.catalog import load_catalog
from situation.agencies import METHODS, Directory
from situation.limits import clip
from situation.outgoing import Buttons, button
from situation.texts import render
from storage.models.incidents import Incident, IncidentStatus

PRIORITIES = ("P1", "P2", "P3", "P4")
CLOSE_REASONS = ("resolved", "false_alarm", "duplicate")
CANNED = ("on_the_way", "need_location", "need_photo", "stay_safe", "call_119", "agency_informed")
SCENARIO_PAGE = 8
CARD_WORDS = 700  # the card quotes this many characters of the first report; the topic has all
STATUS_ICON = {
    IncidentStatus.NEW: "🔴",
    IncidentStatus.ACKNOWLEDGED: "🟡",
    IncidentStatus.IN_PROGRESS: "🟡",
    IncidentStatus.ESCALATED: "🟠",
    IncidentStatus.CLOSED: "✅",
}


MAX_CALLBACK_BYTES = 64


class CallbackError(ValueError):
    """Raised when staff callback data cannot be packed or does not parse."""


@dataclass(frozen=True)
class StaffAction:
    """A button on an incident card: ``action`` on incident ``incident_id`` with ``arg``."""

    PREFIX: ClassVar[str] = "st"
    action: str
    incident_id: int
    arg: str = ""

    def pack(self) -> str:
        """Return the callback data string."""
        if ":" in self.action or ":" in self.arg:
            raise CallbackError(f"separator in callback field: {self!r}")
        data = f"{self.PREFIX}:{self.action}:{self.incident_id}:{self.arg}"
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise CallbackError(f"callback data longer than {MAX_CALLBACK_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def unpack(cls, data: str) -> StaffAction:
        """Parse callback data made by :meth:`pack`."""
        parts = data.split(":")
        if len(parts) != 4 or parts[0] != cls.PREFIX or not parts[1]:
            raise CallbackError(f"not a staff callback: {data!r}")
        try:
            incident_id = int(parts[2])
        except ValueError as error:
            raise CallbackError(f"not an incident id: {parts[2]!r}") from error
        return cls(action=parts[1], incident_id=incident_id, arg=parts[3])


def label(lang: str, key: str) -> str:
    """Return a short staff-room label (button, status, reason) in ``lang``."""
    return render(lang, "staff_label", key=key)


def scenario_icon(slug: str | None) -> str:
    """Return the scenario's emoji, or a generic one."""
    scenario = load_catalog().get(slug) if slug else None
    return scenario.icon if scenario is not None else "❓"


def scenario_name(slug: str | None, lang: str) -> str | None:
    """Return the scenario's name in ``lang`` (None when unset or unknown)."""
    scenario = load_catalog().get(slug) if slug else None
    return scenario.name(lang) if scenario is not None else None


def topic_name(incident: Incident) -> str:
    """Return the topic name: status, scenario icon, district and reference (≤ 128 chars)."""
    parts = [STATUS_ICON.get(incident.status, "🔴"), scenario_icon(incident.scenario)]
    if incident.district_name:
        parts.append(incident.district_name)
    parts.append(incident.reference or f"#{incident.id}")
    return " ".join(parts)[:128]


@dataclass
class CardView:
    """Everything the card shows besides the incident's own columns."""

    incident: Incident
    words: str | None = None
    photos: int = 0
    holder_name: str | None = None
    ack_due_at: datetime | None = None
    reminded: bool = False  # an escalation reminder was posted: overdue whatever the time
    now: datetime | None = None
    handovers: list[str] = field(default_factory=list)
    merged_into: str | None = None  # the incident its reports live in now (merges followed)
    merged_link: str | None = None  # a link to that incident's topic
    released: bool = False  # held once, released, its chain running again until someone takes it
    timezone: str = "Asia/Seoul"
    forwarded: str | None = None  # the words include a forwarded message (from here)
    withdrawn: int = 0  # reports their citizens cancelled


def _local(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M:%S")


def card_text(view: CardView, *, lang: str) -> str:
    """Render the card's HTML text."""
    incident = view.incident
    words = view.words
    if words and len(words) > CARD_WORDS:
        words = words[:CARD_WORDS] + "…"
    overdue = view.reminded or bool(view.ack_due_at and view.now and view.now > view.ack_due_at)
    closing = None
    if incident.status == IncidentStatus.CLOSED:  # a staff note, as long as a staff message
        closing = clip(incident.closing_note or label(lang, "closed"), CARD_WORDS)
    return render(
        lang,
        "staff_card",
        icon=scenario_icon(incident.scenario),
        scenario=scenario_name(incident.scenario, lang) or label(lang, "unknown_scenario"),
        reference=incident.reference or f"#{incident.id}",
        priority=incident.priority,
        status_key=incident.status,
        status=label(lang, incident.status),
        urgent=incident.urgent,
        district=incident.district_name,
        latitude=incident.latitude,
        longitude=incident.longitude,
        words=words,
        forwarded=clip(view.forwarded, CARD_WORDS) if view.forwarded else None,
        manual=scenario_name(incident.scenario, lang),
        reports=incident.report_count,
        withdrawn=view.withdrawn,
        photos=view.photos,
        holder=view.holder_name,
        deadline=_local(view.ack_due_at, view.timezone),
        overdue=overdue,
        acknowledged=_local(incident.acknowledged_at, view.timezone),
        handovers=view.handovers,
        merged_into=view.merged_into,
        merged_link=view.merged_link,
        released=view.released,
        closing=closing,
    )


def _act(action: str, incident_id: int, arg: str = "") -> str:
    return StaffAction(action, incident_id, arg).pack()


def card_buttons(incident: Incident, *, lang: str) -> Buttons:
    """Return the card's main keyboard; a closed incident's card only offers to reopen it (none
    once it was merged away: its reports live in another incident)."""
    if incident.id is None:
        return []
    iid = incident.id
    if incident.status == IncidentStatus.CLOSED:
        if incident.merged_into_id is not None:
            return []
        return [[button(label(lang, "reopen"), _act("reopen", iid))]]
    priorities = [
        button(f"• {p}" if p == incident.priority else p, _act("pri", iid, p)) for p in PRIORITIES
    ]
    # Someone holds it: the button says it takes over, so two staff pressing "take" at once
    # cannot both believe it is theirs (the second press, run after the first by the incident's
    # row lock, is refused: see triage.take).
    take = [button(label(lang, "take"), _act("take", iid))]
    if incident.holder:
        take = [
            button(label(lang, "takeover"), _act("takeover", iid)),
            button(label(lang, "release"), _act("release", iid)),
        ]
    return [
        take,
        priorities,
        [
            button(label(lang, "scenario"), _act("scnp", iid, "0")),
            button(label(lang, "merge"), _act("mrg", iid)),
        ],
        [
            button(label(lang, "escalate"), _act("esc", iid)),
            button(label(lang, "close"), _act("cls", iid)),
        ],
        [
            button(label(lang, "canned"), _act("cnd", iid)),
            button(label(lang, "community"), OpenCommunity(incident_id=iid).pack()),
        ],
    ]


def _back(incident_id: int, lang: str) -> list[dict[str, str]]:
    return [button(label(lang, "back"), _act("back", incident_id))]


def scenario_buttons(incident: Incident, *, lang: str, page: int) -> Buttons:
    """Return one page of scenarios to choose from (related ones first)."""
    assert incident.id is not None
    catalog = load_catalog()
    current = catalog.get(incident.scenario) if incident.scenario else None
    slugs = [slug for slug in (current.related if current else ()) if slug in catalog]
    slugs += [slug for slug in catalog.slugs if slug not in slugs and slug != incident.scenario]
    pages = max(1, -(-len(slugs) // SCENARIO_PAGE))
    page = min(max(page, 0), pages - 1)
    chunk = slugs[page * SCENARIO_PAGE : (page + 1) * SCENARIO_PAGE]
    rows = [
        [button(catalog.by_slug(slug).title(lang), _act("scn", incident.id, slug)) for slug in pair]
        for pair in (chunk[i : i + 2] for i in range(0, len(chunk), 2))
    ]
    nav = []
    if page > 0:
        nav.append(button(label(lang, "prev"), _act("scnp", incident.id, str(page - 1))))
    if page < pages - 1:
        nav.append(button(label(lang, "next"), _act("scnp", incident.id, str(page + 1))))
    if nav:
        rows.append(nav)
    rows.append(_back(incident.id, lang))
    return rows


def merge_buttons(incident: Incident, others: Sequence[Incident], *, lang: str) -> Buttons:
    """Return the open incidents this one can be merged into."""
    assert incident.id is not None
    rows = [
        [
            button(
                f"{scenario_icon(other.scenario)} {other.reference} {other.district_name or ''}",
                _act("mrgto", incident.id, str(other.id)),
            )
        ]
        for other in others
        if other.id is not None and other.id != incident.id
    ]
    rows.append(_back(incident.id, lang))
    return rows


def agency_buttons(incident: Incident, directory: Directory, *, lang: str) -> Buttons:
    """Return the agencies the incident can be handed over to."""
    assert incident.id is not None
    rows = [
        [button(agency.name(lang), _act("esca", incident.id, agency.key))]
        for agency in directory.agencies
    ]
    rows.append(_back(incident.id, lang))
    return rows


def method_buttons(incident: Incident, agency: str, *, lang: str) -> Buttons:
    """Return how the hand-over to ``agency`` was made."""
    assert incident.id is not None
    rows = [
        [button(label(lang, method), _act("escm", incident.id, f"{agency}.{method}"))]
        for method in METHODS
    ]
    rows.append(_back(incident.id, lang))
    return rows


def close_buttons(incident: Incident, *, lang: str) -> Buttons:
    """Return the reasons to close an incident."""
    assert incident.id is not None
    rows = [
        [button(label(lang, reason), _act("clsr", incident.id, reason))] for reason in CLOSE_REASONS
    ]
    rows.append(_back(incident.id, lang))
    return rows


def canned_buttons(incident: Incident, *, lang: str) -> Buttons:
    """Return the canned replies staff can send to the citizens."""
    assert incident.id is not None
    rows = [
        [button(render(lang, "staff_canned_title", key=key), _act("cndx", incident.id, key))]
        for key in CANNED
    ]
    rows.append(_back(incident.id, lang))
    return rows
