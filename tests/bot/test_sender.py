"""The sender delivers the outbox through the sandbox like it would through Telegram."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.ratelimit import ChatKind, RateLimiter, RateLimitTimeout
from bot.sender import Delivery, Sender
from bot.settings import SenderSettings
from sandbox.client import SandboxClient
from sandbox.images import tiny_png
from sandbox.server import SandboxServer
from storage import chats, migrate
from storage import outbox as repo
from storage.engine import create_engine, create_session_factory
from storage.models.base import utcnow
from storage.models.outbox import (
    OutboxCreate,
    OutboxError,
    OutboxMessage,
    Priority,
    error_code,
)
from storage.outbox import OutboxSignal

TOKEN = "123456:SENDER-TEST"
Factory = async_sessionmaker[AsyncSession]
FAST = SenderSettings(
    global_per_second=1000,
    private_per_second=1000,
    private_burst=100,
    group_per_minute=60000,
    group_burst=100,
    max_network_retries=3,
)
BOT_RIGHTS = {
    "can_manage_topics": True,
    "can_pin_messages": True,
    "can_delete_messages": True,
    "can_invite_users": True,
}


@dataclass
class World:
    """A bot, three citizens who started it, a staff forum, and the bot's session."""

    client: SandboxClient
    bot: Bot
    citizens: list[int]
    forum: int


@pytest.fixture
async def world(sandbox: SandboxServer, sandbox_client: SandboxClient) -> AsyncIterator[World]:
    await sandbox_client.create_bot(token=TOKEN, username="jikimi_test_bot")
    citizens = []
    for name in ("민지", "Alex", "서준"):
        user = await sandbox_client.create_user(first_name=name)
        await sandbox_client.start_bot(user["id"])
        citizens.append(int(user["id"]))
    staff = await sandbox_client.create_user(first_name="Staff")
    forum = await sandbox_client.create_supergroup(
        title="상황실", is_forum=True, bot_token=TOKEN, bot_rights=BOT_RIGHTS, admins=[staff["id"]]
    )
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url)))
    try:
        yield World(sandbox_client, bot, citizens, int(forum["id"]))
    finally:
        await bot.session.close()


def make_sender(world: World, factory: Factory, **kwargs: Any) -> tuple[Sender, OutboxSignal]:
    signal = OutboxSignal()
    signal.attach(factory)
    kwargs.setdefault("settings", FAST)
    kwargs.setdefault("backoff_base", 0.05)
    sender = Sender(
        bot=world.bot, session_factory=factory, signal=signal, worker_id="test", **kwargs
    )
    return sender, signal


async def enqueue(factory: Factory, *messages: OutboxCreate) -> list[int]:
    ids = []
    async with factory() as session, session.begin():
        for message in messages:
            row = await repo.enqueue(session=session, message=message)
            assert row.id is not None
            ids.append(row.id)
    return ids


async def settled(factory: Factory, limit: float = 30.0) -> list[OutboxMessage]:
    """Wait until no row is pending or sending, then return every row (oldest first)."""
    async with asyncio.timeout(limit):
        while True:
            async with factory() as session:
                rows = list(
                    (
                        await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
                    ).all()
                )
            if all(row.status not in ("pending", "sending") for row in rows):
                return rows
            await asyncio.sleep(0.05)


async def deliver(world: World, factory: Factory, *messages: OutboxCreate, **kwargs: Any):
    """Enqueue the messages, run a sender until they are settled, and return the rows."""
    await enqueue(factory, *messages)
    sender, _ = make_sender(world, factory, **kwargs)
    await sender.start()
    try:
        return await settled(factory)
    finally:
        await sender.stop()


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in messages]


async def from_bot(
    world: World, chat_id: int, thread_id: int | None = None
) -> list[dict[str, Any]]:
    """What the chat shows that the bot sent, oldest first."""
    shown = await world.client.messages(chat_id, message_thread_id=thread_id)
    return [m for m in shown if m.get("from", {}).get("is_bot")]


