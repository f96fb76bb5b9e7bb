"""The web console in headless Chromium: a citizen sends a message and sees the bot's reply.

Chromium is driven through the DevTools protocol over a websocket (aiohttp), no extra packages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Dispatcher, F, Router
from aiogram.types import (
    CallbackQuery,
    ChatJoinRequest,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)

from sandbox.client import SandboxClient
from sandbox.images import tiny_png
from sandbox.server import SandboxServer
from tests.sandbox.conftest import TOKEN, make_bot

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
]


def _find_chromium() -> str | None:
    for candidate in ("chromium", "/usr/bin/chromium", "chromium-browser"):
        path = shutil.which(candidate)
        if path:
            return path
    return None


def _install_chromium() -> str:
    """Install Debian's chromium when running as root; return why it failed otherwise."""
    if os.geteuid() != 0:
        return "chromium is not installed and the tests are not running as root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "chromium"]
    try:
        done = subprocess.run(command, env=env, capture_output=True, timeout=900, check=False)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=600)
            done = subprocess.run(command, env=env, capture_output=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"apt-get install chromium failed: {exc}"
    if done.returncode != 0:
        return f"apt-get install chromium failed: {done.stderr.decode(errors='replace')[-300:]}"
    return ""


@pytest.fixture(scope="session")
def chromium_path() -> Iterator[str]:
    """Path of a Chromium binary, installed with apt-get if needed (skip if impossible)."""
    path = _find_chromium()
    if path is None:
        reason = _install_chromium()
        path = _find_chromium()
        if path is None:
            message = reason or "chromium could not be installed"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
    yield path


class DevTools:
    """A minimal Chrome DevTools protocol client for one page."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws = ws
        self.next_id = 0

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command and return its result (events in between are ignored)."""
        self.next_id += 1
        command_id = self.next_id
        await self.ws.send_json({"id": command_id, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json()
            if message.get("id") == command_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    async def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page and return its JSON value."""
        result = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"JS error: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, limit: float = 15.0) -> Any:
        """Poll a JavaScript expression until it is truthy."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if loop.time() > deadline:
                dom = await self.evaluate("document.body.innerText")
                raise AssertionError(f"timed out waiting for {expression!r}; page shows:\n{dom}")
            await asyncio.sleep(0.1)


@pytest.fixture
async def page(chromium_path: str) -> AsyncIterator[DevTools]:
    """A headless Chromium page under DevTools control."""
    # chromium helper processes may still write the profile while it exits
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = await asyncio.create_subprocess_exec(
            chromium_path,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            for _ in range(300):
                if port_file.exists() and port_file.read_text().strip():
                    break
                await asyncio.sleep(0.1)
            port = int(port_file.read_text().splitlines()[0])
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                    targets = json.loads(await response.text())
                target = next(t for t in targets if t["type"] == "page")
                async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    tools = DevTools(ws)
                    await tools.send("Runtime.enable")
                    yield tools
        finally:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 10)
            if process.returncode is None:
                process.kill()
                await process.wait()


def echo_router() -> Router:
    """A tiny echo bot with one inline button."""
    router = Router(name="console-echo")

    @router.message(F.text == "/start")
    async def on_start(message: Message) -> None:
        """Greet the citizen."""
        await message.answer("안녕하세요! 무엇을 도와드릴까요?")

    @router.message(F.photo)
    async def on_photo(message: Message) -> None:
        """Acknowledge a photo with its size."""
        assert message.photo
        await message.answer(f"사진 받음 {message.photo[-1].width}x{message.photo[-1].height}")

    @router.message(F.location)
    async def on_location(message: Message) -> None:
        """Acknowledge a location with its coordinates."""
        assert message.location
        await message.answer(f"위치 받음 {message.location.latitude:.4f}")

    @router.message(F.text == "위치")
    async def on_location_request(message: Message) -> None:
        """Ask for the location with a request_location reply keyboard."""
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="📍 위치 보내기", request_location=True)]],
            resize_keyboard=True,
        )
        await message.answer("위치를 보내 주세요", reply_markup=keyboard)

    @router.message(F.text == "초대")
    async def on_invite(message: Message, hub_id: int) -> None:
        """Invite to the hub with a link that needs approval."""
        assert message.bot
        link = await message.bot.create_chat_invite_link(hub_id, creates_join_request=True)
        button = InlineKeyboardButton(text="참여하기", url=link.invite_link)
        markup = InlineKeyboardMarkup(inline_keyboard=[[button]])
        await message.answer("전문가 허브에 초대합니다", reply_markup=markup)

    @router.chat_join_request()
    async def on_join_request(request: ChatJoinRequest) -> None:
        """Approve every request and greet the applicant in private."""
        await request.approve()
        assert request.bot
        await request.bot.send_message(request.user_chat_id, "승인되었습니다")

    @router.message(F.text)
    async def on_text(message: Message) -> None:
        """Echo the text with a confirmation button."""
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="확인", callback_data="ok")]]
        )
        await message.answer(
            f"받았습니다: <b>{message.text}</b>", parse_mode="HTML", reply_markup=markup
        )

    @router.callback_query(F.data == "ok")
    async def on_ok(query: CallbackQuery) -> None:
        """Answer the button with a toast."""
        await query.answer("확인했습니다")

    return router


