"""Opening, closing, reopening and quiet expiry of emergency communities.

Usage (inside the update's transaction)::

    opened = await open_community(session=session, hub=hub, incident_id=7, actor_id=uid,
                                  actor_name="최도윤", role="lead", hub_chat_id=hub_id,
                                  staff_chat_id=staff_id, staff_thread_id=topic, now=now)
    await close_community(session=session, hub=hub, community=opened.community, now=now,
                          actor_id=uid, reason="staff")
    await on_incident_closed(session=session, hub=hub, incident_id=7, now=now)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from community.access import may_open
from community.brief import Brief, build_brief, community_title, topic_link
from community.callbacks import CloseCommunity, OpenCommunity, SendInvitations, ToggleField
from community.config import CommunityConfig
from community.errors import CommunityError
from community.fields import field_catalogue, suggested_fields, toggle
from community.invitations import candidates
from community.outgoing import (
    Buttons,
    button,
    pin,
    send_location,
    send_photo,
    send_text,
    tell_staff,
)
from community.outgoing import topic_state as queue_topic_state
from community.ports import HubAdmin, HubError
from community.steps import Steps, Turn
from community.transcript import record_message, summarise
from situation.limits import plain_text
from situation.texts import render
from storage.communities import (
    communities_of_closed_incidents,
    communities_without_topic,
    community_of_incident,
    get_community,
    members_of,
    quiet_communities,
    save_community,
)
from storage.experts import get_expert
from storage.models.communities import Community, CommunityState, MemberRole, MemberStatus
from storage.models.experts import Expert
from storage.models.incidents import Incident, IncidentStatus
from storage.models.outbox import Priority

if TYPE_CHECKING:  # hub_work runs this module's topic preparation
    from community.hub_work import HubWork

PREPARING_LEASE = timedelta(minutes=2)  # a younger opening is left to the worker that decided it


@dataclass
class Opened:
    """The community an open request led to, and whether it was new or reopened."""

    community: Community
    created: bool = False
    reopened: bool = False


def brief_correlation(community: Community) -> str:
    """Return the outbox correlation of the community's (current) pinned brief."""
    return f"community:{community.id}:brief:{community.reopen_count}"


async def _post_brief(
    session: AsyncSession, community: Community, brief: Brief, lang: str, now: datetime
) -> None:
    assert community.topic_id is not None
    text = render(lang, "community_brief", brief=brief, community=community)
    await send_text(
        session=session,
        chat_id=community.hub_chat_id,
        thread_id=community.topic_id,
        text=text,
        correlation=brief_correlation(community),
    )
    await pin(
        session=session,
        chat_id=community.hub_chat_id,
        thread_id=community.topic_id,
        target_ref=brief_correlation(community),
    )
    if brief.latitude is not None and brief.longitude is not None:
        await send_location(
            session=session,
            chat_id=community.hub_chat_id,
            thread_id=community.topic_id,
            latitude=brief.latitude,
            longitude=brief.longitude,
        )
    for file_id in brief.photos:
        await send_photo(
            session=session,
            chat_id=community.hub_chat_id,
            thread_id=community.topic_id,
            file_id=file_id,
        )
    await record_message(
        session=session,
        community=community,
        message_id=None,
        author_id=None,
        author_name="jikimi",
        author_role=MemberRole.BOT,
        kind="brief",
        text=plain_text(text),  # the transcript holds what people read, not the markup
        now=now,
        pinned=True,
    )


