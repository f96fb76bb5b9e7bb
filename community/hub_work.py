"""Hub calls a community's transaction asks for, made once it has committed and outside it.

Usage::

    work = HubWork(session_factory=factory, turn=write_turn)
    work.tidy_after_commit(session, hub=hub, community_id=7, lang="ko")  # a community closed
    work.open_after_commit(session, hub=hub, community_id=7, now=now, lang="ko", tz=tz)
    work.check_rights_after_commit(session, hub=hub, community_id=7, lang="ko")  # reopened
    work.invite_after_commit(session, hub=hub, chosen=chosen)  # invitations decided
    # ... the session commits: the calls start in a task, each result in a short transaction
    await work.wait()  # everything started so far has ended

    await tidy_closed(hub=hub, session_factory=factory)  # the sweep's part: every closed one

    action = await mute(session=session, community=community, user_id=42, now=now)
    work.carry_out_after_commit(session, hub=hub, action=action)  # moderation, after commit

    request = await decide_join_request(session=session, chat_id=hub_id, user_id=42, ...)
    work.answer_join_after_commit(session, hub=hub, request_id=request.id, now=now)

Opening a community makes its hub topic here (then posts the brief and panel, and checks the
rights); invitations make their hub checks and links here (``community.invitations``).

A Telegram call never runs inside a database transaction here: a slow or failing call must not
hold the update's transaction (on SQLite the process's write turn, which every other update
waits for). Each membership is read in a short transaction, the call is made, and its outcome
is written in another.

Tidying a closed community revokes its unused invite links and lifts the mutes it imposed
(Telegram mutes in the whole hub). The rows say what is left to do (``link_revoked`` false,
``muted`` true), so nothing is lost when the process stops between the commit and the call:
the next sweep (:func:`tidy_closed`) finds the rows and does it. A mute Telegram refuses for
good (the bot lost its rights) is handed to staff once, in the staff topic; a refusal that may
pass (flood control, a server error) leaves the row muted, and the next sweep tries again. The
rights check after an opening only tells staff; if it is lost, the check at the next start-up
and at the next opening or reopening names the missing rights again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from community.invitations import Round, complete_invitations
from community.joins import answer_join_request
from community.lifecycle import prepare_topic
from community.moderation import HubAction, call, record_done, record_refused
from community.outgoing import send_text, tell_staff
from community.ports import HubAdmin, HubError
from community.steps import Steps, Turn
from situation.texts import render
from storage.commit_hooks import CommittedTasks
from storage.communities import (
    closed_with_live_links,
    closed_with_mutes,
    get_community,
    get_member,
    members_of,
    memberships_of_user,
    save_member,
)
from storage.models.communities import Community, CommunityMember, CommunityState

log = logging.getLogger(__name__)


@dataclass
class Tidied:
    """What tidying closed communities did."""

    revoked: int = 0
    unmuted: int = 0
    told: int = 0  # mutes Telegram refused for good, handed to staff
    retry: int = 0  # mutes left for the next sweep


async def _muted_elsewhere(session: AsyncSession, member: CommunityMember) -> bool:
    """Whether another open community muted the same person (their mute must stay)."""
    for other in await memberships_of_user(
        session=session, telegram_user_id=member.telegram_user_id
    ):
        if other.community_id == member.community_id or not other.muted:
            continue
        found = await get_community(session=session, community_id=other.community_id)
        if found is not None and found.state == CommunityState.OPEN:
            return True
    return False


async def _closed(session: AsyncSession, community_id: int) -> Community | None:
    community = await get_community(session=session, community_id=community_id)
    if community is None or community.state != CommunityState.CLOSED:
        return None
    return community


async def _revoke_links(steps: Steps, hub: HubAdmin, community_id: int, done: Tidied) -> None:
    async with steps.tx() as session:
        community = await _closed(session, community_id)
        if community is None:
            return
        chat_id = community.hub_chat_id
        links = [
            (member.id, member.invite_link)
            for member in await members_of(session=session, community_id=community_id)
            if member.invite_link and not member.link_revoked
        ]
    for member_id, link in links:
        try:
            await hub.revoke_invite_link(chat_id=chat_id, invite_link=link)
            done.revoked += 1
        except HubError:
            pass  # expired links cannot be revoked twice; they are unusable either way
        async with steps.tx() as session:
            member = await session.get(CommunityMember, member_id)
            if member is not None and member.invite_link == link and not member.link_revoked:
                member.link_revoked = True
                await save_member(session=session, member=member)


async def _lift_mutes(
    steps: Steps, hub: HubAdmin, community_id: int, lang: str, done: Tidied
) -> None:
    async with steps.tx() as session:
        community = await _closed(session, community_id)
        if community is None:
            return
        chat_id = community.hub_chat_id
        muted = [
            member.id
            for member in await members_of(session=session, community_id=community_id)
            if member.muted
        ]
    for member_id in muted:
        async with steps.tx() as session:
            member = await session.get(CommunityMember, member_id)
            if member is None or not member.muted:
                continue  # lifted meanwhile (the sweep, another worker)
            user_id = member.telegram_user_id
            if await _muted_elsewhere(session, member):
                member.muted = False  # the other community lifts it when it closes
                await save_member(session=session, member=member)
                continue
        refused: HubError | None = None
        try:
            await hub.restrict(chat_id=chat_id, user_id=user_id, can_send=True)
        except HubError as error:
            if error.retry:
                done.retry += 1
                continue  # the flag stays true: the next sweep tries again
            refused = error
        async with steps.tx() as session:
            member = await session.get(CommunityMember, member_id, with_for_update=True)
            if member is None or not member.muted:
                continue  # someone else recorded it (and told staff) meanwhile
            member.muted = False
            await save_member(session=session, member=member)
            if refused is None:
                done.unmuted += 1
                continue
            community = await get_community(session=session, community_id=community_id)
            assert community is not None
            await tell_staff(
                session=session,
                community=community,
                text=render(
                    lang, "community_unmute_failed", expert=member.name, detail=str(refused)
                ),
            )
            done.told += 1


async def tidy(
    *,
    hub: HubAdmin,
    session_factory: async_sessionmaker[Any],
    community_id: int,
    lang: str = "ko",
    turn: Turn | None = None,
) -> Tidied:
    """Revoke a closed community's unused links and lift its mutes, outside any transaction."""
    steps, done = Steps(session_factory, turn), Tidied()
    await _revoke_links(steps, hub, community_id, done)
    await _lift_mutes(steps, hub, community_id, lang, done)
    return done


