"""Telegram's length limits: fit people's words into messages, measured as Telegram measures.

Usage::

    said = lambda words: render("ko", "staff_citizen_says", citizen="👤 R-1", text=words)
    texts = [said(words) for words in split(citizen_text, room_for(said, TEXT_LIMIT))]

A list that may not fit one message is packed into as few as it takes, each part rendered by
the template with its share of the lines::

    chunks = pack(lines, lambda chunk: render("ko", "staff_digest", lines=chunk), TEXT_LIMIT)

and a name or note quoted inside a longer message is cut to a bounded room first::

    holder = clip(member.name, NAME_ROOM)

Telegram counts a message in UTF-16 code units of its text once the HTML is parsed (4096 for
a text, 1024 for a caption). Words are cut as plain text, before the frame (a template with
autoescape) escapes them: a cut never splits an HTML entity or a surrogate pair, and escaping
costs no room. Every cut is marked with "…" at the end of one piece and the start of the next.

Rendered HTML that was not fitted this way is cut, as a last resort, by :func:`split_html`
(between lines where it can, never inside a tag or an entity, tags closed at the cut and
opened again after it) and :func:`clip_html` (the first piece only, for edits and captions).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CUT = "…"
# A piece holds at least a mark at each end and one character (an emoji is two units).
MIN_ROOM = 2 * len(CUT) + 2
# A cut moves back to the last space within this many characters, so that words stay whole.
WORD_BACKOFF = 80
# A person's name quoted in a staff message (mentions, holders) holds at most this many units.
NAME_ROOM = 64

T = TypeVar("T")

_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&(#[xX][0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# Characters that attach to the one before them (joiners, variation selectors, skin tones).
_ATTACHED = re.compile("[\u200d\ufe00-\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def visible_len(html: str) -> int:
    """Return the length Telegram counts for an HTML text: tags dropped, entities decoded."""
    return utf16_len(plain_text(html))


def plain_text(html: str) -> str:
    """Return what a reader sees of an HTML text: tags dropped, entities decoded."""
    return _ENTITY.sub(_decode, _TAG.sub("", html))


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


def clip(words: str, room: int) -> str:
    """Return plain ``words`` cut to ``room`` units (the cut marked "…"), to quote in a frame."""
    return fit(words, room)[0]


def pack(
    items: Sequence[T], frame: Callable[[Sequence[T]], str], limit: int = TEXT_LIMIT
) -> list[list[T]]:
    """Group ``items`` in order into the fewest runs that ``frame`` (run -> HTML) fits in ``limit``.

    No items give one empty run. An item that does not fit on its own is refused
    (``ValueError``): its free words must be fitted (:func:`clip`) before.
    """
    runs: list[list[T]] = [[]]
    for item in items:
        candidate = [*runs[-1], item]
        if visible_len(frame(candidate)) <= limit:
            runs[-1] = candidate
        elif runs[-1] and visible_len(frame([item])) <= limit:
            runs.append([item])
        else:
            raise ValueError(f"an item does not fit within {limit} on its own: {item!r:.80}")
    return runs


def paginate(
    items: Sequence[T], part: Callable[[Sequence[T], int, int], str], limit: int = TEXT_LIMIT
) -> list[str]:
    """Render ``items`` as the fewest messages within ``limit``: ``part(run, number, count)``.

    Runs are packed as if every message were the last of ``len(items)``, so ``part`` must show
    no more in an earlier part than in the last one (numbers aside): say what closes a list in
    its last part, and let the first one hold nothing the others do not.
    """
    widest = max(len(items), 1)
    runs = pack(items, lambda run: part(run, widest, widest), limit)
    return [part(run, number, len(runs)) for number, run in enumerate(runs, start=1)]


@dataclass(frozen=True)
class _Token:
    """A piece of rendered HTML: a tag (it shows nothing) or one character, maybe escaped."""

    raw: str
    char: str = ""
    opens: str | None = None
    closes: str | None = None


# Anything from "<" to ">" is a tag (as visible_len counts), an entity is one character.
_HTML_TOKEN = re.compile(r"<(/?)\s*([A-Za-z][A-Za-z0-9-]*)?[^>]*>|&[#A-Za-z0-9]+;|.", re.DOTALL)


def _tokens(html: str) -> list[_Token]:
    tokens = []
    for match in _HTML_TOKEN.finditer(html):
        raw = match.group(0)
        if raw.startswith("<") and raw.endswith(">") and len(raw) > 1:
            name = (match.group(2) or "").lower() or None
            tokens.append(_Token(raw, closes=name) if match.group(1) else _Token(raw, opens=name))
        elif raw.startswith("&") and len(raw) > 1:
            decoded = _ENTITY.sub(_decode, raw)
            if decoded == raw:  # not an entity Telegram decodes: its characters show as they are
                tokens.extend(_Token(char, char) for char in raw)
            else:
                tokens.append(_Token(raw, decoded))
        else:
            tokens.append(_Token(raw, raw))
    return tokens


def _open_tags(tokens: list[_Token]) -> list[tuple[_Token, ...]]:
    """Return, for every position in ``tokens`` (and the end), the tags open there."""
    stacks: list[tuple[_Token, ...]] = [()]
    for token in tokens:
        stack = stacks[-1]
        if token.opens:
            stack = (*stack, token)
        elif token.closes and stack and stack[-1].opens == token.closes:
            stack = stack[:-1]
        stacks.append(stack)
    return stacks


class _Cutter:
    """Cuts rendered HTML into pieces within a limit; see :func:`split_html`."""

    def __init__(self, html: str, limit: int) -> None:
        if limit < MIN_ROOM:
            raise ValueError("no room for words")
        self.tokens = _tokens(html)
        self.stacks = _open_tags(self.tokens)
        self.units = [0]  # units[i]: what tokens[:i] show, in UTF-16 units
        for token in self.tokens:
            self.units.append(self.units[-1] + utf16_len(token.char))
        self.limit = limit

    def _reach(self, start: int, room: int) -> int:
        """Return the end of the longest run of tokens from ``start`` that shows ``room``."""
        end = start
        while end < len(self.tokens) and self.units[end + 1] - self.units[start] <= room:
            end += 1
        return end

    def piece(self, start: int, lead: str, *, marked: bool) -> tuple[str, int, bool]:
        """Return the piece that begins at token ``start``, where the next begins, and whether
        it was cut within a line (marked "…"; with ``marked``, every cut is)."""
        tokens, room = self.tokens, self.limit - utf16_len(lead)
        end = self._reach(start, room)
        if end == len(tokens):
            return self._render(start, end, lead, ""), end, False
        if not marked:
            for index in range(end, start + (end - start) // 2, -1):
                if tokens[index - 1].char == "\n":
                    return self._render(start, index, lead, ""), index, False
        end = self._reach(start, room - utf16_len(CUT))
        cut = end
        for index in range(end, max(end - WORD_BACKOFF, start + 1), -1):
            if tokens[index - 1].char.isspace():
                cut = index
                break
        else:
            while cut > start + 1 and (
                (tokens[cut].char and _attached(tokens[cut].char))
                or tokens[cut - 1].char == "\u200d"
            ):
                cut -= 1
        body_end = cut
        while body_end > start + 1 and tokens[body_end - 1].char.isspace():
            body_end -= 1
        return self._render(start, body_end, lead, CUT), cut, True

    def _render(self, start: int, end: int, lead: str, mark: str) -> str:
        opened = "".join(token.raw for token in self.stacks[start])
        body = "".join(token.raw for token in self.tokens[start:end])
        closed = "".join(f"</{token.opens}>" for token in reversed(self.stacks[end]))
        return opened + lead + body + mark + closed

    def shows(self, start: int, end: int) -> bool:
        """Whether tokens ``start`` to ``end`` show anything but spaces."""
        return any(token.char.strip() for token in self.tokens[start:end])


def split_html(html: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut rendered Telegram HTML into messages of at most ``limit`` units; nothing is lost.

    The last resort for what was not fitted before rendering. A piece ends after a line where
    one ends in its second half, else at a space (marked "…" as :func:`split` marks a cut),
    never inside a tag or an entity; tags open at a cut are closed there and opened again in
    the next piece. Pieces that would show only spaces are left out.
    """
    # Tags and entities only shrink when read: most texts fit before they are parsed.
    if utf16_len(html) <= limit or visible_len(html) <= limit:
        return [html]
    cutter = _Cutter(html, limit)
    pieces: list[str] = []
    start, lead = 0, ""
    while start < len(cutter.tokens):
        piece, end, in_line = cutter.piece(start, lead, marked=False)
        if cutter.shows(start, end):
            pieces.append(piece)
        start, lead = end, CUT if in_line else ""
        while in_line and start < len(cutter.tokens) and cutter.tokens[start].char.isspace():
            start += 1
    return pieces


def clip_html(html: str, limit: int = TEXT_LIMIT) -> str:
    """Return the head of rendered HTML that fits ``limit`` units, marked "…" if cut."""
    if utf16_len(html) <= limit or visible_len(html) <= limit:
        return html
    return _Cutter(html, limit).piece(0, "", marked=True)[0]
