"""The admission of waiting updates: a bounded number at once, citizens' words first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.types import (
    CallbackQuery,
    Chat,
    Location,
    Message,
    PhotoSize,
    TelegramObject,
    Update,
    User,
)

from bot.middlewares.admission import AdmissionMiddleware, is_follow_up

CITIZEN = User(id=7, is_bot=False, first_name="시민")
PRIVATE = Chat(id=7, type="private")
STAFF_ROOM = Chat(id=-100_123, type="supergroup", is_forum=True)
PHOTO = [PhotoSize(file_id="f", file_unique_id="u", width=8, height=6)]


def update(update_id: int, chat: Chat = PRIVATE, **content: Any) -> Update:
    """An update carrying a message with ``content``."""
    message = Message(
        message_id=update_id, date=datetime.now(UTC), chat=chat, from_user=CITIZEN, **content
    )
    return Update(update_id=update_id, message=message)


def words(update_id: int) -> Update:
    """A citizen's text."""
    return update(update_id, text="불이 났어요")


def location(update_id: int) -> Update:
    """A citizen's location."""
    return update(update_id, location=Location(latitude=37.56, longitude=126.97))


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A handler chain that records the order updates run in and holds them until released."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.release = asyncio.Event()

    async def __call__(self, event: TelegramObject, _data: dict[str, Any]) -> None:
        assert isinstance(event, Update)
        self.started.append(event.update_id)
        await self.release.wait()


async def settle() -> None:
    """Let every ready task run until it waits."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_follow_ups_are_private_messages_without_words() -> None:
    assert is_follow_up(location(1))
    assert is_follow_up(update(2, photo=PHOTO))
    live = Message(
        message_id=3,
        date=datetime.now(UTC),
        chat=PRIVATE,
        location=Location(latitude=37.5, longitude=127.0, live_period=900),
    )
    assert is_follow_up(Update(update_id=3, edited_message=live))
    assert not is_follow_up(words(4))
    assert not is_follow_up(update(5, photo=PHOTO, caption="연기가 나요"))
    assert not is_follow_up(update(6, chat=STAFF_ROOM, location=Location(latitude=1, longitude=2)))
    press = CallbackQuery(id="c", from_user=CITIZEN, chat_instance="i", data="x")
    assert not is_follow_up(Update(update_id=7, callback_query=press))


async def test_at_most_limit_run_and_equals_keep_their_order() -> None:
    gate = AdmissionMiddleware(2, follow_up_delay=5.0, clock=Clock())
    chain = Recorder()
    tasks = [asyncio.create_task(gate(chain, words(n), {})) for n in range(1, 6)]
    await settle()
    assert chain.started == [1, 2]
    assert (gate.running, gate.waiting) == (2, 3)
    chain.release.set()
    await asyncio.gather(*tasks)
    assert chain.started == [1, 2, 3, 4, 5]
    assert (gate.running, gate.waiting) == (0, 0)


async def test_words_go_before_waiting_follow_ups() -> None:
    gate = AdmissionMiddleware(1, follow_up_delay=5.0, clock=Clock())
    chain = Recorder()
    tasks = [asyncio.create_task(gate(chain, location(1), {}))]  # runs at once
    await settle()
    tasks += [asyncio.create_task(gate(chain, location(n), {})) for n in (2, 3)]
    tasks.append(asyncio.create_task(gate(chain, words(4), {})))
    await settle()
    chain.release.set()
    await asyncio.gather(*tasks)
    assert chain.started == [1, 4, 2, 3]


async def test_a_follow_up_waits_at_most_its_delay_beyond_its_turn() -> None:
    clock = Clock()
    gate = AdmissionMiddleware(1, follow_up_delay=5.0, clock=clock)
    chain = Recorder()
    tasks = [asyncio.create_task(gate(chain, words(1), {}))]
    await settle()
    tasks.append(asyncio.create_task(gate(chain, location(2), {})))  # its turn: 100 + 5
    await settle()
    clock.now = 104.0
    tasks.append(asyncio.create_task(gate(chain, words(3), {})))  # before it
    await settle()
    clock.now = 106.0
    tasks.append(asyncio.create_task(gate(chain, words(4), {})))  # after it
    await settle()
    chain.release.set()
    await asyncio.gather(*tasks)
    assert chain.started == [1, 3, 2, 4]


async def test_a_cancelled_waiter_leaves_no_place_taken() -> None:
    gate = AdmissionMiddleware(1, follow_up_delay=0, clock=Clock())
    chain = Recorder()
    first = asyncio.create_task(gate(chain, words(1), {}))
    await settle()
    waiting = asyncio.create_task(gate(chain, words(2), {}))
    await settle()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    chain.release.set()
    await first
    assert (gate.running, gate.waiting) == (0, 0)
    await gate(chain, words(3), {})  # the place is free again
    assert chain.started == [1, 3]


async def test_a_failing_update_frees_its_place() -> None:
    gate = AdmissionMiddleware(1, follow_up_delay=0, clock=Clock())

    async def fail(_event: TelegramObject, _data: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    with pytest.raises(RuntimeError):
        await gate(fail, words(1), {})
    assert gate.running == 0


async def test_an_update_cancelled_as_its_turn_came_passes_the_place_on() -> None:
    gate = AdmissionMiddleware(1, follow_up_delay=0, clock=Clock())
    await gate._admit(0)
    second = asyncio.create_task(gate._admit(0))
    third = asyncio.create_task(gate._admit(0))
    await settle()
    gate._leave()  # the first ends: its place goes to the second, which has not resumed yet
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    await third  # the second's place went on
    assert (gate.running, gate.waiting) == (1, 0)
    gate._leave()
    assert gate.running == 0