async def test_text_with_html_buttons_and_reply_keyboard(
    world: World, session_factory: Factory
) -> None:
    """Text goes out as HTML with inline buttons; a reply keyboard asks for the location."""
    citizen = world.citizens[0]
    rows = await deliver(
        world,
        session_factory,
        OutboxCreate(
            chat_id=citizen,
            kind="text",
            priority=Priority.CITIZEN_REPLY,
            payload={
                "text": "<b>접수되었습니다</b> https://example.org",
                "buttons": [
                    [
                        {"text": "취소", "data": "r:1:cancel"},
                        {"text": "119", "url": "https://www.119.go.kr"},
                    ]
                ],
            },
            correlation="report:1:ack",
        ),
        OutboxCreate(
            chat_id=citizen,
            kind="text",
            priority=Priority.CITIZEN_REPLY,
            payload={
                "text": "위치를 보내 주세요",
                "reply_keyboard": {
                    "keyboard": [[{"text": "📍 위치 보내기", "request_location": True}]],
                    "one_time": True,
                },
            },
        ),
    )
    assert [row.status for row in rows] == ["sent", "sent"]
    shown = await from_bot(world, citizen)
    assert texts(shown) == ["접수되었습니다 https://example.org", "위치를 보내 주세요"]
    assert shown[0]["entities"][0]["type"] == "bold"
    inline = shown[0]["reply_markup"]["inline_keyboard"][0]
    assert inline[0]["callback_data"] == "r:1:cancel"
    assert shown[1]["reply_markup"]["keyboard"][0][0]["request_location"] is True
    assert rows[0].result_message_id == shown[0]["message_id"]
    async with session_factory() as session:
        found = await repo.find_sent(session=session, correlation="report:1:ack")
    assert found is not None and found.result_message_id == shown[0]["message_id"]


@pytest.mark.slow
async def test_429_storm_delivers_every_message_once_and_in_order(
    world: World, session_factory: Factory
) -> None:
    """Under repeated 429s every message arrives exactly once, in order within each chat."""
    expected: dict[int, list[str]] = {}
    messages = []
    for n in range(6):
        for chat in [*world.citizens, world.forum]:
            label = f"chat {chat} message {n}"
            expected.setdefault(chat, []).append(label)
            priority = 2 if chat == world.forum else n % 2
            messages.append(
                OutboxCreate(chat_id=chat, kind="text", payload={"text": label}, priority=priority)
            )
    await world.client.fault("429", count=6, retry_after=1)
    sender_rows = await deliver(world, session_factory, *messages)
    assert {row.status for row in sender_rows} == {"sent"}
    assert all(row.attempts == 0 for row in sender_rows)  # 429 is not a failed attempt
    for chat, labels in expected.items():
        assert texts(await from_bot(world, chat)) == labels
    assert any(
        (row.last_error or "").startswith(OutboxError.RATE_LIMITED) for row in sender_rows
    ), "the storm should have been felt"


async def test_blocked_user_is_marked_unreachable(world: World, session_factory: Factory) -> None:
    """403 settles the rows as unreachable and records the chat; other chats are unaffected."""
    blocked, other = world.citizens[0], world.citizens[1]
    await world.client.block_bot(blocked)
    rows = await deliver(
        world,
        session_factory,
        OutboxCreate(chat_id=blocked, kind="text", payload={"text": "one"}),
        OutboxCreate(chat_id=blocked, kind="text", payload={"text": "two"}),
        OutboxCreate(chat_id=other, kind="text", payload={"text": "fine"}),
    )
    assert [row.status for row in rows] == ["unreachable", "unreachable", "sent"]
    assert error_code(rows[0].last_error) is OutboxError.FORBIDDEN
    assert "blocked" in (rows[0].last_error or "")
    async with session_factory() as session:
        assert await chats.is_unreachable(session=session, chat_id=blocked)
        assert not await chats.is_unreachable(session=session, chat_id=other)


async def test_bad_request_is_recorded_and_not_retried(
    world: World, session_factory: Factory
) -> None:
    """A 400 fails the row at once with Telegram's reason; the chat's next message still goes."""
    citizen = world.citizens[0]
    rows = await deliver(
        world,
        session_factory,
        OutboxCreate(chat_id=citizen, kind="text", payload={"text": "line<br>break"}),
        OutboxCreate(chat_id=citizen, kind="text", payload={"text": "after"}),
        OutboxCreate(chat_id=-1009999, kind="text", payload={"text": "nowhere"}),
    )
    assert [row.status for row in rows] == ["failed", "sent", "failed"]
    assert rows[0].attempts == 0
    assert error_code(rows[0].last_error) is OutboxError.BAD_REQUEST
    assert "can't parse entities" in (rows[0].last_error or "")
    assert "chat not found" in (rows[2].last_error or "")
    assert texts(await from_bot(world, citizen)) == ["after"]


