"""Membership: invite links, join requests, approve/decline, ban/unban/restrict/promote."""

from __future__ import annotations

import time

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import ChatPermissions

from sandbox.client import SandboxError
from tests.sandbox.conftest import TOKEN, World


async def test_invite_link_join_request_approve_chat_member(world: World) -> None:
    group = world.staff["id"]
    await world.bot.get_updates(offset=-1, allowed_updates=["chat_join_request", "chat_member"])
    link = await world.bot.create_chat_invite_link(group, name="전문가", creates_join_request=True)
    assert link.creates_join_request and link.invite_link.startswith("https://t.me/+")
    carol = await world.client.create_user(first_name="Carol", bio="구조 전문가")
    assert (await world.client.join_request(carol["id"], link.invite_link))["status"] == "requested"
    updates = await world.bot.get_updates(offset=-1)
    request = updates[-1].chat_join_request
    assert request is not None
    assert request.from_user.id == carol["id"] and request.user_chat_id == carol["id"]
    assert request.invite_link and request.invite_link.invite_link == link.invite_link
    assert request.bio == "구조 전문가"
    assert await world.bot.approve_chat_join_request(group, carol["id"])
    updates = await world.bot.get_updates(offset=updates[-1].update_id + 1)
    member_update = updates[-1].chat_member
    assert member_update is not None
    assert member_update.old_chat_member.status == "left"
    assert member_update.new_chat_member.status == "member"
    assert member_update.via_join_request
    assert (await world.client.member(group, carol["id"]))["status"] == "member"
    with pytest.raises(TelegramBadRequest, match="HIDE_REQUESTER_MISSING"):
        await world.bot.approve_chat_join_request(group, carol["id"])


async def test_decline_and_direct_join(world: World) -> None:
    group = world.staff["id"]
    request_link = await world.bot.create_chat_invite_link(group, creates_join_request=True)
    dan = await world.client.create_user(first_name="Dan")
    await world.client.join_request(dan["id"], request_link.invite_link)
    assert await world.bot.decline_chat_join_request(group, dan["id"])
    assert (await world.client.member(group, dan["id"]))["status"] == "left"
    open_link = await world.bot.create_chat_invite_link(group, member_limit=1)
    assert (await world.client.join_request(dan["id"], open_link.invite_link))["status"] == "joined"
    erin = await world.client.create_user(first_name="Erin")
    with pytest.raises(SandboxError, match="USERS_TOO_MUCH"):
        await world.client.join_request(erin["id"], open_link.invite_link)
    revoked = await world.bot.revoke_chat_invite_link(group, request_link.invite_link)
    assert revoked.is_revoked
    with pytest.raises(SandboxError, match="INVITE_HASH_EXPIRED"):
        await world.client.join_request(erin["id"], request_link.invite_link)


async def test_ban_unban_and_banned_users_cannot_join(world: World) -> None:
    group, bob = world.staff["id"], world.bob["id"]
    assert await world.bot.ban_chat_member(group, bob)
    assert (await world.bot.get_chat_member(group, bob)).status == "kicked"
    link = await world.bot.create_chat_invite_link(group)
    with pytest.raises(SandboxError, match="USER_BANNED_IN_CHANNEL"):
        await world.client.join_request(bob, link.invite_link)
    assert await world.bot.unban_chat_member(group, bob, only_if_banned=True)
    assert (await world.bot.get_chat_member(group, bob)).status == "left"
    await world.client.join_request(bob, link.invite_link)
    assert (await world.bot.get_chat_member(group, bob)).status == "member"
    with pytest.raises(TelegramBadRequest, match="can't remove chat owner"):
        await world.bot.ban_chat_member(group, world.alice["id"])


async def test_restricted_members_cannot_send(world: World) -> None:
    group, bob = world.staff["id"], world.bob["id"]
    assert await world.bot.restrict_chat_member(
        group, bob, ChatPermissions(can_send_messages=False)
    )
    member = await world.bot.get_chat_member(group, bob)
    assert member.status == "restricted"
    with pytest.raises(SandboxError, match="can_send_messages is false"):
        await world.client.send_text(bob, group, "말할 수 있나요?")
    everything = ChatPermissions(
        can_send_messages=True,
        can_send_audios=True,
        can_send_documents=True,
        can_send_photos=True,
        can_send_videos=True,
        can_send_video_notes=True,
        can_send_voice_notes=True,
        can_send_polls=True,
        can_send_other_messages=True,
        can_add_web_page_previews=True,
    )
    await world.bot.restrict_chat_member(group, bob, everything)
    assert (await world.bot.get_chat_member(group, bob)).status == "member"
    await world.client.send_text(bob, group, "이제 됩니다")


async def test_promote_and_administrators(world: World) -> None:
    group, bob = world.staff["id"], world.bob["id"]
    promoter = await world.client.create_supergroup(
        title="Promoting",
        bot_token=TOKEN,
        bot_rights={"can_promote_members": True, "can_pin_messages": True},
        members=[bob],
        admins=[world.alice["id"]],
    )
    assert await world.bot.promote_chat_member(promoter["id"], bob, can_pin_messages=True)
    admins = await world.bot.get_chat_administrators(promoter["id"])
    assert {a.user.id for a in admins} >= {bob, world.alice["id"]}
    with pytest.raises(TelegramBadRequest, match="RIGHT_FORBIDDEN"):
        await world.bot.promote_chat_member(promoter["id"], bob, can_delete_messages=True)
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await world.bot.promote_chat_member(group, bob, can_pin_messages=True)
    assert await world.bot.promote_chat_member(promoter["id"], bob)
    assert (await world.bot.get_chat_member(promoter["id"], bob)).status == "member"


async def test_timed_restrictions_and_bans_expire(world: World) -> None:
    group, bob = world.staff["id"], world.bob["id"]
    now = int(time.time())
    await world.bot.restrict_chat_member(
        group, bob, ChatPermissions(can_send_messages=False), until_date=now + 600
    )
    with pytest.raises(SandboxError, match="can_send_messages is false"):
        await world.client.send_text(bob, group, "조용히")
    await world.client.advance_time(601)
    await world.client.send_text(bob, group, "이제 말할 수 있어요")
    assert (await world.bot.get_chat_member(group, bob)).status == "member"
    carol = await world.client.create_user(first_name="Carol")
    await world.client.add_member(group, carol["id"])
    await world.bot.ban_chat_member(group, carol["id"], until_date=int(time.time()) + 601 + 120)
    link = await world.bot.create_chat_invite_link(group)
    with pytest.raises(SandboxError, match="USER_BANNED_IN_CHANNEL"):
        await world.client.join_request(carol["id"], link.invite_link)
    await world.client.advance_time(200)
    assert (await world.client.join_request(carol["id"], link.invite_link))["status"] == "joined"
    # until_date under 30 seconds away means forever, as on Telegram
    await world.bot.ban_chat_member(group, carol["id"], until_date=int(time.time()) + 801 + 10)
    await world.client.advance_time(3600)
    assert (await world.bot.get_chat_member(group, carol["id"])).status == "kicked"


async def test_owner_removes_the_bot(world: World) -> None:
    await world.bot.get_updates(offset=-1)
    await world.client.remove_member(world.staff["id"], world.me["id"])
    updates = await world.bot.get_updates()
    change = updates[-1].my_chat_member
    assert change and change.new_chat_member.status == "left"
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the supergroup chat"):
        await world.bot.send_message(world.staff["id"], "아직 있나요?")
    await world.client.remove_member(world.staff["id"], world.bob["id"], ban=True)
    assert (await world.client.member(world.staff["id"], world.bob["id"]))["status"] == "kicked"