@pytest.fixture
async def echo_bot(
    sandbox: SandboxServer, sandbox_client: SandboxClient
) -> AsyncIterator[dict[str, Any]]:
    """The echo bot polling the sandbox, and a citizen who has not started it yet."""
    await sandbox_client.create_bot(token=TOKEN, username="jikimi_bot", first_name="Jikimi")
    citizen = await sandbox_client.create_user(first_name="민지", language_code="ko")
    hub = await sandbox_client.create_supergroup(
        title="Experts hub", is_forum=True, bot_token=TOKEN, bot_rights={"can_invite_users": True}
    )
    bot = make_bot(sandbox)
    dispatcher = Dispatcher(hub_id=hub["id"])
    dispatcher.include_router(echo_router())
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=1)
    )
    yield {**citizen, "hub_id": hub["id"]}
    await dispatcher.stop_polling()
    with contextlib.suppress(asyncio.CancelledError):
        await polling
    await bot.session.close()


async def test_photo_upload_and_location_via_reply_keyboard(
    sandbox: SandboxServer, sandbox_client: SandboxClient, page: DevTools, echo_bot: dict[str, Any]
) -> None:
    uid = echo_bot["id"]
    await sandbox_client.start_bot(uid)
    await page.send("Page.navigate", url=f"{sandbox.url}/?as={uid}&chat={uid}")
    await page.wait_for("document.querySelector('.chat-item.active') !== null")
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "fire.png"
        photo.write_bytes(tiny_png(12, 7))
        document = await page.send("DOM.getDocument")
        node = await page.send(
            "DOM.querySelector", nodeId=document["root"]["nodeId"], selector="#photo-input"
        )
        await page.send("DOM.setFileInputFiles", files=[str(photo)], nodeId=node["nodeId"])
        await page.wait_for(
            "[...document.querySelectorAll('.message.bot .text')]"
            ".some(e => e.textContent === '사진 받음 12x7')"
        )
    assert await page.evaluate("document.querySelectorAll('.message.mine img').length") == 1
    await page.evaluate(
        "document.getElementById('composer-input').value = '위치';"
        "document.getElementById('send-button').click()"
    )
    await page.wait_for(
        "[...document.querySelectorAll('#reply-keyboard button')]"
        ".some(b => b.textContent === '📍 위치 보내기')"
    )
    await page.evaluate(
        "[...document.querySelectorAll('#reply-keyboard button')]"
        ".find(b => b.textContent === '📍 위치 보내기').click()"
    )
    await page.wait_for(
        "getComputedStyle(document.getElementById('location-panel')).display === 'flex'"
    )
    await page.evaluate(
        "const preset = document.getElementById('location-preset');"
        "preset.value = '37.4602,126.4407'; preset.dispatchEvent(new Event('change'));"
        "document.getElementById('send-location-now').click()"
    )
    await page.wait_for(
        "[...document.querySelectorAll('.message.bot .text')]"
        ".some(e => e.textContent === '위치 받음 37.4602')"
    )
    shown = await sandbox_client.messages(uid)
    assert any(m.get("location", {}).get("longitude") == 126.4407 for m in shown)


