"""Telegram's length limits: fit people's words into messages, measured as Telegram measures.

Usage::

    said = lambda words: render("ko", "staff_citizen_says", citizen="👤 R-1", text=words)
    texts = [said(words) for words in split(citizen_text, room_for(said, TEXT_LIMIT))]

Telegram counts a message in UTF-16 code units of its text once the HTML is parsed (4096 for
a text, 1024 for a caption). Words are cut as plain text, before the frame (a template with
autoescape) escapes them: a cut never splits an HTML entity or a surrogate pair, and escaping
costs no room. Every cut is marked with "…" at the end of one piece and the start of the next.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CUT = "…"
# A piece holds at least a mark at each end and one character (an emoji is two units).
MIN_ROOM = 2 * len(CUT) + 2
# A cut moves back to the last space within this many characters, so that words stay whole.
WORD_BACKOFF = 80

_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&(#[xX][0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# Characters that attach to the one before them (joiners, variation selectors, skin tones).
_ATTACHED = re.compile("[\u200d\ufe00-\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, as Telegram counts it."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def visible_len(html: str) -> int:
    """Return the length Telegram counts for an HTML text: tags dropped, entities decoded."""
    return utf16_len(_ENTITY.sub(_decode, _TAG.sub("", html)))


def _decode(match: re.Match[str]) -> str:
    name = match.group(1)
    if not name.startswith("#"):
        return _NAMED[name]
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    return chr(code) if 0 < code <= 0x10FFFF else match.group(0)


def room_for(frame: Callable[[str], str], limit: int) -> int:
    """Return how many UTF-16 units of words ``frame`` (words -> HTML) leaves within ``limit``."""
    room = limit - (visible_len(frame(CUT)) - utf16_len(CUT))
    if room < MIN_ROOM:
        raise ValueError(f"the frame leaves no room for words within {limit}")
    return room


def split(words: str, room: int, *, first_room: int | None = None) -> list[str]:
    """Cut plain ``words`` into pieces of at most ``room`` units (the first ``first_room``).

    Nothing is lost: a piece that was cut ends with "…" and the next one starts with it.
    Empty words give one empty piece.
    """
    pieces: list[str] = []
    rest = words
    while True:
        head, rest = fit(rest, room if pieces or first_room is None else first_room, bool(pieces))
        pieces.append(head)
        if not rest:
            return pieces


def fit(words: str, room: int, continued: bool = False) -> tuple[str, str]:
    """Return the head of ``words`` that fits ``room`` units (cut marked "…") and the rest."""
    lead = CUT if continued else ""
    if utf16_len(lead) + utf16_len(words) <= room:
        return lead + words, ""
    if room < MIN_ROOM:
        raise ValueError("no room for words")
    budget = room - utf16_len(lead) - utf16_len(CUT)
    end = _boundary(words, _last_fitting(words, budget))
    return lead + words[:end].rstrip() + CUT, words[end:].lstrip()


def _last_fitting(words: str, budget: int) -> int:
    """Return how many characters of ``words`` fit ``budget`` UTF-16 units."""
    units = 0
    for index, char in enumerate(words):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > budget:
            return index
    return len(words)


def _boundary(words: str, end: int) -> int:
    """Move a cut at ``end`` back to a space nearby, else off a character's attachments."""
    for index in range(end, max(end - WORD_BACKOFF, 1), -1):
        if words[index - 1].isspace():
            return index
    cut = end
    while cut > 1 and (_attached(words[cut]) or words[cut - 1] == "\u200d"):
        cut -= 1
    return cut if cut > 1 else end


def _attached(char: str) -> bool:
    return bool(_ATTACHED.match(char) or unicodedata.combining(char))
