"""The incident timeline (/history): the newest entries that fit one message as Telegram counts."""

from __future__ import annotations

from datetime import timedelta

from sandbox.html_entities import format_text
from situation.audit import HISTORY_NOTE_ROOM, Actor, render_history
from situation.limits import CUT, NAME_ROOM, TEXT_LIMIT, utf16_len
from storage.models.audit import IncidentEvent
from tests.situation.conftest import START

FAMILY = "👨\u200d👩\u200d👧"  # one emoji of eight units


def event(number: int, note: str, actor: str = "정하은") -> IncidentEvent:
    return IncidentEvent(
        incident_id=1,
        at=START + timedelta(minutes=number),
        actor_id=9003,
        actor_name=actor,
        action="note",
        note=note,
    )


def test_a_timeline_of_emoji_notes_keeps_the_newest_entries_within_the_limit() -> None:
    events = [event(number, f"메모 {number} & " + FAMILY * 100) for number in range(40)]
    html = render_history(events, lang="ko", reference="I-20261122-0001", timezone="Asia/Seoul")
    text = format_text(html, "HTML")[0]
    assert utf16_len(text) <= TEXT_LIMIT < 2 * len(text)  # emoji count twice
    assert "메모 39 & " in text and "메모 0 & " not in text
    assert "건 생략)" in text.split("\n", 1)[0]  # the older entries left out are counted
    notes = [line.split(" · ", 2)[-1] for line in text.split("\n") if "메모 " in line]
    assert all(utf16_len(note) <= HISTORY_NOTE_ROOM for note in notes)
    assert all(note.endswith(FAMILY + CUT) for note in notes)  # never cut inside an emoji


def test_a_long_staff_name_is_cut_in_the_timeline_and_in_mentions() -> None:
    name = "🚒 소방관 " * 20
    html = render_history([event(1, "확인", actor=name)], lang="en", reference="R", timezone="UTC")
    line = format_text(html, "HTML")[0].split("\n")[1]
    actor = line.split(" ", 2)[2].split(" · ")[0]  # after the date and time
    assert actor.endswith(CUT) and utf16_len(actor) <= NAME_ROOM
    mention = format_text(Actor(user_id=9003, name=name).mention, "HTML")[0]
    assert mention == actor