async def test_citizen_sends_and_sees_the_reply(
    sandbox: SandboxServer, sandbox_client: SandboxClient, page: DevTools, echo_bot: dict[str, Any]
) -> None:
    uid = echo_bot["id"]
    await page.send("Page.navigate", url=f"{sandbox.url}/?as={uid}&chat={uid}")
    await page.wait_for("document.querySelector('.chat-item.active') !== null")
    await page.wait_for("getComputedStyle(document.getElementById('start-bot')).display !== 'none'")
    await page.evaluate("document.getElementById('start-bot').click()")
    await page.wait_for(
        "[...document.querySelectorAll('.message.bot .text')]"
        ".some(e => e.textContent.includes('무엇을 도와드릴까요'))"
    )
    await page.evaluate(
        "document.getElementById('composer-input').value = '불이 났어요';"
        "document.getElementById('send-button').click()"
    )
    await page.wait_for(
        "[...document.querySelectorAll('.message.mine .text')]"
        ".some(e => e.textContent === '불이 났어요')"
    )
    reply = await page.wait_for(
        "[...document.querySelectorAll('.message.bot .text b')]"
        ".map(e => e.textContent).find(t => t === '불이 났어요')"
    )
    assert reply == "불이 났어요"
    await page.evaluate(
        "[...document.querySelectorAll('.message.bot button[data-callback=\"ok\"]')].pop().click()"
    )
    toast = await page.wait_for(
        "document.getElementById('toast').style.display === 'block'"
        " && document.getElementById('toast').textContent"
    )
    assert toast == "확인했습니다"
    shown = await sandbox_client.messages(uid)
    assert [m.get("text") for m in shown][:3] == [
        "/start",
        "안녕하세요! 무엇을 도와드릴까요?",
        "불이 났어요",
    ]


async def test_invite_button_joins_through_a_request(
    sandbox: SandboxServer, sandbox_client: SandboxClient, page: DevTools, echo_bot: dict[str, Any]
) -> None:
    uid = echo_bot["id"]
    await sandbox_client.start_bot(uid)
    await page.send("Page.navigate", url=f"{sandbox.url}/?as={uid}&chat={uid}")
    await page.wait_for("document.querySelector('.chat-item.active') !== null")
    await page.evaluate(
        "document.getElementById('composer-input').value = '초대';"
        "document.getElementById('send-button').click()"
    )
    await page.wait_for(
        "[...document.querySelectorAll('.message.bot button')]"
        ".some(b => b.textContent === '참여하기')"
    )
    await page.evaluate(
        "[...document.querySelectorAll('.message.bot button')]"
        ".find(b => b.textContent === '참여하기').click()"
    )
    await page.wait_for(
        "[...document.querySelectorAll('.message.bot .text')]"
        ".some(e => e.textContent === '승인되었습니다')"
    )
    await page.wait_for(
        f"document.querySelector('.chat-item[data-chat-id=\"{echo_bot['hub_id']}\"]') !== null"
    )
    assert (await sandbox_client.member(echo_bot["hub_id"], uid))["status"] == "member"


async def test_a_topic_link_opens_the_topic_in_the_console(
    sandbox: SandboxServer, sandbox_client: SandboxClient, page: DevTools, echo_bot: dict[str, Any]
) -> None:
    """A t.me/c/<id>/<topic> link (as the bot sends to staff and experts) opens that topic here.

    Outside the sandbox the link would open real Telegram, where the chat does not exist.
    """
    uid = echo_bot["id"]
    await sandbox_client.start_bot(uid)
    room = await sandbox_client.create_supergroup(
        title="Staff room", is_forum=True, bot_token=TOKEN, members=[uid], admins=[uid]
    )
    hub_id = room["id"]
    topic = await sandbox_client.create_topic(hub_id, "🔥 I-0001", user_id=uid)
    thread = topic["message_thread_id"]
    bot = make_bot(sandbox)
    link = f"https://t.me/c/{str(hub_id)[4:]}/{thread}"
    await bot.send_message(uid, f'<a href="{link}">토픽 열기</a>', parse_mode="HTML")
    await bot.session.close()
    await page.send("Page.navigate", url=f"{sandbox.url}/?as={uid}&chat={uid}")
    await page.wait_for(
        "[...document.querySelectorAll('.message.bot .text a')]"
        ".some(a => a.textContent === '토픽 열기')"
    )
    await page.evaluate(
        "window.open = () => { window.openedOutside = true; };"
        "[...document.querySelectorAll('.message.bot .text a')]"
        ".find(a => a.textContent === '토픽 열기').click()"
    )
    title = await page.wait_for(
        "document.getElementById('chat-title').textContent.includes('I-0001')"
        " && document.getElementById('chat-title').textContent"
    )
    assert title == "Staff room › 🔥 I-0001"
    assert await page.evaluate(
        f"document.querySelector('.topic-item.active').dataset.threadId === '{thread}'"
    )
    assert not await page.evaluate("window.openedOutside === true")


