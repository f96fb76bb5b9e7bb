"""aiogram messages become the domain's citizen messages (files downloaded through getFile)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.types import (
    Chat,
    Location,
    Message,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    PhotoSize,
    User,
    Venue,
)

from bot.settings import Settings
from handlers.citizen import convert

USER = User(id=42, is_bot=False, first_name="민지", language_code="ko")
CHAT = Chat(id=42, type="private")


def message(**fields: Any) -> Message:
    return Message(
        message_id=7, date=datetime(2026, 11, 22, tzinfo=UTC), chat=CHAT, from_user=USER, **fields
    )


def test_intake_config_follows_settings() -> None:
    settings = Settings(retention_days=10)
    settings.reports.followup_window_minutes = 5
    config = convert.intake_config(settings)
    assert config.followup_window.total_seconds() == 300
    assert config.retention_days == 10 and config.media_dir == settings.media_dir


async def test_text_and_live_location_and_venue() -> None:
    text = await convert.incoming(message(text="불이야"), bot=None, lang="ko", max_bytes=10)  # type: ignore[arg-type]
    assert (text.kind, text.text, text.user_id, text.file) == ("text", "불이야", 42, None)
    live = message(
        location=Location(latitude=37.5, longitude=127.0, live_period=600, horizontal_accuracy=8)
    )
    place = (await convert.incoming(live, bot=None, lang="ko", max_bytes=10)).place  # type: ignore[arg-type]
    assert place is not None and place.live_period == 600 and place.accuracy == 8
    venue = message(
        venue=Venue(
            location=Location(latitude=37.5, longitude=127.0), title="시청", address="세종대로 110"
        ),
        location=Location(latitude=37.5, longitude=127.0),
    )
    converted = await convert.incoming(venue, bot=None, lang="ko", max_bytes=10)  # type: ignore[arg-type]
    assert converted.kind == "venue" and converted.place and converted.place.title == "시청"


async def test_sticker_like_messages_are_unsupported() -> None:
    converted = await convert.incoming(message(), bot=None, lang="en", max_bytes=10)  # type: ignore[arg-type]
    assert converted.kind == "unsupported"


async def test_photo_is_downloaded_or_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    async def fake_fetch(
        bot: object, *, file_id: str, size: int | None, max_bytes: int
    ) -> tuple[bytes | None, str | None]:
        calls.append(file_id)
        return (b"jpeg", None) if size is not None and size <= max_bytes else (None, "too_large")

    monkeypatch.setattr(convert, "fetch_file", fake_fetch)
    photo = [
        PhotoSize(file_id="small", file_unique_id="s", width=90, height=90, file_size=4),
        PhotoSize(file_id="large", file_unique_id="l", width=900, height=900, file_size=4),
    ]
    ok = await convert.incoming(
        message(photo=photo, caption="연기", media_group_id="g"), bot=None, lang="ko", max_bytes=10
    )  # type: ignore[arg-type]
    assert ok.kind == "photo" and ok.text == "연기" and ok.media_group_id == "g"
    assert ok.file is not None and ok.file.file_id == "large" and ok.file.data == b"jpeg"
    big = await convert.incoming(message(photo=photo), bot=None, lang="ko", max_bytes=2)  # type: ignore[arg-type]
    assert big.file is not None and big.file.problem == "too_large" and big.file.data is None
    assert calls == ["large", "large"]


async def test_prefetched_bytes_are_used_without_downloading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_fetch(*args: object, **kwargs: object) -> tuple[bytes | None, str | None]:
        raise AssertionError("must not download again")

    monkeypatch.setattr(convert, "fetch_file", no_fetch)
    photo = [PhotoSize(file_id="p", file_unique_id="u", width=9, height=9, file_size=3)]
    converted = await convert.incoming(
        message(photo=photo),
        bot=None,
        lang="ko",
        max_bytes=10,
        prefetched={"p": (b"abc", None)},  # type: ignore[arg-type]
    )
    assert converted.file is not None and converted.file.data == b"abc"


def test_command_words_are_a_text_message_of_the_words_alone() -> None:
    words = convert.command_words(message(text="/help 불이 났어요"), "불이 났어요", lang="ko")
    assert (words.kind, words.text, words.user_id, words.message_id) == (
        "text",
        "불이 났어요",
        42,
        7,
    )
    assert convert.command_words(message(text="/help"), None, lang="ko").text == ""


def test_the_origin_of_a_forwarded_message_is_named() -> None:
    sent = datetime(2026, 11, 21, tzinfo=UTC)
    friend = User(id=9, is_bot=False, first_name="Jisoo", last_name="Kim", username="jisoo")
    channel = Chat(id=-1001, type="channel", title="동네소식", username="dongnenews")
    group = Chat(id=-1002, type="supergroup", title="Neighbours")
    origins = {
        "Jisoo Kim (@jisoo)": MessageOriginUser(date=sent, sender_user=friend),
        "Hidden Person": MessageOriginHiddenUser(date=sent, sender_user_name="Hidden Person"),
        "Neighbours (admin)": MessageOriginChat(
            date=sent, sender_chat=group, author_signature="admin"
        ),
        "동네소식 (@dongnenews)": MessageOriginChannel(date=sent, chat=channel, message_id=5),
    }
    for name, origin in origins.items():
        assert convert.forwarded_from(message(text="물이 차요", forward_origin=origin)) == name
    assert convert.forwarded_from(message(text="물이 차요")) is None


def test_the_edit_that_ends_a_live_location_is_told_apart_from_a_move() -> None:
    start = datetime(2026, 11, 22, tzinfo=UTC)
    edited = int(start.timestamp()) + 120

    def edit(period: int | None) -> Message:
        location = Location(latitude=37.5, longitude=127.0, live_period=period)
        return message(location=location, edit_date=edited)

    moved, stopped, without = (convert.place_of(edit(p)) for p in (900, 120, None))
    assert moved is not None and not moved.live_stopped
    assert stopped is not None and stopped.live_stopped
    assert without is not None and without.live_stopped
    fresh = convert.place_of(message(location=Location(latitude=37.5, longitude=127.0)))
    assert fresh is not None and not fresh.live_stopped
