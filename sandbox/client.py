"""Async Python client for the sandbox's control API.

async with SandboxClient(server.url) as client:
    alice = await client.create_user(first_name="Alice")
    await client.start_bot(alice["id"], "123456:TEST")
    reply = await client.wait_for_message(alice["id"], contains="119")
"""

from __future__ import annotations

import base64
from typing import Any

import aiohttp


class SandboxError(Exception):
    """A control API call failed; ``status`` is the HTTP status, ``description`` the reason."""

    def __init__(self, status: int, description: str):
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class SandboxClient:
    """Drives the sandbox as scripted people (and reads what chats show)."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession | None = None):
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None
        self._cursors: dict[tuple[int, int | None], int] = {}

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if the client created it."""
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def call(self, action: str, **kwargs: Any) -> Any:
        """POST ``/control/<action>`` with the non-None keyword arguments; return the result."""
        body = {key: value for key, value in kwargs.items() if value is not None}
        timeout = aiohttp.ClientTimeout(total=float(body.get("timeout") or 0) + 30)
        async with self._http().post(
            f"{self.base_url}/control/{action}", json=body, timeout=timeout
        ) as response:
            payload = await response.json()
        if not payload.get("ok"):
            raise SandboxError(response.status, str(payload.get("error")))
        return payload["result"]

    # --- world building ---------------------------------------------------------------

    async def create_bot(
        self,
        token: str,
        username: str,
        first_name: str = "Bot",
        can_read_all_group_messages: bool = False,
    ) -> dict[str, Any]:
        """Register a bot account; returns its User."""
        return await self.call(
            "create_bot",
            token=token,
            username=username,
            first_name=first_name,
            can_read_all_group_messages=can_read_all_group_messages,
        )

    async def create_user(
        self,
        first_name: str,
        language_code: str | None = "ko",
        username: str | None = None,
        last_name: str | None = None,
        bio: str | None = None,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        """Create a person; returns their User (with ``id``)."""
        return await self.call(
            "create_user",
            first_name=first_name,
            language_code=language_code,
            username=username,
            last_name=last_name,
            bio=bio,
            user_id=user_id,
        )

    async def create_supergroup(
        self,
        title: str,
        is_forum: bool = False,
        bot_token: str | None = None,
        bot_rights: dict[str, bool] | None = None,
        members: list[int] | None = None,
        admins: list[Any] | None = None,
        owner_id: int | None = None,
        username: str | None = None,
        bot_tokens: list[str] | None = None,
        bot_admin: bool = True,
    ) -> dict[str, Any]:
        """Create a supergroup (forum if ``is_forum``) with the bot as admin; returns its Chat."""
        return await self.call(
            "create_supergroup",
            title=title,
            is_forum=is_forum,
            bot_token=bot_token,
            bot_rights=bot_rights,
            members=members,
            admins=admins,
            owner_id=owner_id,
            username=username,
            bot_tokens=bot_tokens,
            bot_admin=bot_admin,
        )

    async def create_group(
        self,
        title: str,
        bot_token: str | None = None,
        bot_rights: dict[str, bool] | None = None,
        members: list[int] | None = None,
        admins: list[Any] | None = None,
        owner_id: int | None = None,
        bot_admin: bool = True,
    ) -> dict[str, Any]:
        """Create a basic group; returns its Chat."""
        return await self.call(
            "create_group",
            title=title,
            bot_token=bot_token,
            bot_rights=bot_rights,
            members=members,
            admins=admins,
            owner_id=owner_id,
            bot_admin=bot_admin,
        )

    async def add_member(self, chat_id: int, user_id: int) -> dict[str, Any]:
        """The owner adds a user to a group."""
        return await self.call("add_member", chat_id=chat_id, user_id=user_id)

    async def remove_member(self, chat_id: int, user_id: int, ban: bool = False) -> dict[str, Any]:
        """The owner removes (or bans) a user or a bot from a group."""
        return await self.call("remove_member", chat_id=chat_id, user_id=user_id, ban=ban)

    async def set_admin(
        self, chat_id: int, user_id: int, rights: dict[str, bool] | None = None
    ) -> dict[str, Any]:
        """The owner promotes a member to administrator."""
        return await self.call("set_admin", chat_id=chat_id, user_id=user_id, rights=rights)

    async def create_invite_link(
        self, chat_id: int, creates_join_request: bool = False, name: str | None = None
    ) -> dict[str, Any]:
        """The owner creates an invite link."""
        return await self.call(
            "create_invite_link",
            chat_id=chat_id,
            creates_join_request=creates_join_request,
            name=name,
        )

    async def create_topic(
        self, chat_id: int, name: str, user_id: int, icon_color: int | None = None
    ) -> dict[str, Any]:
        """A human admin creates a forum topic; returns it (``message_thread_id``)."""
        return await self.call(
            "create_topic", chat_id=chat_id, name=name, user_id=user_id, icon_color=icon_color
        )

    async def close_topic(
        self, chat_id: int, message_thread_id: int, user_id: int, closed: bool = True
    ) -> dict[str, Any]:
        """A human admin closes (closed=False: reopens) a topic."""
        return await self.call(
            "close_topic",
            chat_id=chat_id,
            message_thread_id=message_thread_id,
            user_id=user_id,
            closed=closed,
        )

    # --- acting as a user -------------------------------------------------------------

    async def start_bot(
        self, user_id: int, bot_token: str | None = None, payload: str | None = None
    ) -> dict[str, Any]:
        """The user presses Start: sends ``/start [payload]`` in the private chat."""
        return await self.call("start_bot", user_id=user_id, bot_token=bot_token, payload=payload)

    async def send_text(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The user sends text; returns the message."""
        return await self.call(
            "send_text",
            user_id=user_id,
            chat_id=chat_id,
            text=text,
            message_thread_id=message_thread_id,
            reply_to_message_id=reply_to_message_id,
            bot_token=bot_token,
        )

    async def send_photo(
        self,
        user_id: int,
        chat_id: int,
        data: bytes,
        caption: str | None = None,
        media_group_id: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a photo (PNG/JPEG bytes)."""
        return await self.call(
            "send_photo",
            user_id=user_id,
            chat_id=chat_id,
            data=_b64(data),
            caption=caption,
            media_group_id=media_group_id,
            message_thread_id=message_thread_id,
            reply_to_message_id=reply_to_message_id,
            bot_token=bot_token,
        )

    async def send_album(
        self,
        user_id: int,
        chat_id: int,
        photos: list[bytes],
        caption: str | None = None,
        message_thread_id: int | None = None,
        bot_token: str | None = None,
    ) -> list[dict[str, Any]]:
        """The user sends an album: one message per photo sharing a media_group_id."""
        return await self.call(
            "send_album",
            user_id=user_id,
            chat_id=chat_id,
            photos=[_b64(p) for p in photos],
            caption=caption,
            message_thread_id=message_thread_id,
            bot_token=bot_token,
        )

    async def send_document(
        self,
        user_id: int,
        chat_id: int,
        data: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
        message_thread_id: int | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a document."""
        return await self.call(
            "send_document",
            user_id=user_id,
            chat_id=chat_id,
            data=_b64(data),
            file_name=file_name,
            mime_type=mime_type,
            caption=caption,
            message_thread_id=message_thread_id,
            bot_token=bot_token,
        )

    async def send_voice(
        self,
        user_id: int,
        chat_id: int,
        data: bytes,
        duration: int = 1,
        caption: str | None = None,
        message_thread_id: int | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a voice note."""
        return await self.call(
            "send_voice",
            user_id=user_id,
            chat_id=chat_id,
            data=_b64(data),
            duration=duration,
            caption=caption,
            message_thread_id=message_thread_id,
            bot_token=bot_token,
        )

    async def send_audio(
        self,
        user_id: int,
        chat_id: int,
        data: bytes,
        file_name: str = "audio.mp3",
        duration: int = 1,
        caption: str | None = None,
        message_thread_id: int | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The user sends an audio file."""
        return await self.call(
            "send_audio",
            user_id=user_id,
            chat_id=chat_id,
            data=_b64(data),
            file_name=file_name,
            duration=duration,
            caption=caption,
            message_thread_id=message_thread_id,
            bot_token=bot_token,
        )

    async def send_video_note(
        self,
        user_id: int,
        chat_id: int,
        data: bytes,
        duration: int = 1,
        message_thread_id: int | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a video note (a round video)."""
        return await self.call(
            "send_video_note",
            user_id=user_id,
            chat_id=chat_id,
            data=_b64(data),
            duration=duration,
            message_thread_id=message_thread_id,
            bot_token=bot_token,
        )

    async def send_sticker(
        self,
        user_id: int,
        chat_id: int,
        data: bytes,
        emoji: str | None = None,
        message_thread_id: int | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a sticker."""
        return await self.call(
            "send_sticker",
            user_id=user_id,
            chat_id=chat_id,
            data=_b64(data),
            emoji=emoji,
            message_thread_id=message_thread_id,
            bot_token=bot_token,
        )

    async def send_dice(
        self,
        user_id: int,
        chat_id: int,
        emoji: str = "🎲",
        message_thread_id: int | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The user throws a dice (or another animated emoji)."""
        return await self.call(
            "send_dice",
            user_id=user_id,
            chat_id=chat_id,
            emoji=emoji,
            message_thread_id=message_thread_id,
            bot_token=bot_token,
        )

    async def send_location(
        self,
        user_id: int,
        chat_id: int,
        latitude: float,
        longitude: float,
        horizontal_accuracy: float | None = None,
        live_period: int | None = None,
        message_thread_id: int | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The user shares a location (live with ``live_period``)."""
        return await self.call(
            "send_location",
            user_id=user_id,
            chat_id=chat_id,
            latitude=latitude,
            longitude=longitude,
            horizontal_accuracy=horizontal_accuracy,
            live_period=live_period,
            message_thread_id=message_thread_id,
            bot_token=bot_token,
        )

    async def edit_live_location(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        latitude: float,
        longitude: float,
        horizontal_accuracy: float | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The user's live location moves (the bot gets an edited_message)."""
        return await self.call(
            "edit_live_location",
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            latitude=latitude,
            longitude=longitude,
            horizontal_accuracy=horizontal_accuracy,
            bot_token=bot_token,
        )

    async def stop_live_location(
        self, user_id: int, chat_id: int, message_id: int, bot_token: str | None = None
    ) -> dict[str, Any]:
        """The user stops sharing a live location."""
        return await self.call(
            "stop_live_location",
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            bot_token=bot_token,
        )

    async def send_forwarded(
        self,
        user_id: int,
        chat_id: int,
        origin_type: str,
        text: str | None = None,
        photo: bytes | None = None,
        caption: str | None = None,
        origin_name: str | None = None,
        origin_user_id: int | None = None,
        origin_username: str | None = None,
        author_signature: str | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The user forwards a text or photo (origin: user, hidden_user, chat or channel)."""
        return await self.call(
            "send_forwarded",
            user_id=user_id,
            chat_id=chat_id,
            origin_type=origin_type,
            text=text,
            photo=_b64(photo) if photo is not None else None,
            caption=caption,
            origin_name=origin_name,
            origin_user_id=origin_user_id,
            origin_username=origin_username,
            author_signature=author_signature,
            bot_token=bot_token,
        )

    async def send_venue(
        self,
        user_id: int,
        chat_id: int,
        latitude: float,
        longitude: float,
        title: str,
        address: str,
        message_thread_id: int | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The user shares a venue."""
        return await self.call(
            "send_venue",
            user_id=user_id,
            chat_id=chat_id,
            latitude=latitude,
            longitude=longitude,
            title=title,
            address=address,
            message_thread_id=message_thread_id,
            bot_token=bot_token,
        )

    async def send_contact(
        self,
        user_id: int,
        chat_id: int,
        phone_number: str,
        bot_token: str | None = None,
        first_name: str | None = None,
    ) -> dict[str, Any]:
        """The user shares a phone number (their own, or someone's named ``first_name``)."""
        return await self.call(
            "send_contact",
            user_id=user_id,
            chat_id=chat_id,
            phone_number=phone_number,
            first_name=first_name,
            bot_token=bot_token,
        )

    async def edit_text(
        self, user_id: int, chat_id: int, message_id: int, text: str, bot_token: str | None = None
    ) -> dict[str, Any]:
        """The user edits one of their messages."""
        return await self.call(
            "edit_text",
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            text=text,
            bot_token=bot_token,
        )

    async def edit_caption(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        caption: str | None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """The user edits the caption of one of their media messages (None removes it)."""
        return await self.call(
            "edit_caption",
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            caption=caption,
            bot_token=bot_token,
        )

    async def press_button(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        callback_data: str,
        timeout: float | None = None,  # noqa: ASYNC109
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """Press an inline button; returns the answer (``answered``, ``text``, ``show_alert``)."""
        return await self.call(
            "press_button",
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            callback_data=callback_data,
            timeout=timeout,
            bot_token=bot_token,
        )

    async def inline_query(
        self,
        user_id: int,
        query: str,
        bot_token: str | None = None,
        offset: str = "",
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """Send an inline query; returns the answer (``answered``, ``results``)."""
        return await self.call(
            "inline_query",
            user_id=user_id,
            query=query,
            bot_token=bot_token,
            offset=offset,
            timeout=timeout,
        )

    async def join_request(self, user_id: int, invite_link: str) -> dict[str, Any]:
        """Open an invite link: ``{"status": "requested"|"joined", "chat_id"}``."""
        return await self.call("join_request", user_id=user_id, invite_link=invite_link)

    async def resolve_join_request(
        self, chat_id: int, user_id: int, approve: bool = True
    ) -> dict[str, Any]:
        """The owner approves or declines a join request (instead of the bot)."""
        return await self.call(
            "resolve_join_request", chat_id=chat_id, user_id=user_id, approve=approve
        )

    async def leave_chat(self, user_id: int, chat_id: int) -> dict[str, Any]:
        """The user leaves a group."""
        return await self.call("leave_chat", user_id=user_id, chat_id=chat_id)

    async def block_bot(self, user_id: int, bot_token: str | None = None) -> bool:
        """The user blocks the bot."""
        return bool(await self.call("block_bot", user_id=user_id, bot_token=bot_token))

    async def unblock_bot(self, user_id: int, bot_token: str | None = None) -> bool:
        """The user unblocks the bot."""
        return bool(await self.call("unblock_bot", user_id=user_id, bot_token=bot_token))

    # --- reading ----------------------------------------------------------------------

    async def messages(
        self, chat_id: int, message_thread_id: int | None = None, bot_token: str | None = None
    ) -> list[dict[str, Any]]:
        """Return what the chat (or topic) shows now, oldest first, with ``pinned`` flags."""
        return await self.call(
            "messages", chat_id=chat_id, message_thread_id=message_thread_id, bot_token=bot_token
        )

    async def wait_for_message(
        self,
        chat_id: int,
        *,
        message_thread_id: int | None = None,
        contains: str | None = None,
        from_bot: bool | None = True,
        after_message_id: int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """Return the next matching message; raises SandboxError(408) on timeout.

        Without ``after_message_id`` it continues after the last message this client's
        ``wait_for_message`` returned for the same chat and topic, so repeated calls walk
        through the bot's messages in order.
        """
        key = (int(chat_id), message_thread_id)
        after = after_message_id if after_message_id is not None else self._cursors.get(key, 0)
        message = await self.call(
            "wait_for_message",
            chat_id=chat_id,
            message_thread_id=message_thread_id,
            contains=contains,
            from_bot=from_bot,
            after_message_id=after,
            timeout=timeout,
            bot_token=bot_token,
        )
        self._cursors[key] = max(self._cursors.get(key, 0), int(message["message_id"]))
        return message

    async def chat(self, chat_id: int, bot_token: str | None = None) -> dict[str, Any]:
        """Return a chat with members, topics, invite links and join requests."""
        return await self.call("chat", chat_id=chat_id, bot_token=bot_token)

    async def topics(self, chat_id: int) -> list[dict[str, Any]]:
        """Return the forum topics of a supergroup."""
        return await self.call("topics", chat_id=chat_id)

    async def member(self, chat_id: int, user_id: int) -> dict[str, Any]:
        """Return a user's ChatMember in a group."""
        return await self.call("member", chat_id=chat_id, user_id=user_id)

    async def users(self) -> list[dict[str, Any]]:
        """Return every person and bot."""
        return await self.call("users")

    async def user_chats(self, user_id: int) -> list[dict[str, Any]]:
        """Return the chats a person sees (bots and groups)."""
        return await self.call("user_chats", user_id=user_id)

    async def updates(self, bot_token: str | None = None) -> list[dict[str, Any]]:
        """Return the bot's pending updates without consuming them."""
        return await self.call("updates", bot_token=bot_token)

    async def pending_updates(self, bot_token: str | None = None) -> int:
        """Return how many updates the bot has not yet confirmed or received."""
        return int(await self.call("pending_updates", bot_token=bot_token))

    async def chat_actions(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Return recent sendChatAction calls."""
        return await self.call("chat_actions", chat_id=chat_id)

    async def download(self, file_id: str) -> bytes:
        """Download a stored file's bytes (e.g. a photo the bot sent)."""
        async with self._http().get(f"{self.base_url}/control/file/{file_id}") as response:
            if response.status != 200:
                raise SandboxError(response.status, "file not found")
            return await response.read()

    # --- the sandbox itself -----------------------------------------------------------

    async def fault(
        self,
        kind: str,
        count: int = 1,
        retry_after: int = 1,
        delay: float = 1.0,
        method: str | None = None,
        status: int = 500,
    ) -> bool:
        """Arm a fault ("429", "5xx", "slow" or "drop_webhook") for the next ``count`` calls."""
        return bool(
            await self.call(
                "fault",
                kind=kind,
                count=count,
                retry_after=retry_after,
                delay=delay,
                method=method,
                status=status,
            )
        )

    async def clear_faults(self) -> bool:
        """Disarm every fault."""
        return bool(await self.call("clear_faults"))

    async def advance_time(self, seconds: float) -> int:
        """Move the sandbox clock forward; returns the new unix time."""
        return int(await self.call("advance_time", seconds=seconds))

    async def inject_update(
        self, update_type: str, payload: Any, bot_token: str | None = None
    ) -> dict[str, Any] | None:
        """Queue an update exactly as given (numbered by the sandbox); returns the Update."""
        result = await self.call(
            "inject_update", update_type=update_type, payload=payload, bot_token=bot_token
        )
        return dict(result) if result is not None else None

    async def set_rate_limits(self, enabled: bool) -> bool:
        """Switch rate limits on or off."""
        return bool(await self.call("set_rate_limits", enabled=enabled))

    async def rate_limited(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Return the 429s the sandbox's rate limits answered (optionally to one chat)."""
        return await self.call("rate_limited", chat_id=chat_id)

    async def reset(self) -> bool:
        """Forget everything in the sandbox."""
        self._cursors.clear()
        return bool(await self.call("reset"))
