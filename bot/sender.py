"""The outbound sender: delivers outbox rows to the Bot API (see docs/outbox.md).

Usage::

    signal = OutboxSignal()
    signal.attach(session_factory)          # commits that add outbox rows wake the sender
    sender = Sender(bot=bot, session_factory=session_factory, settings=settings.sender,
                    signal=signal, worker_id="host:1234")
    await sender.start()
    ...
    await sender.stop()                     # finishes what is in flight

Rules: action manuals (priority 0) before replies to citizens (1), staff notices (2) and bulk (3);
within one chat strictly in the order the rows were written, one at a time; Telegram's limits
through :class:`bot.ratelimit.RateLimiter`; 429 waits ``retry_after`` (the chat, or every chat when
several chats are told to wait at once); 403 marks the recipient unreachable; 400 fails the row
without retrying; network errors and 5xx are retried with exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram import methods as _methods
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import Response, TelegramMethod
from aiogram.types import (
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.middlewares.database import write_gate
from bot.ratelimit import RateLimiter, RateLimitTimeout, chat_kind_of
from bot.sent_messages import (
    EditMessageCaptionForIds,
    EditMessageReplyMarkupForIds,
    EditMessageTextForIds,
    SendDocumentForIds,
    SendLocationForIds,
    SendMediaGroupForIds,
    SendMessageForIds,
    SendPhotoForIds,
    SendVenueForIds,
    SendVoiceForIds,
    send,
    send_album,
)
from bot.settings import SenderSettings
from storage import chats
from storage import outbox as repo
from storage.models.base import utcnow
from storage.models.outbox import OutboxError, OutboxMessage, OutboxStatus
from storage.outbox import NOTIFY_CHANNEL, OutboxSignal

log = logging.getLogger(__name__)

OnSent = Callable[[OutboxMessage], Awaitable[None]]
EDIT_KINDS = frozenset({"edit_text", "edit_caption", "edit_markup"})
TOPIC_KINDS = frozenset({"edit_topic", "close_topic", "reopen_topic", "delete_topic"})
MAX_BACKOFF_SECONDS = 300.0
BOOKKEEPING_ATTEMPTS = 5
MAX_LOCAL_WAIT_SECONDS = 5.0  # longer rate-limit waits give the row back instead of sleeping
OVERTAKEN_RETRY_SECONDS = 1.0  # a row given back because more urgent sends kept coming


def _pin_response_types() -> tuple[Any, ...]:
    """Build ``Response[T]`` once for every Bot API method and keep it alive.

    aiogram parses each answer with ``Response[method.__returning__]``; pydantic keeps those
    parametrised models only weakly, so after a garbage collection the next call rebuilds the
    model (milliseconds of CPU per call under load). Holding them here makes that a dict lookup
    for the sender's calls and the polling loop alike.
    """
    returning = {
        cls.__returning__
        for cls in vars(_methods).values()
        if isinstance(cls, type) and issubclass(cls, TelegramMethod) and cls is not TelegramMethod
    }
    pinned: list[Any] = []
    for kind in returning:
        with contextlib.suppress(Exception):
            pinned.append(Response[kind])  # type: ignore[valid-type]
    return tuple(pinned)


_RESPONSE_TYPES = _pin_response_types()


class _Held(Exception):
    """The chat (or the whole bot) is held longer than a task should sleep holding a lease."""

    def __init__(self, seconds: float, why: str = "after a 429") -> None:
        super().__init__(seconds)
        self.seconds = seconds
        self.why = why


@dataclass
class Delivery:
    """What Telegram answered for one row."""

    message_id: int | None = None
    thread_id: int | None = None
    result: dict[str, Any] | None = None


@dataclass
class _Recorded:
    """What a recording transaction claimed after the deliveries it recorded."""

    claimed: list[OutboxMessage] = field(default_factory=list)
    refs: dict[str, OutboxMessage] = field(default_factory=dict)  # the rows they refer to
    free: int = 0  # the places it claimed for; 0 when it did not claim


@dataclass
class _Failure(Exception):
    """A terminal problem found before or while calling Telegram."""

    code: OutboxError
    detail: str

    def __str__(self) -> str:
        return f"{self.code.value}: {self.detail}"


@dataclass
class _Stats:
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    retried: int = 0
    rate_limited: int = 0
    stale: int = 0  # results not recorded: the row's lease had passed to another worker


class _StaleInBatch(Exception):
    """A batch of deliveries held rows no longer leased to this worker (which, unknown)."""


_UNKNOWN = object()  # the next due time was not read with the last claim
IN_FLIGHT_RECHECK = 1.0  # seconds: longest idle wait while deliveries are in flight
# Seconds a busy sender lets commits and deliveries gather before claiming or recording: under
# load they come every few milliseconds, and each claim and each recording is a transaction.
BATCH_WINDOW = 0.01
BUSY_SPAN = 0.1  # seconds: a sender that claimed this recently is in a busy spell
_SentItem = tuple[OutboxMessage, int, datetime, Delivery, "asyncio.Future[bool]"]


class Sender:
    """Delivers the outbox in priority order, one message at a time per chat."""

    def __init__(
        self,
        *,
        bot: Bot,
        session_factory: async_sessionmaker[AsyncSession],
        settings: SenderSettings,
        signal: OutboxSignal,
        worker_id: str,
        limiter: RateLimiter | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_sent: Sequence[OnSent] = (),
        poll_interval: float = 3.0,
        lease: timedelta = repo.DEFAULT_LEASE,
        max_in_flight: int = 32,
        backoff_base: float = 1.0,
        batch_window: float = BATCH_WINDOW,
    ) -> None:
        self._bot = bot
        self._session_factory = session_factory
        self._settings = settings
        self._signal = signal
        self.worker_id = worker_id
        self._limiter = limiter or RateLimiter.from_settings(settings)
        self._clock = clock
        self.on_sent: list[OnSent] = list(on_sent)
        self._poll_interval = poll_interval
        self._lease = lease
        self._max_in_flight = max_in_flight
        self._backoff_base = backoff_base
        self._batch_window = batch_window
        self._claimed_at = -BUSY_SPAN  # monotonic time of the last claim
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        # The rows its claim read for a claimed row's references: row id -> correlation -> row.
        self._claimed_refs: dict[int, dict[str, OutboxMessage]] = {}
        self._sent_queue: list[_SentItem] = []
        self._next_due: object = _UNKNOWN  # datetime, None or _UNKNOWN
        self._exhausted = True  # the last claim took every claimable row
        self._sent_writer: asyncio.Task[None] | None = None
        # Rows whose recording transaction also claimed everything claimable after them.
        self._claimed_after: set[int] = set()
        self._recent_429: dict[int, float] = {}
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._done = asyncio.Event()
        self._done.set()
        self._idle = False
        self._stop_requested = asyncio.Event()
        self.stats = _Stats()

    @property
    def is_idle(self) -> bool:
        """Whether the sender is waiting for work (nothing claimable, nothing in flight)."""
        return self._idle and not self._in_flight

    async def start(self) -> None:
        """Run the sender in a background task."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._stop_requested.clear()
            self._task = asyncio.create_task(self.run(), name=f"outbox-sender:{self.worker_id}")

    async def stop(self) -> None:
        """Stop claiming rows and wait until the messages in flight are settled."""
        self._stopping = True
        self._stop_requested.set()
        self._signal.set()
        await self._done.wait()
        if self._task is not None:
            await self._task
            self._task = None

    async def run(self) -> None:
        """Deliver until :meth:`stop` is called."""
        self._done.clear()
        log.info("outbox sender %s started", self.worker_id)
        listener = asyncio.create_task(self._listen_postgres(), name="outbox-listen")
        try:
            while not self._stopping:
                claimed = await self._claim_and_dispatch()
                # A batch smaller than asked for took everything claimable: claiming again at
                # once would find nothing; a settlement or a commit sets the signal.
                if claimed and not self._exhausted and len(self._in_flight) < self._max_in_flight:
                    continue
                timeout = await self._idle_timeout()
                self._idle = True
                try:
                    woken = await self._signal.wait(timeout)
                finally:
                    self._idle = False
                if woken and (self._in_flight or self._busy()):
                    # Busy: one claim a moment later takes the rows of several commits.
                    await self._gather()
        finally:
            self._stop_requested.set()
            while self._in_flight:  # a recording transaction may still hand over claimed rows
                await asyncio.gather(*list(self._in_flight.values()), return_exceptions=True)
            try:
                await asyncio.wait_for(listener, timeout=5)
            except Exception:  # TimeoutError (then cancelled) or the listener's own failure
                log.debug("outbox LISTEN task ended abnormally", exc_info=True)
            self._done.set()
            log.info("outbox sender %s stopped", self.worker_id)

    async def _listen_postgres(self) -> None:
        """On PostgreSQL, LISTEN for commits of other processes (NOTIFY from storage.outbox)."""
        engine = self._session_factory.kw.get("bind")
        if not isinstance(engine, AsyncEngine) or engine.dialect.name != "postgresql":
            return
        while not self._stopping:
            try:
                async with engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver: Any = raw.driver_connection
                    lost = asyncio.Event()

                    def on_lost(_connection: object, lost: asyncio.Event = lost) -> None:
                        lost.set()

                    driver.add_termination_listener(on_lost)
                    await driver.add_listener(NOTIFY_CHANNEL, self._notified)
                    # Commits made while no one listened would go unnoticed until the poll.
                    self._signal.set()
                    try:
                        await _first_of(self._stop_requested.wait(), lost.wait())
                    finally:
                        if not lost.is_set():  # a pooled connection must not keep listening
                            driver.remove_termination_listener(on_lost)
                            await driver.remove_listener(NOTIFY_CHANNEL, self._notified)
                    if lost.is_set():
                        await conn.invalidate()
                        log.warning("outbox LISTEN connection lost; listening again")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("outbox LISTEN failed; relying on the fallback poll", exc_info=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_requested.wait(), self._poll_interval)

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        # This process's own commits have set the signal already (OutboxSignal.attach): an
        # echo of them would only cost a claim that finds nothing.
        if payload != self._signal.origin:
            self._signal.set()

    async def _claim_and_dispatch(self) -> int:
        free = self._max_in_flight - len(self._in_flight)
        if free <= 0:
            return 0
        self._claimed_at = time.monotonic()
        try:
            async with write_gate(self._session_factory), self._session_factory() as session:
                rows, refs = await self._claim(session, free)
                # Nothing was claimable: read when the next row falls due in the same
                # transaction rather than in one of its own before waiting. After a claim
                # that found rows their settlement wakes the sender, and the claim then tells.
                exhausted = len(rows) < free
                due = await repo.next_due_at(session=session) if not rows else _UNKNOWN
                await session.commit()
        except Exception:
            log.exception("outbox claim failed; retrying after %.1fs", self._poll_interval)
            self._next_due = _UNKNOWN
            self._exhausted = True
            return 0
        self._exhausted = exhausted
        self._next_due = due
        self._dispatch(rows, refs)
        return len(rows)

    async def _claim(
        self, session: AsyncSession, limit: int
    ) -> tuple[list[OutboxMessage], dict[str, OutboxMessage]]:
        """Lease up to ``limit`` rows, and read the rows they refer to in the same transaction.

        A staff-room message names its topic's opening row (``thread_ref``); reading those
        here, one query for the batch, saves each delivery a transaction of its own.
        """
        rows = await repo.claim_batch(
            session=session,
            worker_id=self.worker_id,
            now=self._clock(),
            limit=limit,
            lease=self._lease,
        )
        wanted = {correlation for row in rows for correlation in _refs_to_resolve(row)}
        return rows, await repo.find_many(session=session, correlations=wanted)

    def _dispatch(self, rows: Sequence[OutboxMessage], refs: dict[str, OutboxMessage]) -> None:
        """Start delivering claimed rows, each in a task of its own."""
        for row in rows:
            assert row.id is not None
            if refs:
                self._claimed_refs[row.id] = refs  # the batch's: looked up by correlation
            task = asyncio.create_task(self._deliver(row), name=f"outbox:{row.id}")
            self._in_flight[row.id] = task
            task.add_done_callback(self._finished(row.id))

    def _finished(self, row_id: int) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            self._in_flight.pop(row_id, None)
            self._claimed_refs.pop(row_id, None)
            if not task.cancelled() and task.exception() is not None:
                log.error("outbox row %s: delivery task crashed", row_id, exc_info=task.exception())
            if row_id in self._claimed_after:
                self._claimed_after.discard(row_id)  # the claim that followed it found the rest
            else:
                self._signal.set()

        return done

    def _busy(self) -> bool:
        return time.monotonic() - self._claimed_at < BUSY_SPAN

    async def _gather(self) -> None:
        """Let a busy moment's commits and deliveries gather for one transaction."""
        if self._batch_window > 0 and not self._stopping:
            await asyncio.sleep(self._batch_window)

    async def _idle_timeout(self) -> float:
        due = self._next_due
        self._next_due = _UNKNOWN
        if due is _UNKNOWN and self._in_flight:
            # A settlement wakes the sender; a slow delivery must not hide a row falling due.
            return min(self._poll_interval, IN_FLIGHT_RECHECK)
        if due is _UNKNOWN:
            try:
                async with write_gate(self._session_factory), self._session_factory() as session:
                    due = await repo.next_due_at(session=session)
            except Exception:
                log.exception("outbox: cannot read the next due time")
                return self._poll_interval
        assert due is None or isinstance(due, datetime)
        if due is None:
            return self._poll_interval
        wait = (due - self._clock()).total_seconds()
        if wait <= 0:
            # Due but not claimable: its chat or reference is busy; a settlement wakes us.
            return self._poll_interval
        return min(self._poll_interval, wait)

    async def _deliver(self, row: OutboxMessage) -> None:
        assert row.id is not None
        try:
            delivery = await self._attempt(row)
        except TelegramRetryAfter as error:
            await self._rate_limited(row, error.retry_after)
        except _Held as held:
            await self._hold(row, held.seconds, held.why)
        except TelegramForbiddenError as error:
            await self._unreachable(row, error.message)
        except TelegramMigrateToChat as error:
            await self._fail(
                row,
                OutboxError.CHAT_MIGRATED,
                f"{error.migrate_to_chat_id} ({error.message})",
            )
        except TelegramBadRequest as error:
            await self._bad_request(row, error.message)
        except TelegramEntityTooLarge as error:
            await self._fail(row, OutboxError.TOO_LARGE, error.message)
        except TelegramNotFound as error:
            await self._fail(row, OutboxError.BAD_REQUEST, f"404 {error.message}")
        except TelegramServerError as error:
            await self._retry(row, OutboxError.SERVER_ERROR, error.message)
        except (TelegramNetworkError, TimeoutError, OSError) as error:
            await self._retry(row, OutboxError.NETWORK, str(error) or type(error).__name__)
        except TelegramAPIError as error:  # 401, 409 and future codes: keep trying, loudly
            await self._retry(row, OutboxError.SERVER_ERROR, f"{type(error).__name__}: {error}")
        except _Failure as failure:
            await self._fail(row, failure.code, failure.detail)
        except KeyError as error:
            await self._fail(row, OutboxError.INVALID_PAYLOAD, f"{row.kind} needs {error}")
        except Exception as error:
            log.exception("outbox row %s (%s): unexpected error", row.id, row.kind)
            await self._fail(row, OutboxError.INTERNAL, f"{type(error).__name__}: {error}")
        else:
            await self._sent(row, delivery)

    async def _attempt(self, row: OutboxMessage) -> Delivery:
        thread_id, target_id = self._resolve(row)
        cost = max(len(row.payload.get("items") or ()) if row.kind == "album" else 1, 1)
        kind = chat_kind_of(row.chat_id)
        wait = self._limiter.delay(row.chat_id, kind)
        if wait > MAX_LOCAL_WAIT_SECONDS:
            raise _Held(wait)
        try:
            await self._limiter.acquire(
                row.chat_id,
                kind,
                cost,
                rank=(row.priority, _row_id(row)),
                within=MAX_LOCAL_WAIT_SECONDS,
            )
        except RateLimitTimeout:  # overtaken by more urgent sends: back to the queue
            raise _Held(OVERTAKEN_RETRY_SECONDS, "behind more urgent sends") from None
        try:
            return await perform(
                self._bot,
                kind=row.kind,
                chat_id=row.chat_id,
                thread_id=thread_id,
                target_id=target_id,
                payload=row.payload,
            )
        except TelegramBadRequest as error:
            lowered = error.message.lower()
            if row.kind in EDIT_KINDS and "message is not modified" in lowered:
                return Delivery(message_id=target_id, result={"not_modified": True})
            if row.kind in TOPIC_KINDS and "topic_not_modified" in lowered:
                return Delivery(thread_id=thread_id, result={"not_modified": True})
            if row.kind == "delete" and "message to delete not found" in lowered:
                return Delivery(message_id=target_id, result={"already_deleted": True})
            raise
        finally:
            # Telegram counted it by the time it answered (bot/ratelimit.py, ``settle``).
            self._limiter.settle(row.chat_id, kind, cost)

    def _resolve(self, row: OutboxMessage) -> tuple[int | None, int | None]:
        """The topic and message ids the rows named by ``thread_ref``/``target_ref`` received."""
        return _apply_refs(row, self._claimed_refs.get(_row_id(row), {}))

    # -- bookkeeping -------------------------------------------------------------------------

    async def _write(
        self, row: OutboxMessage, action: Callable[[AsyncSession], Awaitable[bool]]
    ) -> bool:
        """Record an outcome in its own transaction, retrying while the database hiccups.

        Losing this write after a successful call would send the message again once the
        lease expires, so it is worth a few attempts. Returns what ``action`` returned:
        False when the row was no longer leased to this worker and nothing was written.
        """
        delay = 0.2
        for attempt in range(1, BOOKKEEPING_ATTEMPTS + 1):
            try:
                async with (
                    write_gate(self._session_factory),
                    self._session_factory() as session,
                    session.begin(),
                ):
                    recorded = await action(session)
                return recorded
            except _StaleInBatch:
                raise
            except Exception:
                if attempt == BOOKKEEPING_ATTEMPTS:
                    log.exception("outbox row %s: cannot record the outcome", row.id)
                    raise
                log.warning("outbox row %s: recording failed, retrying", row.id, exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")  # pragma: no cover

    def _stale(self, row: OutboxMessage, outcome: str) -> None:
        """Count and log a result that came too late: another worker holds the row now.

        Its lease expired and another worker claimed it; what that worker records stands.
        Nothing is retried or sent again from here.
        """
        self.stats.stale += 1
        log.warning(
            "outbox row %s (%s to chat %s): lease lost to another worker, %s result dropped",
            row.id,
            row.kind,
            row.chat_id,
            outcome,
        )

    async def _record_sent(
        self, row: OutboxMessage, row_id: int, now: datetime, delivery: Delivery
    ) -> bool:
        """Record a delivery, sharing one transaction with the deliveries that end meanwhile.

        Returns once the row is committed as sent (or raises like :meth:`_write`): a chat's
        next row is still claimed only after this one is settled in the database. False when
        the row was no longer leased to this worker.
        """
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._sent_queue.append((row, row_id, now, delivery, done))
        if self._sent_writer is None or self._sent_writer.done():
            self._sent_writer = asyncio.create_task(self._write_sent(), name="outbox-sent")
        return await done

    async def _write_sent(self) -> None:
        """Write the queued deliveries, one transaction per batch, until the queue is empty.

        The same transaction claims the rows due next (a chat's next message is claimable once
        this one is recorded), saving the claim a transaction of its own after every batch.
        """
        while self._sent_queue:
            if len(self._in_flight) > len(self._sent_queue):
                await self._gather()  # deliveries still running may end in time to share it
            batch, self._sent_queue = self._sent_queue, []
            outcome = _Recorded()

            async def write(
                session: AsyncSession, batch: list[_SentItem] = batch, outcome: _Recorded = outcome
            ) -> bool:
                outcome.claimed, outcome.refs, outcome.free = [], {}, 0  # a retry starts over
                recorded = await repo.mark_sent_many(
                    session=session,
                    worker_id=self.worker_id,
                    deliveries=[
                        repo.SentRecord(
                            message_id=row_id,
                            now=now,
                            result_message_id=delivery.message_id,
                            result_thread_id=delivery.thread_id,
                            result=delivery.result,
                        )
                        for _row, row_id, now, delivery, _done in batch
                    ],
                )
                if recorded < len(batch):
                    if len(batch) == 1:
                        return False
                    raise _StaleInBatch  # rolled back: each is recorded on its own below
                # The batch's own tasks end with this commit: their places are free.
                free = self._max_in_flight - len(self._in_flight) + len(batch)
                if not self._stopping and free > 0:
                    outcome.free = free
                    outcome.claimed, outcome.refs = await self._claim(session, free)
                return True

            try:
                recorded = await self._write(batch[0][0], write)
            except _StaleInBatch:
                await self._write_sent_singly(batch)
            except Exception as error:
                for *_item, done in batch:
                    if not done.done():
                        done.set_exception(error)
            else:
                # Fewer than asked for: nothing else is claimable, so the batch's ends need not
                # wake the main loop to claim again (a commit of new rows still does).
                if len(outcome.claimed) < outcome.free:
                    self._claimed_after.update(row_id for _r, row_id, *_rest in batch)
                # Leased to this worker by the commit: sent even if a stop began meanwhile.
                self._dispatch(outcome.claimed, outcome.refs)
                for *_item, done in batch:
                    if not done.done():
                        done.set_result(recorded)

    async def _write_sent_singly(self, batch: list[_SentItem]) -> None:
        """Record a batch's deliveries one by one, to learn which rows another worker holds.

        Only after a batch found rows whose lease passed to another worker (rare: a delivery
        outlived its lease); a row count of a single UPDATE tells each row's fate.
        """
        for row, row_id, now, delivery, done in batch:

            async def write(
                session: AsyncSession,
                row_id: int = row_id,
                now: datetime = now,
                delivery: Delivery = delivery,
            ) -> bool:
                return await repo.mark_sent(
                    session=session,
                    message_id=row_id,
                    worker_id=self.worker_id,
                    now=now,
                    result_message_id=delivery.message_id,
                    result_thread_id=delivery.thread_id,
                    result=delivery.result,
                )

            try:
                recorded = await self._write(row, write)
            except Exception as error:
                if not done.done():
                    done.set_exception(error)
            else:
                if not done.done():
                    done.set_result(recorded)

    async def _sent(self, row: OutboxMessage, delivery: Delivery) -> None:
        row_id = _row_id(row)
        now = self._clock()

        if not await self._record_sent(row, row_id, now, delivery):
            self._stale(row, "sent")  # delivered twice: ours and the other worker's
            return
        self.stats.sent += 1
        row.status = OutboxStatus.SENT.value
        row.result_message_id = delivery.message_id
        row.result_thread_id = delivery.thread_id
        row.result = delivery.result
        row.sent_at = now
        log.debug("outbox row %s (%s) sent to %s", row.id, row.kind, row.chat_id)
        for hook in self.on_sent:
            try:
                await hook(row)
            except Exception:
                log.exception("outbox on_sent hook %r failed for row %s", hook, row.id)

    async def _fail(self, row: OutboxMessage, code: OutboxError, detail: str) -> None:
        row_id = _row_id(row)
        error = f"{code.value}: {detail}"

        async def write(session: AsyncSession) -> bool:
            return await repo.mark_failed(
                session=session,
                message_id=row_id,
                worker_id=self.worker_id,
                error=error,
                now=self._clock(),
            )

        if not await self._write(row, write):
            self._stale(row, "failed")
            return
        self.stats.failed += 1
        log.warning(
            "outbox row %s (%s to chat %s) failed: %s", row.id, row.kind, row.chat_id, error
        )

    async def _bad_request(self, row: OutboxMessage, message: str) -> None:
        lowered = message.lower()
        if "topic_closed" in lowered:
            await self._fail(row, OutboxError.TOPIC_CLOSED, message)
        elif (
            "message thread not found" in lowered
            or "topic_id_invalid" in lowered
            or "topic_deleted" in lowered
        ):
            await self._fail(row, OutboxError.THREAD_NOT_FOUND, message)
        else:
            await self._fail(row, OutboxError.BAD_REQUEST, message)

    async def _unreachable(self, row: OutboxMessage, message: str) -> None:
        row_id = _row_id(row)
        error = f"{OutboxError.FORBIDDEN.value}: {message}"
        now = self._clock()

        async def write(session: AsyncSession) -> bool:
            # Telegram's 403 holds for the chat whoever holds the row now.
            await chats.mark_unreachable(
                session=session, chat_id=row.chat_id, reason=message, now=now
            )
            return await repo.mark_unreachable(
                session=session, message_id=row_id, worker_id=self.worker_id, error=error, now=now
            )

        if not await self._write(row, write):
            self._stale(row, "unreachable")
            return
        self.stats.unreachable += 1
        log.warning("outbox row %s: chat %s is unreachable: %s", row.id, row.chat_id, message)

    async def _reschedule(
        self, row: OutboxMessage, *, after: float, error: str, count_attempt: bool = True
    ) -> bool:
        """Give the row back to the outbox, due ``after`` seconds from now (False: not ours)."""
        row_id = _row_id(row)

        async def write(session: AsyncSession) -> bool:
            return await repo.reschedule(
                session=session,
                message_id=row_id,
                worker_id=self.worker_id,
                at=self._clock() + timedelta(seconds=after),
                error=error,
                count_attempt=count_attempt,
            )

        if await self._write(row, write):
            return True
        self._stale(row, "retry")
        return False

    async def _rate_limited(self, row: OutboxMessage, retry_after: float) -> None:
        now_mono = time.monotonic()
        self._recent_429 = {c: t for c, t in self._recent_429.items() if t > now_mono}
        others = [chat for chat in self._recent_429 if chat != row.chat_id]
        self._recent_429[row.chat_id] = now_mono + retry_after
        self._limiter.hold(row.chat_id, retry_after)
        if others:
            self._limiter.hold_all(retry_after)
        if not await self._reschedule(
            row,
            after=retry_after,
            error=f"{OutboxError.RATE_LIMITED.value}: retry after {retry_after}s",
            count_attempt=False,
        ):
            return
        self.stats.rate_limited += 1
        log.info(
            "outbox row %s: 429 for chat %s, waiting %ss%s",
            row.id,
            row.chat_id,
            retry_after,
            " (all chats)" if others else "",
        )

    async def _hold(self, row: OutboxMessage, seconds: float, why: str) -> None:
        if not await self._reschedule(
            row,
            after=seconds,
            error=f"{OutboxError.RATE_LIMITED.value}: held {seconds:.1f}s {why}",
            count_attempt=False,
        ):
            return
        log.info("outbox row %s: chat %s held for %.1fs %s", row.id, row.chat_id, seconds, why)

    async def _retry(self, row: OutboxMessage, code: OutboxError, detail: str) -> None:
        attempts = row.attempts + 1
        if attempts > self._settings.max_network_retries:
            await self._fail(row, code, f"{detail} (gave up after {attempts} attempts)")
            return
        delay = min(self._backoff_base * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
        if not await self._reschedule(row, after=delay, error=f"{code.value}: {detail}"):
            return
        self.stats.retried += 1
        log.warning(
            "outbox row %s: %s: %s; retry %d in %.1fs", row.id, code.value, detail, attempts, delay
        )


async def _first_of(*waits: Coroutine[Any, Any, Any]) -> None:
    """Wait until the first of ``waits`` finishes; cancel the others."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _row_id(row: OutboxMessage) -> int:
    assert row.id is not None
    return row.id


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).lstrip("-").isdigit() else None


def _refs_to_resolve(row: OutboxMessage) -> list[str]:
    """The correlations of the rows whose results this row needs before it can be sent."""
    wanted = [row.thread_ref] if row.thread_ref is not None else []
    if row.target_ref is not None and _int_or_none(row.payload.get("message_id")) is None:
        wanted.append(row.target_ref)
    return wanted


def _apply_refs(
    row: OutboxMessage, refs: dict[str, OutboxMessage]
) -> tuple[int | None, int | None]:
    """The row's topic and target message ids, taken from the rows it refers to."""
    thread_id = row.thread_id
    target_id = _int_or_none(row.payload.get("message_id"))
    if row.thread_ref is not None:
        ref = _referenced(refs, row.thread_ref, "thread_ref")
        thread_id = ref.result_thread_id
        if thread_id is None:
            raise _Failure(
                OutboxError.REF_FAILED,
                f"thread_ref {row.thread_ref!r} (row {ref.id}) has no thread id",
            )
    if row.target_ref is not None and target_id is None:
        ref = _referenced(refs, row.target_ref, "target_ref")
        target_id = ref.result_message_id
        if target_id is None:
            raise _Failure(
                OutboxError.REF_FAILED,
                f"target_ref {row.target_ref!r} (row {ref.id}) has no message id",
            )
    return thread_id, target_id


def _referenced(refs: dict[str, OutboxMessage], correlation: str, name: str) -> OutboxMessage:
    """The sent row with this correlation, or the failure that keeps ours from being sent."""
    ref = refs.get(correlation)
    if ref is None:
        raise _Failure(OutboxError.REF_MISSING, f"{name} {correlation!r} names no outbox row")
    if ref.status != OutboxStatus.SENT:
        raise _Failure(
            OutboxError.REF_FAILED,
            f"{name} {correlation!r} (row {ref.id}) is {ref.status}: {ref.last_error}",
        )
    return ref


def _media(payload: dict[str, Any]) -> Any:
    if payload.get("file_id"):
        return payload["file_id"]
    if payload.get("url"):
        return payload["url"]
    if payload.get("path"):
        return FSInputFile(payload["path"], filename=payload.get("filename"))
    raise _Failure(OutboxError.INVALID_PAYLOAD, "media needs file_id, url or path")


def inline_keyboard(rows: list[list[dict[str, Any]]]) -> InlineKeyboardMarkup:
    """Build an inline keyboard from ``[[{"text", "data"} | {"text", "url"}]]``."""
    keyboard = []
    for row in rows:
        buttons = []
        for button in row:
            if "data" in button:
                buttons.append(
                    InlineKeyboardButton(text=button["text"], callback_data=button["data"])
                )
            elif "url" in button:
                buttons.append(InlineKeyboardButton(text=button["text"], url=button["url"]))
            else:
                raise _Failure(OutboxError.INVALID_PAYLOAD, f"button without data/url: {button}")
        keyboard.append(buttons)
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def reply_keyboard(spec: dict[str, Any]) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """Build a reply keyboard from ``{"keyboard": [[{"text", ...}]], "one_time"}`` or remove."""
    if spec.get("remove"):
        return ReplyKeyboardRemove()
    keyboard = [
        [
            KeyboardButton(
                text=button["text"],
                request_location=button.get("request_location"),
                request_contact=button.get("request_contact"),
            )
            for button in row
        ]
        for row in spec.get("keyboard", [])
    ]
    return ReplyKeyboardMarkup(
        keyboard=keyboard,
        one_time_keyboard=bool(spec.get("one_time", False)),
        resize_keyboard=bool(spec.get("resize", True)),
        input_field_placeholder=spec.get("placeholder"),
    )


def _markup(payload: dict[str, Any]) -> Any:
    if payload.get("buttons") is not None and payload.get("reply_keyboard") is not None:
        raise _Failure(OutboxError.INVALID_PAYLOAD, "buttons and reply_keyboard are exclusive")
    if payload.get("buttons") is not None:
        return inline_keyboard(payload["buttons"])
    if payload.get("reply_keyboard") is not None:
        return reply_keyboard(payload["reply_keyboard"])
    return None


def _reply(payload: dict[str, Any]) -> ReplyParameters | None:
    reply_to = _int_or_none(payload.get("reply_to_message_id"))
    if reply_to is None:
        return None
    return ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)


def _album_item(item: dict[str, Any]) -> Any:
    media = _media(item)
    caption = item.get("caption")
    kind = item.get("type", "photo")
    if kind == "photo":
        return InputMediaPhoto(media=media, caption=caption, parse_mode="HTML")
    if kind == "video":
        return InputMediaVideo(media=media, caption=caption, parse_mode="HTML")
    if kind == "document":
        return InputMediaDocument(media=media, caption=caption, parse_mode="HTML")
    raise _Failure(OutboxError.INVALID_PAYLOAD, f"album item type {kind!r}")


def _need(value: int | None, what: str) -> int:
    if value is None:
        raise _Failure(OutboxError.INVALID_PAYLOAD, f"{what} is required")
    return value


async def perform(
    bot: Bot,
    *,
    kind: str,
    chat_id: int,
    thread_id: int | None,
    target_id: int | None,
    payload: dict[str, Any],
) -> Delivery:
    """Make the Bot API call for one outbox row and return what Telegram answered."""
    common: dict[str, Any] = {"chat_id": chat_id, "message_thread_id": thread_id}
    quiet = payload.get("disable_notification")
    sending: dict[str, Any] = {
        **common,
        "disable_notification": quiet,
        "reply_markup": _markup(payload),
        "reply_parameters": _reply(payload),
    }
    caption: dict[str, Any] = {"caption": payload.get("caption"), "parse_mode": "HTML"}
    no_preview = LinkPreviewOptions(is_disabled=True)
    if kind == "text":
        message = await send(
            bot,
            SendMessageForIds(
                text=payload["text"], parse_mode="HTML", link_preview_options=no_preview, **sending
            ),
        )
    elif kind == "photo":
        message = await send(bot, SendPhotoForIds(photo=_media(payload), **caption, **sending))
    elif kind == "document":
        message = await send(
            bot, SendDocumentForIds(document=_media(payload), **caption, **sending)
        )
    elif kind == "voice":
        message = await send(bot, SendVoiceForIds(voice=_media(payload), **caption, **sending))
    elif kind == "location":
        message = await send(
            bot,
            SendLocationForIds(
                latitude=payload["latitude"],
                longitude=payload["longitude"],
                live_period=payload.get("live_period"),
                horizontal_accuracy=payload.get("horizontal_accuracy"),
                **sending,
            ),
        )
    elif kind == "venue":
        message = await send(
            bot,
            SendVenueForIds(
                latitude=payload["latitude"],
                longitude=payload["longitude"],
                title=payload["title"],
                address=payload["address"],
                **sending,
            ),
        )
    elif kind == "album":
        items = [_album_item(item) for item in payload.get("items", [])]
        if not 2 <= len(items) <= 10:
            raise _Failure(OutboxError.INVALID_PAYLOAD, "an album holds 2 to 10 items")
        messages = await send_album(
            bot,
            SendMediaGroupForIds(
                media=items,
                disable_notification=quiet,
                reply_parameters=_reply(payload),
                **common,
            ),
        )
        ids = [m.message_id for m in messages]
        return Delivery(
            message_id=ids[0], thread_id=messages[0].message_thread_id, result={"message_ids": ids}
        )
    elif kind == "copy":
        copied = await bot.copy_message(
            from_chat_id=payload["from_chat_id"],
            message_id=payload["message_id"],
            caption=payload.get("caption"),
            parse_mode="HTML" if payload.get("caption") is not None else None,
            **sending,
        )
        return Delivery(message_id=copied.message_id, thread_id=thread_id)
    elif kind in EDIT_KINDS:
        target = _need(target_id, "target_ref or payload.message_id")
        markup = inline_keyboard(payload["buttons"]) if payload.get("buttons") else None
        if kind == "edit_text":
            await bot(
                EditMessageTextForIds(
                    text=payload["text"],
                    chat_id=chat_id,
                    message_id=target,
                    parse_mode="HTML",
                    link_preview_options=no_preview,
                    reply_markup=markup,
                ),
            )
        elif kind == "edit_caption":
            await bot(
                EditMessageCaptionForIds(
                    chat_id=chat_id,
                    message_id=target,
                    caption=payload.get("caption"),
                    parse_mode="HTML",
                    reply_markup=markup,
                ),
            )
        else:
            await bot(
                EditMessageReplyMarkupForIds(
                    chat_id=chat_id, message_id=target, reply_markup=markup
                ),
            )
        return Delivery(message_id=target, thread_id=thread_id)
    elif kind == "delete":
        target = _need(target_id, "target_ref or payload.message_id")
        await bot.delete_message(chat_id=chat_id, message_id=target)
        return Delivery(message_id=target, thread_id=thread_id)
    elif kind == "pin":
        target = _need(target_id, "target_ref or payload.message_id")
        await bot.pin_chat_message(
            chat_id=chat_id,
            message_id=target,
            disable_notification=payload.get("disable_notification", True),
        )
        return Delivery(message_id=target, thread_id=thread_id)
    elif kind == "unpin":
        await bot.unpin_chat_message(chat_id=chat_id, message_id=target_id)
        return Delivery(message_id=target_id, thread_id=thread_id)
    elif kind == "create_topic":
        topic = await bot.create_forum_topic(
            chat_id=chat_id,
            name=payload["name"],
            icon_color=payload.get("icon_color"),
            icon_custom_emoji_id=payload.get("icon_custom_emoji_id"),
        )
        return Delivery(
            thread_id=topic.message_thread_id,
            result={"name": topic.name, "icon_color": topic.icon_color},
        )
    elif kind in TOPIC_KINDS:
        thread = _need(thread_id, "thread_ref or thread_id")
        if kind == "edit_topic":
            await bot.edit_forum_topic(
                chat_id=chat_id,
                message_thread_id=thread,
                name=payload.get("name"),
                icon_custom_emoji_id=payload.get("icon_custom_emoji_id"),
            )
        elif kind == "close_topic":
            await bot.close_forum_topic(chat_id=chat_id, message_thread_id=thread)
        elif kind == "reopen_topic":
            await bot.reopen_forum_topic(chat_id=chat_id, message_thread_id=thread)
        else:
            await bot.delete_forum_topic(chat_id=chat_id, message_thread_id=thread)
        return Delivery(thread_id=thread)
    else:
        raise _Failure(OutboxError.INVALID_PAYLOAD, f"unknown kind {kind!r}")
    return Delivery(message_id=message.message_id, thread_id=message.message_thread_id)


__all__ = ["Delivery", "OnSent", "Sender", "inline_keyboard", "perform", "reply_keyboard"]