async def test_a_link_to_a_chat_the_persona_is_not_in_says_so(
    sandbox: SandboxServer, sandbox_client: SandboxClient, page: DevTools, echo_bot: dict[str, Any]
) -> None:
    uid, hub_id = echo_bot["id"], echo_bot["hub_id"]
    await sandbox_client.start_bot(uid)
    bot = make_bot(sandbox)
    link = f"https://t.me/c/{str(hub_id)[4:]}/1"
    await bot.send_message(uid, f'<a href="{link}">허브</a>', parse_mode="HTML")
    await bot.session.close()
    await page.send("Page.navigate", url=f"{sandbox.url}/?as={uid}&chat={uid}")
    await page.wait_for(
        "[...document.querySelectorAll('.message.bot .text a')].some(a => a.textContent === '허브')"
    )
    await page.evaluate(
        "window.open = () => { window.openedOutside = true; };"
        "[...document.querySelectorAll('.message.bot .text a')]"
        ".find(a => a.textContent === '허브').click()"
    )
    toast = await page.wait_for(
        "document.getElementById('toast').style.display === 'block'"
        " && document.getElementById('toast').textContent"
    )
    assert "not a member" in toast
    assert not await page.evaluate("window.openedOutside === true")


async def test_switching_persona_leaves_nothing_of_the_previous_one(
    sandbox: SandboxServer, sandbox_client: SandboxClient, page: DevTools, echo_bot: dict[str, Any]
) -> None:
    """The previous persona's reply keyboard and location panel are not offered to the next."""
    uid = echo_bot["id"]
    other = await sandbox_client.create_user(first_name="Sarah", language_code="en")
    await sandbox_client.start_bot(uid)
    await page.send("Page.navigate", url=f"{sandbox.url}/?as={uid}&chat={uid}")
    await page.wait_for("document.querySelector('.chat-item.active') !== null")
    await page.evaluate(
        "document.getElementById('composer-input').value = '위치';"
        "document.getElementById('send-button').click()"
    )
    await page.wait_for(
        "[...document.querySelectorAll('#reply-keyboard button')]"
        ".some(b => b.textContent === '📍 위치 보내기')"
    )
    await page.evaluate("document.getElementById('location-button').click()")
    await page.evaluate(
        f"const select = document.getElementById('persona'); select.value = '{other['id']}';"
        "select.dispatchEvent(new Event('change'))"
    )
    await page.wait_for("document.getElementById('chat-title').textContent === '—'")
    assert (
        await page.evaluate("getComputedStyle(document.getElementById('reply-keyboard')).display")
        == "none"
    )
    assert (
        await page.evaluate("getComputedStyle(document.getElementById('location-panel')).display")
        == "none"
    )
    assert "Pick" in await page.evaluate("document.getElementById('messages').innerText")


async def test_move_live_only_moves_a_live_location_of_the_open_chat(
    sandbox: SandboxServer, sandbox_client: SandboxClient, page: DevTools, echo_bot: dict[str, Any]
) -> None:
    uid = echo_bot["id"]
    await sandbox_client.start_bot(uid)
    room = await sandbox_client.create_supergroup(
        title="Neighbours", is_forum=False, bot_token=TOKEN, members=[uid]
    )
    live = await sandbox_client.send_location(uid, uid, 37.5663, 126.9779, live_period=900)
    await page.send("Page.navigate", url=f"{sandbox.url}/?as={uid}&chat={uid}")
    await page.wait_for("document.querySelectorAll('.message.mine').length > 0")
    await page.evaluate(
        f"document.querySelector('.chat-item[data-chat-id=\"{room['id']}\"]').click()"
    )
    await page.wait_for("document.getElementById('chat-title').textContent === 'Neighbours'")
    await page.evaluate(
        "document.getElementById('lat').value = '37.4602';"
        "document.getElementById('move-live').click()"
    )
    toast = await page.wait_for(
        "document.getElementById('toast').style.display === 'block'"
        " && document.getElementById('toast').textContent"
    )
    assert toast == "No live location of yours in this chat"
    shown = await sandbox_client.messages(uid)
    moved = next(m for m in shown if m["message_id"] == live["message_id"])
    assert moved["location"]["latitude"] == 37.5663