async def test_topic_refs_edit_pin_and_not_modified(world: World, session_factory: Factory) -> None:
    """A topic is created, posted into by thread_ref, edited, pinned and closed by reference."""
    forum = world.forum
    ref = {"thread_ref": "incident:42:topic"}
    rows = await deliver(
        world,
        session_factory,
        OutboxCreate(
            chat_id=forum,
            kind="create_topic",
            payload={"name": "#42 화재"},
            correlation=ref["thread_ref"],
        ),
        OutboxCreate(
            chat_id=forum,
            kind="text",
            payload={"text": "카드 v1"},
            correlation="incident:42:card",
            **ref,
        ),
        OutboxCreate(
            chat_id=forum,
            kind="edit_text",
            payload={"text": "카드 v2", "buttons": [[{"text": "담당", "data": "i:42:take"}]]},
            target_ref="incident:42:card",
        ),
        OutboxCreate(
            chat_id=forum,
            kind="edit_text",
            payload={"text": "카드 v2", "buttons": [[{"text": "담당", "data": "i:42:take"}]]},
            target_ref="incident:42:card",
        ),
        OutboxCreate(chat_id=forum, kind="pin", payload={}, target_ref="incident:42:card", **ref),
        OutboxCreate(chat_id=forum, kind="edit_topic", payload={"name": "#42 화재 (진화)"}, **ref),
        OutboxCreate(chat_id=forum, kind="close_topic", payload={}, **ref),
    )
    assert [row.status for row in rows] == ["sent"] * 7, [row.last_error for row in rows]
    thread_id = rows[0].result_thread_id
    assert thread_id is not None
    assert rows[1].result_thread_id == thread_id
    assert rows[3].result == {"not_modified": True}
    shown = await from_bot(world, forum, thread_id)
    card = next(m for m in shown if m["message_id"] == rows[1].result_message_id)
    assert card["text"] == "카드 v2"
    assert card["pinned"] is True
    topics = {t["message_thread_id"]: t for t in await world.client.topics(forum)}
    assert topics[thread_id]["name"] == "#42 화재 (진화)"
    assert topics[thread_id]["is_closed"] is True


async def test_failed_or_missing_reference_fails_clearly(
    world: World, session_factory: Factory
) -> None:
    """A row whose reference failed or does not exist fails with a code saying so."""
    rows = await deliver(
        world,
        session_factory,
        OutboxCreate(
            chat_id=-1009999, kind="create_topic", payload={"name": "x"}, correlation="bad:topic"
        ),
        OutboxCreate(
            chat_id=world.forum, kind="text", payload={"text": "x"}, thread_ref="bad:topic"
        ),
        OutboxCreate(
            chat_id=world.citizens[0], kind="delete", payload={}, target_ref="never:written"
        ),
        OutboxCreate(chat_id=world.forum, kind="text", payload={"text": "x"}, thread_id=987654),
    )
    assert [row.status for row in rows] == ["failed"] * 4
    assert [error_code(row.last_error) for row in rows] == [
        OutboxError.BAD_REQUEST,
        OutboxError.REF_FAILED,
        OutboxError.REF_MISSING,
        OutboxError.THREAD_NOT_FOUND,
    ]