async def panel(*, session: AsyncSession, community: Community, lang: str) -> tuple[str, Buttons]:
    """Render the staff panel: fields to toggle, who would be invited, send and close buttons."""
    assert community.id is not None
    experts = await candidates(session=session, community=community)
    members = await members_of(session=session, community_id=community.id)
    joined = [m for m in members if m.status == MemberStatus.JOINED]
    invited = [m for m in members if m.status == MemberStatus.INVITED and not m.link_revoked]
    text = render(
        lang,
        "community_panel",
        community=community,
        candidates=experts,
        joined=joined,
        invited=invited,
        link=topic_link(community.hub_chat_id, community.topic_id),
    )
    buttons: Buttons = []
    row: list[dict[str, str]] = []
    for name in field_catalogue():
        label = render(lang, "expert_field", field=name)
        mark = "✅" if name in community.fields else "▫️"
        row.append(button(f"{mark} {label}", ToggleField(community.id, name).pack()))
        if len(row) == 2:
            buttons.append(row)
            row = []
    if row:
        buttons.append(row)
    buttons.append(
        [
            button(render(lang, "community_button_send"), SendInvitations(community.id).pack()),
            button(render(lang, "community_button_close"), CloseCommunity(community.id).pack()),
        ]
    )
    return text, buttons


async def _post_panel(session: AsyncSession, community: Community, lang: str) -> None:
    if community.staff_chat_id is None:
        return
    text, buttons = await panel(session=session, community=community, lang=lang)
    await send_text(
        session=session,
        chat_id=community.staff_chat_id,
        thread_id=community.staff_thread_id,
        text=text,
        buttons=buttons,
    )


async def open_community(
    *,
    session: AsyncSession,
    hub: HubAdmin,
    incident_id: int,
    actor_id: int,
    actor_name: str,
    role: str | None,
    hub_chat_id: int,
    staff_chat_id: int | None,
    staff_thread_id: int | None,
    now: datetime,
    lang: str = "ko",
    tz: str = "Asia/Seoul",
    work: HubWork | None = None,
) -> Opened:
    """Open the incident's community: stored now, its hub topic made once this commits.

    The topic (``createForumTopic``) is created with no transaction open, then the pinned
    brief and the staff panel are queued (:func:`prepare_topic`, started by ``work`` after the
    commit, which then checks the bot's rights in the hub). Without ``work`` (or if the worker
    dies) the next sweep does it (:func:`finish_openings`).
    """
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise CommunityError("community_error_no_incident")
    if not may_open(role, actor_id=actor_id, actor_name=actor_name, incident=incident):
        raise CommunityError("community_error_not_allowed")
    if incident.status == IncidentStatus.CLOSED:
        raise CommunityError("community_error_incident_closed")
    existing = await community_of_incident(session=session, incident_id=incident_id)
    if existing is not None and existing.state == CommunityState.OPEN:
        return Opened(community=existing)
    if existing is not None:
        await reopen_community(
            session=session, community=existing, actor_id=actor_id, now=now, lang=lang, tz=tz
        )
        _check_rights_after_commit(session, hub, work, existing, lang)
        return Opened(community=existing, reopened=True)
    brief = await build_brief(session=session, incident=incident, lang=lang, tz=tz)
    community = Community(
        incident_id=incident_id,
        hub_chat_id=hub_chat_id,
        topic_id=None,  # made after the commit: the community is "being prepared" until then
        title=brief.title(lang),
        fields=suggested_fields(incident.scenario),
        staff_chat_id=staff_chat_id,
        staff_thread_id=staff_thread_id,
        opened_by=actor_id,
        opened_at=now,
        last_activity_at=now,
    )
    await save_community(session=session, community=community)
    if work is not None:
        assert community.id is not None
        work.open_after_commit(
            session, hub=hub, community_id=community.id, now=now, lang=lang, tz=tz
        )
    return Opened(community=community, created=True)