async def tidy_closed(
    *,
    hub: HubAdmin,
    session_factory: async_sessionmaker[Any],
    lang: str = "ko",
    turn: Turn | None = None,
) -> Tidied:
    """Tidy every closed community with live links or mutes left (the sweep's messenger part)."""
    steps, done = Steps(session_factory, turn), Tidied()
    async with steps.tx() as session:
        with_links = [c.id for c in await closed_with_live_links(session=session)]
        with_mutes = [c.id for c in await closed_with_mutes(session=session)]
    for community_id in with_links:
        assert community_id is not None
        await _revoke_links(steps, hub, community_id, done)
    for community_id in with_mutes:
        assert community_id is not None
        await _lift_mutes(steps, hub, community_id, lang, done)
    return done


async def check_rights(
    *,
    hub: HubAdmin,
    session_factory: async_sessionmaker[Any],
    community_id: int,
    lang: str = "ko",
    turn: Turn | None = None,
) -> list[str]:
    """Name in the community's staff topic the hub rights the bot lacks now; return them."""
    steps = Steps(session_factory, turn)
    async with steps.tx() as session:
        community = await get_community(session=session, community_id=community_id)
        if community is None or community.staff_chat_id is None:
            return []
        chat_id = community.hub_chat_id
    missing = await hub.missing_rights(chat_id=chat_id)
    if missing:
        async with steps.tx() as session:
            community = await get_community(session=session, community_id=community_id)
            assert community is not None and community.staff_chat_id is not None
            await send_text(
                session=session,
                chat_id=community.staff_chat_id,
                thread_id=community.staff_thread_id,
                text=render(lang, "community_hub_rights_missing", missing=missing),
            )
    return missing


async def carry_out(
    *,
    hub: HubAdmin,
    session_factory: async_sessionmaker[Any],
    action: HubAction,
    turn: Turn | None = None,
) -> bool:
    """Make a moderation action's Telegram call outside any transaction; record the outcome.

    Returns whether Telegram carried it out. A refusal takes back what the deciding
    transaction stored and tells the staff topic, with Telegram's answer.
    """
    steps = Steps(session_factory, turn)
    if action.kind == "mute":
        async with steps.tx() as session:
            community = await get_community(session=session, community_id=action.community_id)
            member = await get_member(
                session=session,
                community_id=action.community_id,
                telegram_user_id=action.user_id,
            )
            if community is None or community.state != CommunityState.OPEN:
                return False  # closed meanwhile: a mute now would outlive the community
            if member is None or not member.muted:
                return False  # unmuted meanwhile
    refused: HubError | None = None
    try:
        await call(hub, action)
    except HubError as error:
        refused = error
    link_revoked = False
    if refused is None and action.link:
        with contextlib.suppress(HubError):  # an expired link is unusable anyway
            await hub.revoke_invite_link(chat_id=action.chat_id, invite_link=action.link)
        link_revoked = True
    async with steps.tx() as session:
        community = await get_community(session=session, community_id=action.community_id)
        assert community is not None
        if refused is None:
            await record_done(
                session=session, community=community, action=action, link_revoked=link_revoked
            )
        else:
            await record_refused(
                session=session, community=community, action=action, detail=str(refused)
            )
    return refused is None