async def test_database_unavailable_while_reading_references_retries_the_claim(
    world: World, session_factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database error reading a claim's references undoes the claim: the row is sent after."""
    real_find_many = repo.find_many
    failures = [OperationalError("SELECT", {}, ConnectionResetError("connection lost"))]

    async def flaky_find_many(**kwargs: Any) -> dict[str, OutboxMessage]:
        if failures and kwargs["correlations"]:
            raise failures.pop()
        return await real_find_many(**kwargs)

    monkeypatch.setattr(repo, "find_many", flaky_find_many)
    forum = world.forum
    topic, post = await deliver(
        world,
        session_factory,
        OutboxCreate(chat_id=forum, kind="create_topic", payload={"name": "#7"}, correlation="t:7"),
        OutboxCreate(chat_id=forum, kind="text", payload={"text": "카드"}, thread_ref="t:7"),
        poll_interval=0.1,
    )
    assert failures == []
    assert (topic.status, post.status) == ("sent", "sent"), post.last_error
    assert post.attempts == 0
    assert post.result_thread_id == topic.result_thread_id is not None
    shown = texts(await from_bot(world, forum, topic.result_thread_id))
    assert [text for text in shown if text] == ["카드"]  # after the topic's service message


async def test_references_are_read_with_the_claim(
    world: World, session_factory: Factory, engine: AsyncEngine
) -> None:
    """Posts into a topic learn its thread id from their claim, not a transaction each."""
    forum = world.forum
    posts = [f"post {n}" for n in range(6)]
    await enqueue(
        session_factory,
        OutboxCreate(chat_id=forum, kind="create_topic", payload={"name": "#8"}, correlation="t:8"),
        *(
            OutboxCreate(chat_id=forum, kind="text", payload={"text": t}, thread_ref="t:8")
            for t in posts
        ),
    )
    transactions = 0

    def count(_connection: object) -> None:
        nonlocal transactions
        transactions += 1

    event.listen(engine.sync_engine, "commit", count)
    event.listen(engine.sync_engine, "rollback", count)
    all_sent = asyncio.Event()

    async def on_sent(_row: OutboxMessage) -> None:
        if sender.stats.sent == len(posts) + 1:
            all_sent.set()

    sender, _ = make_sender(world, session_factory, poll_interval=3600, on_sent=[on_sent])
    await sender.start()
    try:
        async with asyncio.timeout(30):  # not polling the database: that would count too
            await all_sent.wait()
    finally:
        await sender.stop()
        event.remove(engine.sync_engine, "commit", count)
        event.remove(engine.sync_engine, "rollback", count)
    rows = await settled(session_factory)
    assert [row.status for row in rows] == ["sent"] * (len(posts) + 1)
    assert {row.result_thread_id for row in rows} == {rows[0].result_thread_id}
    topic_messages = await from_bot(world, forum, rows[0].result_thread_id)
    assert [text for text in texts(topic_messages) if text] == posts
    # A claim, then one recording transaction per delivery that claims the next post (one
    # more claim on PostgreSQL, when the LISTEN starts): a transaction per reference read
    # made it fourteen or more.
    assert transactions <= len(posts) + 3, transactions


async def test_a_chats_next_message_is_claimed_as_the_previous_is_recorded(
    world: World, session_factory: Factory, engine: AsyncEngine
) -> None:
    """Recording a delivery and claiming the chat's next row share one transaction."""
    citizen = world.citizens[0]
    labels = ["one", "two", "three", "four"]
    await enqueue(
        session_factory,
        *(OutboxCreate(chat_id=citizen, kind="text", payload={"text": t}) for t in labels),
    )
    commits = 0

    def count(_connection: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", count)
    sender, _ = make_sender(world, session_factory, poll_interval=3600)
    await sender.start()
    try:
        rows = await settled(session_factory)
    finally:
        await sender.stop()
        event.remove(engine.sync_engine, "commit", count)
    assert [row.status for row in rows] == ["sent"] * len(labels)
    assert texts(await from_bot(world, citizen))[-len(labels) :] == labels
    # One claim, then one transaction per delivery that records it and claims the next (on
    # PostgreSQL one more claim when the LISTEN starts, and on a loaded host sometimes one
    # more when a wake-up finds nothing new); a claim and a record for each delivery were at
    # least eight.
    assert commits < 2 * len(labels), commits


async def test_media_kinds(world: World, session_factory: Factory, tmp_path: Path) -> None:
    """Photo by path, album, document, location, venue, copy and delete reach the chat."""
    citizen = world.citizens[0]
    picture = tmp_path / "p.png"
    picture.write_bytes(tiny_png())
    doc = tmp_path / "report.txt"
    doc.write_text("hello")
    rows = await deliver(
        world,
        session_factory,
        OutboxCreate(
            chat_id=citizen, kind="photo", payload={"path": str(picture), "caption": "<i>사진</i>"}
        ),
        OutboxCreate(
            chat_id=citizen,
            kind="album",
            payload={"items": [{"path": str(picture), "caption": "앨범"}, {"path": str(picture)}]},
        ),
        OutboxCreate(
            chat_id=citizen, kind="document", payload={"path": str(doc), "caption": "문서"}
        ),
        OutboxCreate(
            chat_id=citizen, kind="location", payload={"latitude": 37.5665, "longitude": 126.978}
        ),
        OutboxCreate(
            chat_id=citizen,
            kind="venue",
            payload={
                "latitude": 37.5665,
                "longitude": 126.978,
                "title": "서울시청",
                "address": "중구 세종대로 110",
            },
        ),
    )
    assert [row.status for row in rows] == ["sent"] * 5, [row.last_error for row in rows]
    assert rows[1].result is not None and len(rows[1].result["message_ids"]) == 2
    photo_id = rows[0].result_message_id
    copied = await deliver(
        world,
        session_factory,
        OutboxCreate(
            chat_id=world.forum,
            kind="copy",
            payload={"from_chat_id": citizen, "message_id": photo_id, "caption": "시민 사진"},
        ),
        OutboxCreate(chat_id=citizen, kind="delete", payload={"message_id": photo_id}),
    )
    assert [row.status for row in copied][-2:] == ["sent", "sent"]
    shown = await from_bot(world, citizen)
    assert photo_id not in [m["message_id"] for m in shown]
    assert len(shown) == 5  # album (2), document, location, venue: the photo was deleted
    forum_messages = await from_bot(world, world.forum)
    assert forum_messages[-1]["caption"] == "시민 사진"


async def test_server_errors_are_retried_then_given_up(
    world: World, session_factory: Factory
) -> None:
    """5xx answers are retried with backoff; past max_network_retries the row fails."""
    citizen = world.citizens[0]
    await world.client.fault("5xx", count=2, method="sendMessage")
    (row,) = await deliver(
        world, session_factory, OutboxCreate(chat_id=citizen, kind="text", payload={"text": "a"})
    )
    assert (row.status, row.attempts) == ("sent", 2)

    await world.client.fault("5xx", count=10, method="sendMessage")
    rows = await deliver(
        world, session_factory, OutboxCreate(chat_id=citizen, kind="text", payload={"text": "b"})
    )
    last = rows[-1]
    assert last.status == "failed"
    assert error_code(last.last_error) is OutboxError.SERVER_ERROR
    assert "gave up after 4 attempts" in (last.last_error or "")
    await world.client.clear_faults()


async def test_wakes_on_commit_without_polling(world: World, session_factory: Factory) -> None:
    """With polling effectively off, a commit alone gets the message delivered."""
    citizen = world.citizens[2]
    sender, signal = make_sender(world, session_factory, poll_interval=3600)
    await sender.start()
    try:
        async with asyncio.timeout(20):
            while True:  # the outbox is empty: the sender settles into its wait
                if sender.is_idle:
                    break
                await asyncio.sleep(0.01)
        count_before = signal.count
        await enqueue(
            session_factory, OutboxCreate(chat_id=citizen, kind="text", payload={"text": "깨어나"})
        )
        assert signal.count > count_before  # the commit (and on PostgreSQL its NOTIFY) woke it
        message = await world.client.wait_for_message(citizen, contains="깨어나", timeout=20)
        assert message["text"] == "깨어나"
    finally:
        await sender.stop()


async def test_stop_settles_the_message_in_flight(world: World, session_factory: Factory) -> None:
    """stop() waits for the call in flight and records its outcome; nothing is left sending."""
    citizen = world.citizens[0]
    await world.client.fault("slow", count=1, delay=0.5, method="sendMessage")
    sender, _ = make_sender(world, session_factory)
    await enqueue(
        session_factory, OutboxCreate(chat_id=citizen, kind="text", payload={"text": "x"})
    )
    await sender.start()
    async with asyncio.timeout(20):
        while True:
            async with session_factory() as session:
                rows = (await session.exec(select(OutboxMessage))).all()
            if rows and rows[0].status == "sending":
                break
            await asyncio.sleep(0.01)
    await sender.stop()
    async with session_factory() as session:
        (row,) = (await session.exec(select(OutboxMessage))).all()
    assert row.status == "sent"


async def test_on_sent_hooks_see_the_result(world: World, session_factory: Factory) -> None:
    """on_sent hooks receive the sent row with Telegram's ids; a failing hook changes nothing."""
    seen: list[tuple[str | None, int | None]] = []

    async def record(row: OutboxMessage) -> None:
        seen.append((row.correlation, row.result_message_id))

    async def broken(row: OutboxMessage) -> None:
        raise RuntimeError("hook bug")

    rows = await deliver(
        world,
        session_factory,
        OutboxCreate(
            chat_id=world.citizens[0], kind="text", payload={"text": "x"}, correlation="c:1"
        ),
        on_sent=[broken, record],
    )
    assert rows[0].status == "sent"
    assert seen == [("c:1", rows[0].result_message_id)]


def _given_back(rows: list[OutboxMessage]) -> bool:
    return all(row.status == "pending" and row.last_error for row in rows)


async def rows_once(
    factory: Factory, ids: list[int], ready: Callable[[list[OutboxMessage]], bool]
) -> list[OutboxMessage]:
    """Poll the rows ``ids`` until ``ready(rows)`` holds (20 s at most); return them."""
    async with asyncio.timeout(20):
        while True:
            async with factory() as session:
                rows = [await repo.get(session=session, message_id=i) for i in ids]
            found = [row for row in rows if row is not None]
            if len(found) == len(ids) and ready(found):
                return found
            await asyncio.sleep(0.02)


async def test_long_hold_gives_the_row_back(world: World, session_factory: Factory) -> None:
    """A hold longer than a task should sleep reschedules the row instead of sleeping on it."""
    limiter = RateLimiter.from_settings(FAST)
    limiter.hold_all(600)
    sender, _ = make_sender(world, session_factory, limiter=limiter)
    (row_id,) = await enqueue(
        session_factory, OutboxCreate(chat_id=world.citizens[0], kind="text", payload={"text": "x"})
    )
    await sender.start()
    try:
        (row,) = await rows_once(session_factory, [row_id], _given_back)
    finally:
        await sender.stop()
    assert error_code(row.last_error) is OutboxError.RATE_LIMITED
    assert row.attempts == 0
    assert row.next_attempt_at > row.created_at + timedelta(seconds=500)
    assert await from_bot(world, world.citizens[0]) == []


class AlwaysOvertaken(RateLimiter):
    """A limiter under which more urgent sends keep every bulk row waiting past its time."""

    async def acquire(self, chat_id: int, kind: ChatKind, cost: int = 1, **kwargs: Any) -> float:
        if kwargs["rank"][0] == Priority.BULK:
            raise RateLimitTimeout("overtaken")
        return await super().acquire(chat_id, kind, cost, **kwargs)


async def test_a_row_overtaken_too_long_goes_back_to_the_queue(
    world: World, session_factory: Factory
) -> None:
    """Bulk that more urgent sends keep waiting is given back, not left to outlive its lease."""
    limiter = AlwaysOvertaken.from_settings(FAST)
    sender, _ = make_sender(world, session_factory, limiter=limiter)
    chat = world.citizens[0]
    bulk, urgent = await enqueue(
        session_factory,
        OutboxCreate(chat_id=chat, kind="text", payload={"text": "b"}, priority=Priority.BULK),
        OutboxCreate(
            chat_id=world.citizens[1],
            kind="text",
            payload={"text": "m"},
            priority=Priority.GUIDANCE,
        ),
    )
    await sender.start()
    try:
        row, _sent = await rows_once(
            session_factory,
            [bulk, urgent],
            lambda rows: _given_back(rows[:1]) and rows[1].status == "sent",
        )
    finally:
        await sender.stop()
    assert error_code(row.last_error) is OutboxError.RATE_LIMITED
    assert "behind more urgent sends" in (row.last_error or "")
    assert row.attempts == 0 and row.lease_owner is None
    assert await from_bot(world, chat) == []


@dataclass
class OtherProcess:
    """A sender on one engine and, as another process would be, a writer on another."""

    sender: Sender
    signal: OutboxSignal
    writer_engine: AsyncEngine
    writer_factory: Factory


@asynccontextmanager
async def sender_and_other_writer(world: World, postgres_url: str) -> AsyncIterator[OtherProcess]:
    """A running sender that only a NOTIFY can wake for the writer's commits (no shared signal)."""
    await migrate.upgrade(postgres_url)
    sender_engine, writer_engine = create_engine(postgres_url), create_engine(postgres_url)
    try:
        sender, signal = make_sender(
            world, create_session_factory(sender_engine), poll_interval=3600
        )
        await sender.start()
        try:
            yield OtherProcess(sender, signal, writer_engine, create_session_factory(writer_engine))
        finally:
            await sender.stop()
    finally:
        await sender_engine.dispose()
        await writer_engine.dispose()


async def delivered_from_the_writer(world: World, other: OtherProcess, text: str) -> bool:
    """Commit a message through the writer; whether it reached the citizen's chat."""
    await enqueue(
        other.writer_factory,
        OutboxCreate(chat_id=world.citizens[1], kind="text", payload={"text": text}),
    )
    message = await world.client.wait_for_message(world.citizens[1], contains=text, timeout=20)
    return bool(message["text"] == text)


@pytest.mark.postgres
async def test_postgres_notify_wakes_a_sender_in_another_process(
    world: World, postgres_url: str
) -> None:
    """On PostgreSQL a commit from another engine (no shared signal) wakes the sender."""
    async with sender_and_other_writer(world, postgres_url) as other:
        async with asyncio.timeout(20):
            while True:
                if other.sender.is_idle:
                    break
                await asyncio.sleep(0.01)
        before = other.signal.count
        assert await delivered_from_the_writer(world, other, "notify")
        assert other.signal.count > before


@pytest.mark.postgres
async def test_sender_listens_again_after_losing_its_connection(
    world: World, postgres_url: str
) -> None:
    """PostgreSQL drops the LISTEN connection: the sender listens again and still wakes."""
    async with sender_and_other_writer(world, postgres_url) as other:
        listener = await _listener_pid(other.writer_engine)
        async with other.writer_engine.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listener})
        async with asyncio.timeout(20):
            while True:
                again = await _listener_pid(other.writer_engine)
                if again not in (None, listener):
                    break
                await asyncio.sleep(0.05)
        assert await delivered_from_the_writer(world, other, "again")


