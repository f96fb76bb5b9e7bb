"""Translate aiogram messages into the domain's channel-neutral citizen messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath

from aiogram import Bot
from aiogram.types import (
    Message,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
)

from bot.media import Prefetched, fetch_file
from bot.settings import Settings
from situation.intake import (
    IncomingContact,
    IncomingFile,
    IncomingMessage,
    IncomingPlace,
    IntakeConfig,
)

SUFFIXES = {"photo": ".jpg", "voice": ".ogg", "video": ".mp4"}
LIVE_FOREVER = 0x7FFFFFFF  # a live_period that never ends


def intake_config(settings: Settings) -> IntakeConfig:
    """Build the domain's report settings from the application settings."""
    return IntakeConfig(
        media_dir=settings.media_dir,
        followup_window=timedelta(minutes=settings.reports.followup_window_minutes),
        max_file_bytes=settings.reports.max_photo_bytes,
        retention_days=settings.retention_days,
    )


def place_of(message: Message) -> IncomingPlace | None:
    """Return the message's location or venue, if any."""
    if message.venue is not None:
        venue = message.venue
        return IncomingPlace(
            latitude=venue.location.latitude,
            longitude=venue.location.longitude,
            title=venue.title,
            address=venue.address,
        )
    if message.location is not None:
        loc = message.location
        return IncomingPlace(
            latitude=loc.latitude,
            longitude=loc.longitude,
            accuracy=loc.horizontal_accuracy,
            live_period=loc.live_period,
            live_stopped=_live_ended(message),
        )
    return None


def _live_ended(message: Message) -> bool:
    """Whether an edited live location is its last one (stopped, or its period is over).

    Telegram's final edit either drops ``live_period`` or cuts it to the time it was shared.
    """
    if message.edit_date is None or message.location is None:
        return False
    period = message.location.live_period
    if period is None:
        return True
    if period == LIVE_FOREVER:
        return False
    edited_at = datetime.fromtimestamp(message.edit_date, UTC)
    return message.date + timedelta(seconds=period) <= edited_at


def contact_of(message: Message) -> IncomingContact | None:
    """Return the phone contact the message shares, if any (its name and number only)."""
    contact = message.contact
    if contact is None:
        return None
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    return IncomingContact(phone=contact.phone_number, name=name or None)


def forwarded_from(message: Message) -> str | None:
    """Name where a forwarded message came from: a person, a hidden user, a group or a channel."""
    origin = message.forward_origin
    if isinstance(origin, MessageOriginUser):
        user = origin.sender_user
        name = user.full_name
        return f"{name} (@{user.username})" if user.username else name
    if isinstance(origin, MessageOriginHiddenUser):
        return origin.sender_user_name
    if isinstance(origin, MessageOriginChat):
        chat = origin.sender_chat
        title = chat.title or chat.full_name
        return f"{title} ({origin.author_signature})" if origin.author_signature else title
    if isinstance(origin, MessageOriginChannel):
        chat = origin.chat
        title = chat.title or chat.full_name
        return f"{title} (@{chat.username})" if chat.username else title
    return None


def _file_fields(
    message: Message,
) -> tuple[str, str, str | None, int | None, str | None, str] | None:
    if message.photo:
        p = message.photo[-1]
        return "photo", p.file_id, p.file_unique_id, p.file_size, "image/jpeg", ".jpg"
    if message.document is not None:
        d = message.document
        suffix = PurePosixPath(d.file_name or "").suffix
        return "document", d.file_id, d.file_unique_id, d.file_size, d.mime_type, suffix
    if message.audio is not None:  # a recording shared as a file: kept like any document
        a = message.audio
        suffix = PurePosixPath(a.file_name or "").suffix or ".mp3"
        return "document", a.file_id, a.file_unique_id, a.file_size, a.mime_type, suffix
    if message.voice is not None:
        v = message.voice
        return "voice", v.file_id, v.file_unique_id, v.file_size, v.mime_type, ".ogg"
    if message.video is not None:
        v2 = message.video
        return "video", v2.file_id, v2.file_unique_id, v2.file_size, v2.mime_type, ".mp4"
    if message.video_note is not None:
        n = message.video_note
        return "video", n.file_id, n.file_unique_id, n.file_size, "video/mp4", ".mp4"
    return None


async def incoming(
    message: Message,
    *,
    bot: Bot,
    lang: str,
    max_bytes: int,
    prefetched: Prefetched | None = None,
) -> IncomingMessage:
    """Describe a private message for the domain, with its file's bytes (prefetched or fetched)."""
    user_id = message.from_user.id if message.from_user else message.chat.id
    fields = _file_fields(message)
    file = None
    if fields is not None:
        kind, file_id, unique_id, size, mime, suffix = fields
        if prefetched is not None and file_id in prefetched:
            data, problem = prefetched[file_id]
        else:
            data, problem = await fetch_file(bot, file_id=file_id, size=size, max_bytes=max_bytes)
        file = IncomingFile(
            kind=kind,
            file_id=file_id,
            file_unique_id=unique_id,
            size=size if size is not None else (len(data) if data is not None else None),
            mime=mime,
            suffix=suffix,
            data=data,
            problem=problem,
        )
    place = place_of(message)
    contact = contact_of(message)
    text = message.text if message.text is not None else message.caption
    if file is not None:
        kind = file.kind
    elif message.venue is not None:
        kind = "venue"
    elif place is not None:
        kind = "location"
    elif contact is not None:
        kind = "contact"
    elif message.text is not None:
        kind = "text"
    else:
        kind = "unsupported"
    return IncomingMessage(
        user_id=user_id,
        chat_id=message.chat.id,
        message_id=message.message_id,
        lang=lang,
        kind=kind,
        text=text,
        media_group_id=message.media_group_id,
        file=file,
        place=place,
        contact=contact,
        forwarded_from=forwarded_from(message),
    )


def command_words(message: Message, args: str | None, *, lang: str) -> IncomingMessage:
    """Describe the words after a citizen's command as the text message intake takes alone."""
    return IncomingMessage(
        user_id=message.from_user.id if message.from_user else message.chat.id,
        chat_id=message.chat.id,
        message_id=message.message_id,
        lang=lang,
        kind="text",
        text=args or "",
    )
