"""Outbox rows of the community domain: texts, pins, media and topic changes.

Usage (inside the update's transaction)::

    await send_text(session=session, chat_id=hub_id, thread_id=topic_id, text=html,
                    correlation=f"community:{cid}:brief:0")
    await pin(session=session, chat_id=hub_id, thread_id=topic_id,
              target_ref=f"community:{cid}:brief:0")
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from situation.limits import CAPTION_LIMIT, TEXT_LIMIT, clip_html, split_html
from storage.models.communities import Community
from storage.models.outbox import OutboxCreate, OutboxMessage, Priority
from storage.outbox import enqueue

Buttons = list[list[dict[str, str]]]


def button(text: str, data: str) -> dict[str, str]:
    """Return one inline callback button."""
    return {"text": text, "data": data}


async def _put(
    session: AsyncSession,
    *,
    chat_id: int,
    kind: str,
    payload: dict[str, Any],
    thread_id: int | None = None,
    correlation: str | None = None,
    target_ref: str | None = None,
    priority: int = Priority.STAFF_NOTICE,
) -> OutboxMessage:
    return await enqueue(
        session=session,
        message=OutboxCreate(
            chat_id=chat_id,
            thread_id=thread_id,
            kind=kind,
            payload=payload,
            correlation=correlation,
            target_ref=target_ref,
            priority=priority,
        ),
    )


async def send_text(
    *,
    session: AsyncSession,
    chat_id: int,
    text: str,
    thread_id: int | None = None,
    buttons: Buttons | None = None,
    correlation: str | None = None,
    priority: int = Priority.STAFF_NOTICE,
) -> OutboxMessage:
    """Queue an HTML text, optionally with inline buttons; return its (first) row.

    A text too long for one message goes out in parts: the first carries ``correlation`` (what
    a pin refers to), the next ones ``<correlation>:p2`` and on, the last the buttons.
    """
    parts = split_html(text, TEXT_LIMIT)
    rows = []
    for number, part in enumerate(parts, start=1):
        payload: dict[str, Any] = {"text": part}
        if buttons and number == len(parts):
            payload["buttons"] = buttons
        named = correlation if number == 1 or correlation is None else f"{correlation}:p{number}"
        rows.append(
            await _put(
                session,
                chat_id=chat_id,
                kind="text",
                payload=payload,
                thread_id=thread_id,
                correlation=named,
                priority=priority,
            )
        )
    return rows[0]


async def tell_staff(*, session: AsyncSession, community: Community, text: str) -> None:
    """Queue a notice in the community's staff topic, if it has one."""
    if community.staff_chat_id is not None:
        await send_text(
            session=session,
            chat_id=community.staff_chat_id,
            thread_id=community.staff_thread_id,
            text=text,
        )


async def edit_text(
    *,
    session: AsyncSession,
    chat_id: int,
    message_id: int,
    text: str,
    buttons: Buttons | None = None,
) -> OutboxMessage:
    """Queue an edit of a message the bot sent (buttons replaced, or removed when None).

    The text is cut to fit one message, never inside its markup.
    """
    payload: dict[str, Any] = {"message_id": message_id, "text": clip_html(text, TEXT_LIMIT)}
    if buttons:
        payload["buttons"] = buttons
    return await _put(session, chat_id=chat_id, kind="edit_text", payload=payload)


async def send_photo(
    *, session: AsyncSession, chat_id: int, thread_id: int | None, file_id: str, caption: str = ""
) -> OutboxMessage:
    """Queue a photo by Telegram file id."""
    payload: dict[str, Any] = {"file_id": file_id}
    if caption:
        payload["caption"] = clip_html(caption, CAPTION_LIMIT)
    return await _put(session, chat_id=chat_id, kind="photo", payload=payload, thread_id=thread_id)


async def send_location(
    *,
    session: AsyncSession,
    chat_id: int,
    thread_id: int | None,
    latitude: float,
    longitude: float,
) -> OutboxMessage:
    """Queue a map pin."""
    return await _put(
        session,
        chat_id=chat_id,
        kind="location",
        payload={"latitude": latitude, "longitude": longitude},
        thread_id=thread_id,
    )


async def pin(
    *,
    session: AsyncSession,
    chat_id: int,
    thread_id: int | None = None,
    message_id: int | None = None,
    target_ref: str | None = None,
) -> OutboxMessage:
    """Queue pinning a message, given by id or by the correlation of the row that sends it."""
    payload: dict[str, Any] = {"disable_notification": True}
    if message_id is not None:
        payload["message_id"] = message_id
    return await _put(
        session,
        chat_id=chat_id,
        kind="pin",
        payload=payload,
        thread_id=thread_id,
        target_ref=target_ref,
    )


async def topic_state(
    *, session: AsyncSession, chat_id: int, thread_id: int, closed: bool
) -> OutboxMessage:
    """Queue closing (``closed``) or reopening a forum topic."""
    return await _put(
        session,
        chat_id=chat_id,
        kind="close_topic" if closed else "reopen_topic",
        payload={"message_thread_id": thread_id},
        thread_id=thread_id,
    )