async def _listener_pid(engine: AsyncEngine) -> int | None:
    """The backend LISTENing on the outbox channel, if one is."""
    async with asyncio.timeout(20):
        while True:
            async with engine.connect() as connection:
                pid = await connection.scalar(
                    text(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE application_name = current_setting('application_name')"
                        " AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
                    )
                )
            if pid is not None:
                return int(pid)
            await asyncio.sleep(0.05)


async def test_only_other_processes_notifications_wake_the_sender(
    world: World, session_factory: Factory
) -> None:
    """A NOTIFY echoing this process's own commit is ignored (its signal was set already)."""
    sender, signal = make_sender(world, session_factory)
    sender._notified(None, 1, repo.NOTIFY_CHANNEL, signal.origin)
    assert not signal.is_set()
    sender._notified(None, 1, repo.NOTIFY_CHANNEL, OutboxSignal().origin)  # another worker
    assert signal.is_set()


async def test_row_of_a_crashed_worker_is_sent_after_its_lease(
    world: World, session_factory: Factory
) -> None:
    """A row left `sending` by a worker that died is delivered once its lease has expired."""
    citizen = world.citizens[0]
    (row_id,) = await enqueue(
        session_factory, OutboxCreate(chat_id=citizen, kind="text", payload={"text": "재전송"})
    )
    async with session_factory() as session, session.begin():
        # The dead worker's lease ran out a moment after it claimed the row.
        (claimed,) = await repo.claim_batch(
            session=session,
            worker_id="crashed",
            now=utcnow(),
            limit=1,
            lease=timedelta(microseconds=1),
        )
    assert claimed.id == row_id
    (row,) = await deliver(world, session_factory)
    assert (row.status, row.lease_owner) == ("sent", None)
    assert texts(await from_bot(world, citizen)) == ["재전송"]