async def prepare_topic(
    *,
    hub: HubAdmin,
    session_factory: async_sessionmaker[Any],
    community_id: int,
    now: datetime,
    lang: str = "ko",
    tz: str = "Asia/Seoul",
    turn: Turn | None = None,
) -> bool:
    """Create an opened community's hub topic outside any transaction; post its brief and panel.

    Returns whether this call made the topic. If Telegram refuses, the staff topic is told
    Telegram's answer and the opening is taken back (pressing the button again retries).
    """
    steps = Steps(session_factory, turn)
    async with steps.tx() as session:
        community = await get_community(session=session, community_id=community_id)
        if community is None or community.state != CommunityState.OPEN:
            return False
        if community.topic_id is not None:
            return False  # made meanwhile (the sweep, another worker)
        chat_id, name = community.hub_chat_id, community.title
    try:
        topic_id: int | None = await hub.create_topic(chat_id=chat_id, name=name)
        refused: HubError | None = None
    except HubError as error:
        topic_id, refused = None, error
    async with steps.tx() as session:
        community = await session.get(Community, community_id, with_for_update=True)
        if community is None or community.topic_id is not None:
            return False  # another worker's topic won; this one stays empty in the hub
        if refused is not None:
            await tell_staff(
                session=session,
                community=community,
                text=render(lang, "community_error_hub", detail=str(refused)),
            )
            await session.delete(community)
            return False
        community.topic_id = topic_id
        await save_community(session=session, community=community)
        if community.state != CommunityState.OPEN:
            return True  # closed meanwhile: the topic exists, nothing to post in it
        incident = await session.get(Incident, community.incident_id)
        assert incident is not None
        brief = await build_brief(session=session, incident=incident, lang=lang, tz=tz)
        await _post_brief(session, community, brief, lang, now)
        await _post_panel(session, community, lang)
    return True


async def finish_openings(
    *,
    hub: HubAdmin,
    session_factory: async_sessionmaker[Any],
    now: datetime,
    lang: str = "ko",
    tz: str = "Asia/Seoul",
    turn: Turn | None = None,
) -> int:
    """Make the topics of communities a dead worker left without one (the sweep's part)."""
    steps = Steps(session_factory, turn)
    async with steps.tx() as session:
        waiting = [
            community.id
            for community in await communities_without_topic(
                session=session, opened_before=now - PREPARING_LEASE
            )
            if community.id is not None
        ]
    made = 0
    for community_id in waiting:
        made += await prepare_topic(
            hub=hub,
            session_factory=session_factory,
            community_id=community_id,
            now=now,
            lang=lang,
            tz=tz,
            turn=turn,
        )
    return made


def _check_rights_after_commit(
    session: AsyncSession, hub: HubAdmin, work: HubWork | None, community: Community, lang: str
) -> None:
    """Name in the staff topic, after the commit, the hub rights the bot lacks (pins, mutes...)."""
    if work is not None and community.staff_chat_id is not None:
        assert community.id is not None
        work.check_rights_after_commit(session, hub=hub, community_id=community.id, lang=lang)


async def toggle_field(*, session: AsyncSession, community: Community, field: str) -> Community:
    """Add or remove an expert field of an open community."""
    if community.state != CommunityState.OPEN:
        raise CommunityError("community_error_closed")
    community.fields = toggle(list(community.fields), field)
    return await save_community(session=session, community=community)


async def exclude_expert(*, session: AsyncSession, community: Community, expert_id: int) -> Expert:
    """Leave one registered expert out of the invitations of this community; return them."""
    expert = await get_expert(session=session, expert_id=expert_id)
    if expert is None:
        raise CommunityError("community_error_no_expert", expert_id=expert_id)
    if expert_id not in community.excluded:
        community.excluded = [*community.excluded, expert_id]
    await save_community(session=session, community=community)
    return expert


