"""Card callback data packs within 64 bytes and round-trips; topic names show the status."""

from __future__ import annotations

import pytest

from manuals.catalog import load_catalog
from sandbox.html_entities import format_text
from situation.agencies import DEFAULT_AGENCIES, METHODS, Directory
from situation.cards import (
    CARD_WORDS,
    CallbackError,
    CardView,
    StaffAction,
    agency_buttons,
    card_buttons,
    card_text,
    method_buttons,
    scenario_buttons,
    topic_name,
)
from situation.limits import CUT, TEXT_LIMIT, utf16_len
from storage.models.incidents import Incident, IncidentStatus


def incident(**fields: object) -> Incident:
    values: dict[str, object] = {
        "id": 123456789,
        "reference": "I-20261122-123456789",
        "scenario": "fire",
        "priority": "P1",
        "district_name": "중구",
    }
    values.update(fields)
    return Incident(**values)


def every_button(rows: list[list[dict[str, str]]]) -> list[str]:
    return [button["data"] for row in rows for button in row]


def test_round_trip_and_limits() -> None:
    action = StaffAction("escm", 42, "fire119.phone")
    assert action.pack() == "st:escm:42:fire119.phone"
    assert StaffAction.unpack(action.pack()) == action
    with pytest.raises(CallbackError):
        StaffAction("pri", 1, "a:b").pack()
    with pytest.raises(CallbackError):
        StaffAction("x", 1, "y" * 70).pack()
    for bad in ("st:take", "cmp:fire:1:ko", "st::1:", "st:take:x:"):
        with pytest.raises(CallbackError):
            StaffAction.unpack(bad)


def test_every_button_of_every_menu_fits_in_64_bytes() -> None:
    item = incident()
    directory = Directory(DEFAULT_AGENCIES)
    data = every_button(card_buttons(item, lang="ko"))
    pages = -(-len(load_catalog().slugs) // 8)
    for page in range(pages):
        data += every_button(scenario_buttons(item, lang="en", page=page))
    data += every_button(agency_buttons(item, directory, lang="ko"))
    for agency in DEFAULT_AGENCIES:
        data += every_button(method_buttons(item, agency.key, lang="ko"))
    assert len(data) > 60 and all(len(d.encode()) <= 64 for d in data)
    assert "com:open:123456789" in data  # the expert community's button
    staff = [d for d in data if d.startswith("st:")]
    assert {StaffAction.unpack(d).incident_id for d in staff} == {123456789}
    assert sum(1 for d in data if d.startswith("st:escm:")) == len(DEFAULT_AGENCIES) * len(METHODS)


@pytest.mark.parametrize(
    ("lang", "take", "takeover", "release"),
    [
        ("ko", "🙋 담당하기", "🔁 넘겨받기", "🔓 담당 해제"),
        ("en", "🙋 Take", "🔁 Take over", "🔓 Release"),
    ],
)
def test_a_held_card_offers_to_take_over_or_release_instead_of_to_take(
    lang: str, take: str, takeover: str, release: str
) -> None:
    (free,) = card_buttons(incident(), lang=lang)[0]
    held, give_back = card_buttons(incident(holder="42"), lang=lang)[0]
    assert (free["text"], StaffAction.unpack(free["data"]).action) == (take, "take")
    assert (held["text"], StaffAction.unpack(held["data"]).action) == (takeover, "takeover")
    assert (give_back["text"], StaffAction.unpack(give_back["data"]).action) == (
        release,
        "release",
    )


def test_closed_cards_offer_only_to_reopen_and_names_show_status() -> None:
    ((reopen,),) = card_buttons(incident(status=IncidentStatus.CLOSED), lang="ko")
    assert StaffAction.unpack(reopen["data"]).action == "reopen"
    merged = incident(status=IncidentStatus.CLOSED, merged_into_id=7)
    assert card_buttons(merged, lang="ko") == []  # its reports live on in the other incident
    assert topic_name(incident()) == "🔴 🔥 중구 I-20261122-123456789"
    assert topic_name(incident(status=IncidentStatus.ACKNOWLEDGED)).startswith("🟡 🔥")
    assert topic_name(incident(scenario=None, district_name=None)).startswith("🔴 ❓ I-")


def test_a_closed_card_quotes_a_long_closing_note_within_one_message() -> None:
    note = "해결: " + "잔불 정리 🔥 & <확인> " * 300  # a /close note as long as a staff message
    closed = incident(status=IncidentStatus.CLOSED, closing_note=note)
    html = card_text(CardView(incident=closed, words="불이 났어요"), lang="ko")
    text = format_text(html, "HTML")[0]
    assert utf16_len(text) <= TEXT_LIMIT
    quoted = text.split("✅ 종결: ", 1)[1]
    assert note.startswith(quoted.removesuffix(CUT).rstrip()) and quoted.endswith(CUT)
    assert utf16_len(quoted) <= CARD_WORDS