@pytest.mark.parametrize("late_outcome", ["network_error", "delivered"])
async def test_a_sender_whose_lease_passed_on_drops_its_late_result(
    world: World, session_factory: Factory, late_outcome: str
) -> None:
    """A stalls past its lease; B claims the row, sends and records it; A's late result
    (a retry or a delivery) is dropped and counted, and no third sender sends it again."""
    citizen = world.citizens[1]
    (row_id,) = await enqueue(
        session_factory, OutboxCreate(chat_id=citizen, kind="text", payload={"text": "한 번만"})
    )
    stalled, release = asyncio.Event(), asyncio.Event()
    hooked: list[int | None] = []

    async def stalled_attempt(row: OutboxMessage) -> Any:
        stalled.set()
        await release.wait()
        if late_outcome == "network_error":
            raise TimeoutError("late")
        return Delivery(message_id=999)

    async def hook(row: OutboxMessage) -> None:
        hooked.append(row.id)

    a, _ = make_sender(world, session_factory, on_sent=[hook])
    a.worker_id = "a"
    a._attempt = stalled_attempt  # type: ignore[method-assign]
    await a.start()
    try:
        async with asyncio.timeout(10):
            await stalled.wait()
        lease_passed = repo.DEFAULT_LEASE + timedelta(seconds=1)
        b, _ = make_sender(world, session_factory, clock=lambda: utcnow() + lease_passed)
        b.worker_id = "b"
        (row,) = await deliver_with(b, session_factory)
        assert (row.id, row.status) == (row_id, "sent")
        sent_by_b = row.result_message_id
        release.set()
        async with asyncio.timeout(10):
            while True:  # A's late write ends in a transaction of its own
                if a.stats.stale:
                    break
                await asyncio.sleep(0.02)
    finally:
        release.set()
        await a.stop()
    assert (a.stats.stale, a.stats.sent, a.stats.retried) == (1, 0, 0)
    assert hooked == []  # A did not record the row as sent: its hooks do not run
    async with session_factory() as session:
        row = await repo.get(session=session, message_id=row_id)
    assert row is not None
    assert (row.status, row.result_message_id, row.lease_owner) == ("sent", sent_by_b, None)

    c, _ = make_sender(world, session_factory, clock=lambda: utcnow() + 3 * lease_passed)
    c.worker_id = "c"
    await deliver_with(c, session_factory)
    assert c.stats.sent == 0
    assert texts(await from_bot(world, citizen)) == ["한 번만"]  # B's delivery only