class HubWork:
    """Start :func:`tidy` or :func:`check_rights` once the asking transaction commits."""

    def __init__(self, *, session_factory: async_sessionmaker[Any], turn: Turn | None = None):
        """``turn``: entered around each short transaction (the bot's SQLite write turn)."""
        self._session_factory = session_factory
        self._turn = turn
        self._committed = CommittedTasks()

    def tidy_after_commit(
        self, session: AsyncSession, *, hub: HubAdmin, community_id: int, lang: str
    ) -> None:
        """Tidy the community (links, mutes) once ``session``'s transaction commits."""
        self._after_commit(
            session,
            "tidy-community",
            lambda: tidy(
                hub=hub,
                session_factory=self._session_factory,
                community_id=community_id,
                lang=lang,
                turn=self._turn,
            ),
        )

    def check_rights_after_commit(
        self, session: AsyncSession, *, hub: HubAdmin, community_id: int, lang: str
    ) -> None:
        """Check the bot's hub rights for the community once ``session`` commits."""
        self._after_commit(
            session,
            "check-hub-rights",
            lambda: check_rights(
                hub=hub,
                session_factory=self._session_factory,
                community_id=community_id,
                lang=lang,
                turn=self._turn,
            ),
        )

    def open_after_commit(
        self,
        session: AsyncSession,
        *,
        hub: HubAdmin,
        community_id: int,
        now: datetime,
        lang: str,
        tz: str,
    ) -> None:
        """Make an opened community's topic once ``session`` commits, then check the rights."""

        async def work() -> None:
            made = await prepare_topic(
                hub=hub,
                session_factory=self._session_factory,
                community_id=community_id,
                now=now,
                lang=lang,
                tz=tz,
                turn=self._turn,
            )
            if made:
                await check_rights(
                    hub=hub,
                    session_factory=self._session_factory,
                    community_id=community_id,
                    lang=lang,
                    turn=self._turn,
                )

        self._after_commit(session, "open-community", work)

    def invite_after_commit(self, session: AsyncSession, *, hub: HubAdmin, chosen: Round) -> None:
        """Make the decided invitations' hub calls once ``session`` commits; report them."""
        self._after_commit(
            session,
            "invite-experts",
            lambda: complete_invitations(
                hub=hub, session_factory=self._session_factory, chosen=chosen, turn=self._turn
            ),
        )

    def carry_out_after_commit(
        self, session: AsyncSession, *, hub: HubAdmin, action: HubAction
    ) -> None:
        """Make a moderation action's call once ``session`` commits; record its outcome."""
        self._after_commit(
            session,
            f"hub-{action.kind}",
            lambda: carry_out(
                hub=hub, session_factory=self._session_factory, action=action, turn=self._turn
            ),
        )

    def answer_join_after_commit(
        self, session: AsyncSession, *, hub: HubAdmin, request_id: int, now: datetime
    ) -> None:
        """Answer a stored join request once ``session`` commits; record the outcome."""
        self._after_commit(
            session,
            "join-request",
            lambda: answer_join_request(
                hub=hub,
                session_factory=self._session_factory,
                request_id=request_id,
                now=now,
                turn=self._turn,
            ),
        )

    def _after_commit(
        self, session: AsyncSession, name: str, work: Callable[[], Awaitable[Any]]
    ) -> None:
        self._committed.start_after_commit(session, name, lambda: self._run(name, work))

    async def _run(self, name: str, work: Callable[[], Awaitable[Any]]) -> None:
        try:
            await work()
        except Exception:
            log.exception("%s failed; the next community sweep catches up", name)

    def busy(self) -> bool:
        """Whether hub work is waiting to start or running."""
        return self._committed.busy()

    async def wait(self) -> None:
        """Wait until every piece of work started so far has ended."""
        await self._committed.wait()