async def close_community(
    *,
    session: AsyncSession,
    hub: HubAdmin | None,
    community: Community,
    now: datetime,
    actor_id: int | None,
    reason: str,
    lang: str = "ko",
    tz: str = "Asia/Seoul",
    work: HubWork | None = None,
) -> Community:
    """Close a community: revoke links, thank the members, close the topic, post the summary.

    With ``hub`` and ``work`` the unused links are revoked and the community's mutes lifted
    once the transaction commits, outside it (``community.hub_work``); without them (a caller
    with no messenger at hand) the next sweep does it. Until then join requests through the
    links are declined because the community is closed.
    """
    if community.state != CommunityState.OPEN:
        raise CommunityError("community_error_closed")
    assert community.id is not None
    community.state = CommunityState.CLOSED
    community.closed_at = now
    community.closed_by = actor_id
    community.close_reason = reason
    await save_community(session=session, community=community)
    if hub is not None and work is not None:
        work.tidy_after_commit(session, hub=hub, community_id=community.id, lang=lang)
    if community.topic_id is not None:
        await send_text(
            session=session,
            chat_id=community.hub_chat_id,
            thread_id=community.topic_id,
            text=render(lang, "community_closed_thanks", community=community, reason=reason),
        )
        await queue_topic_state(
            session=session,
            chat_id=community.hub_chat_id,
            thread_id=community.topic_id,
            closed=True,
        )
    for member in await members_of(
        session=session, community_id=community.id, statuses=(MemberStatus.JOINED,)
    ):
        expert = (
            await get_expert(session=session, expert_id=member.expert_id)
            if member.expert_id
            else None
        )
        language = expert.language if expert else lang
        title = await community_title(session=session, community=community, lang=language)
        await send_text(
            session=session,
            chat_id=member.telegram_user_id,
            text=render(language, "expert_thanks", title=title),
            priority=Priority.BULK,
        )
    if community.staff_chat_id is not None:
        summary = await summarise(session=session, community=community, now=now, tz=tz)
        await send_text(
            session=session,
            chat_id=community.staff_chat_id,
            thread_id=community.staff_thread_id,
            text=render(lang, "community_summary", summary=summary, reason=reason),
        )
    return community


async def reopen_community(
    *,
    session: AsyncSession,
    community: Community,
    actor_id: int | None,
    now: datetime,
    lang: str = "ko",
    tz: str = "Asia/Seoul",
) -> Community:
    """Reopen a closed community while its incident is open: topic, brief and panel again."""
    if community.state == CommunityState.OPEN:
        return community
    incident = await session.get(Incident, community.incident_id)
    if incident is None or incident.status == IncidentStatus.CLOSED:
        raise CommunityError("community_error_incident_closed")
    community.state = CommunityState.OPEN
    community.closed_at = None
    community.closed_by = None
    community.close_reason = None
    community.readonly = False
    community.quiet_warned_at = None
    community.last_activity_at = now
    community.reopen_count += 1
    await save_community(session=session, community=community)
    if community.topic_id is not None:
        await queue_topic_state(
            session=session,
            chat_id=community.hub_chat_id,
            thread_id=community.topic_id,
            closed=False,
        )
        brief = await build_brief(session=session, incident=incident, lang=lang, tz=tz)
        await send_text(
            session=session,
            chat_id=community.hub_chat_id,
            thread_id=community.topic_id,
            text=render(lang, "community_reopened", community=community),
        )
        await _post_brief(session, community, brief, lang, now)
    await _post_panel(session, community, lang)
    await _tell_members_reopened(session, community, lang)
    return community


async def _tell_members_reopened(session: AsyncSession, community: Community, lang: str) -> None:
    """Tell the members who took part (still in the hub) that their community is open again."""
    assert community.id is not None
    if community.topic_id is None:
        return
    for member in await members_of(
        session=session, community_id=community.id, statuses=(MemberStatus.JOINED,)
    ):
        expert = (
            await get_expert(session=session, expert_id=member.expert_id)
            if member.expert_id
            else None
        )
        language = expert.language if expert else lang
        await send_text(
            session=session,
            chat_id=member.telegram_user_id,
            text=render(
                language,
                "expert_community_reopened",
                title=await community_title(session=session, community=community, lang=language),
                link=topic_link(community.hub_chat_id, community.topic_id),
            ),
            priority=Priority.BULK,
        )