async def deliver_with(sender: Sender, factory: Factory) -> list[OutboxMessage]:
    """Run ``sender`` until every row is settled and it is idle; return the rows."""
    await sender.start()
    try:
        rows = await settled(factory)
        async with asyncio.timeout(10):
            while True:
                if sender.is_idle:
                    break
                await asyncio.sleep(0.02)
        return rows
    finally:
        await sender.stop()


async def test_a_stale_row_in_a_batch_of_results_is_counted(
    world: World, session_factory: Factory
) -> None:
    """A records two deliveries in one batch; one row's lease had passed to B: A counts it as
    stale (not sent) on SQLite and on PostgreSQL alike, and runs no hook for it."""
    lost_id, kept_id = await enqueue(
        session_factory,
        OutboxCreate(chat_id=world.citizens[0], kind="text", payload={"text": "잃음"}),
        OutboxCreate(chat_id=world.citizens[1], kind="text", payload={"text": "남음"}),
    )
    started, release = asyncio.Event(), asyncio.Event()
    stalled: list[int] = []
    hooked: list[int | None] = []

    async def stalled_attempt(row: OutboxMessage) -> Any:
        assert row.id is not None
        stalled.append(row.id)
        if len(stalled) == 2:
            started.set()
        await release.wait()
        return Delivery(message_id=1000 + row.id)

    async def hook(row: OutboxMessage) -> None:
        hooked.append(row.id)

    a, _ = make_sender(world, session_factory, on_sent=[hook])
    a.worker_id = "a"
    a._attempt = stalled_attempt  # type: ignore[method-assign]
    await a.start()
    try:
        async with asyncio.timeout(10):
            await started.wait()
        later = utcnow() + repo.DEFAULT_LEASE + timedelta(seconds=1)
        async with session_factory() as session, session.begin():  # B takes the first row
            (taken,) = await repo.claim_batch(session=session, worker_id="b", now=later, limit=1)
            assert taken.id == lost_id
            assert await repo.mark_sent(
                session=session, message_id=lost_id, worker_id="b", now=later, result_message_id=7
            )
        release.set()  # both of A's deliveries end at once: one batch of results
        async with asyncio.timeout(10):
            while True:  # A's results end in transactions of their own
                if a.stats.stale + a.stats.sent == 2:
                    break
                await asyncio.sleep(0.02)
    finally:
        release.set()
        await a.stop()
    assert (a.stats.stale, a.stats.sent) == (1, 1)
    assert hooked == [kept_id]
    async with session_factory() as session:
        lost = await repo.get(session=session, message_id=lost_id)
        kept = await repo.get(session=session, message_id=kept_id)
    assert lost is not None and kept is not None
    assert (lost.status, lost.result_message_id) == ("sent", 7)
    assert (kept.status, kept.result_message_id) == ("sent", 1000 + kept_id)