async def test_the_persona_list_shows_each_persons_bio(
    sandbox: SandboxServer, sandbox_client: SandboxClient, page: DevTools, echo_bot: dict[str, Any]
) -> None:
    """The demo says who plays which part in the bio; the picker is where a person chooses."""
    staff = await sandbox_client.create_user(first_name="이서연", bio="상황실 팀장 · lead")
    await page.send("Page.navigate", url=f"{sandbox.url}/")
    label = await page.wait_for(
        f"(document.querySelector('#persona option[value=\"{staff['id']}\"]') || {{}}).textContent"
    )
    assert label == f"이서연 — 상황실 팀장 · lead ({staff['id']})"
    citizen = await page.evaluate(
        f"document.querySelector('#persona option[value=\"{echo_bot['id']}\"]').textContent"
    )
    assert citizen == f"민지 ({echo_bot['id']})"


async def test_the_pinned_notice_quotes_the_pinned_message_as_it_is_now(
    sandbox: SandboxServer, sandbox_client: SandboxClient, page: DevTools, echo_bot: dict[str, Any]
) -> None:
    """A card pinned and then edited: the notice under it must not show its first version.

    The bot pins an incident card and edits it in place at every change; the notice showed
    the whole card as it was when pinned ("status new, holder none") below the current one.
    """
    uid = echo_bot["id"]
    await sandbox_client.start_bot(uid)
    room = await sandbox_client.create_supergroup(
        title="Staff room",
        is_forum=False,
        bot_token=TOKEN,
        bot_rights={"can_pin_messages": True},
        members=[uid],
    )
    bot = make_bot(sandbox)
    card = await bot.send_message(room["id"], "상태 신규 · 담당 없음\n" + "긴 카드 내용 " * 20)
    await bot.pin_chat_message(room["id"], card.message_id)
    now = "상태 접수됨 · 담당 정하은\n" + "긴 카드 내용 " * 20
    await bot.edit_message_text(now, chat_id=room["id"], message_id=card.message_id)
    await bot.session.close()
    await page.send("Page.navigate", url=f"{sandbox.url}/?as={uid}&chat={room['id']}")
    notice = await page.wait_for("(document.querySelector('.message.service') || {}).textContent")
    assert notice == "Pinned: 상태 접수됨 · 담당 정하은…"  # its first line, as a quote


async def test_a_persona_gone_after_a_restart_gives_way_to_one_that_exists(
    sandbox: SandboxServer, sandbox_client: SandboxClient, page: DevTools, echo_bot: dict[str, Any]
) -> None:
    """The demo restarted under an open console: its persona's id is gone from the world.

    The console kept acting as the vanished user: every refresh failed with "user not found"
    while the picker showed someone else.
    """
    guest = await sandbox_client.create_user(first_name="Guest", language_code="en")
    await page.send("Page.navigate", url=f"{sandbox.url}/?as={guest['id']}")
    await page.wait_for(f"(document.getElementById('persona') || {{}}).value === '{guest['id']}'")
    await sandbox_client.reset()
    citizen = await sandbox_client.create_user(first_name="민지")
    await sandbox_client.create_bot(token=TOKEN, username="jikimi_bot", first_name="Jikimi")
    await page.wait_for(
        f"document.getElementById('persona').value === '{citizen['id']}'"
        f" && state.userId === {citizen['id']}"
        " && document.querySelector('.chat-item') !== null"
    )
    await page.evaluate("document.querySelector('.chat-item').click()")
    await page.wait_for("document.getElementById('chat-title').textContent === 'Jikimi'")
    await page.evaluate(
        "document.getElementById('composer-input').value = '안녕하세요';"
        "document.getElementById('send-button').click()"
    )
    await page.wait_for(
        "[...document.querySelectorAll('.message.mine .text')]"
        ".some(e => e.textContent === '안녕하세요')"
    )
    [said] = await sandbox_client.messages(citizen["id"])
    assert said["from"]["id"] == citizen["id"] and said["text"] == "안녕하세요"