async def on_incident_reopened(
    *, session: AsyncSession, incident_id: int, lang: str = "ko"
) -> Community | None:
    """Offer staff to reopen the community that closed with an incident now open again.

    Call it in the transaction that reopens the incident. When the incident's latest community
    closed with it, its staff topic gets a notice with a button that reopens it (the card's
    "open expert community", which a lead or the incident's holder may press); returns that
    community, or None.
    """
    community = await community_of_incident(session=session, incident_id=incident_id)
    if community is None or community.state != CommunityState.CLOSED:
        return None
    if community.close_reason != "incident_closed" or community.staff_chat_id is None:
        return None
    await send_text(
        session=session,
        chat_id=community.staff_chat_id,
        thread_id=community.staff_thread_id,
        text=render(
            lang,
            "community_incident_reopened",
            title=await community_title(session=session, community=community, lang=lang),
        ),
        buttons=[
            [
                button(
                    render(lang, "community_button_reopen"),
                    OpenCommunity(community.incident_id).pack(),
                )
            ]
        ],
    )
    return community


async def on_incident_closed(
    *,
    session: AsyncSession,
    incident_id: int,
    now: datetime,
    hub: HubAdmin | None = None,
    actor_id: int | None = None,
    lang: str = "ko",
    tz: str = "Asia/Seoul",
    work: HubWork | None = None,
) -> Community | None:
    """Close the incident's community when the incident closes (None when it has none open).

    Call it in the transaction that closes the incident; ``hub`` and ``work`` may be omitted
    (the sweep then revokes the unused links and lifts the mutes).
    """
    community = await community_of_incident(session=session, incident_id=incident_id)
    if community is None or community.state != CommunityState.OPEN:
        return None
    return await close_community(
        session=session,
        hub=hub,
        community=community,
        now=now,
        actor_id=actor_id,
        reason="incident_closed",
        lang=lang,
        tz=tz,
        work=work,
    )


@dataclass
class Sweep:
    """What one quiet-period sweep did."""

    warned: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    revoked: int = 0  # links revoked after the commit (``bot.hub_admin.sweep_communities``)


async def sweep_quiet(
    *,
    session: AsyncSession,
    now: datetime,
    config: CommunityConfig,
    lang: str = "ko",
    tz: str = "Asia/Seoul",
) -> Sweep:
    """Close communities of closed incidents; warn quiet ones, then close them after the warning.

    Only the database: the links and mutes of closed communities are the messenger's part,
    done after the commit (``community.hub_work.tidy_closed``).
    """
    result = Sweep()
    for community in await communities_of_closed_incidents(session=session):
        assert community.id is not None
        await close_community(
            session=session,
            hub=None,
            community=community,
            now=now,
            actor_id=None,
            reason="incident_closed",
            lang=lang,
            tz=tz,
        )
        result.closed.append(community.id)
    quiet = config.quiet_period
    warning = min(config.warning_before, quiet)
    for community in await quiet_communities(session=session, idle_since=now - (quiet - warning)):
        assert community.id is not None
        if community.quiet_warned_at is None:
            community.quiet_warned_at = now
            await save_community(session=session, community=community)
            targets = [(community.hub_chat_id, community.topic_id)]
            if community.staff_chat_id is not None:
                targets.append((community.staff_chat_id, community.staff_thread_id))
            for chat_id, thread_id in targets:
                await send_text(
                    session=session,
                    chat_id=chat_id,
                    thread_id=thread_id,
                    text=render(
                        lang, "community_quiet_warning", community=community, closes_in=warning
                    ),
                )
            result.warned.append(community.id)
            continue
        idle_enough = community.last_activity_at <= now - quiet
        warned_long_enough = community.quiet_warned_at <= now - warning
        if idle_enough and warned_long_enough:
            await close_community(
                session=session,
                hub=None,
                community=community,
                now=now,
                actor_id=None,
                reason="quiet",
                lang=lang,
                tz=tz,
            )
            result.closed.append(community.id)
    return result
