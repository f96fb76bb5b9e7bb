"""Which language a citizen is answered in.

Usage::

    written_language("There is a fire in my building")   # "en"
    written_language("불났어요 빨리 와주세요")              # "ko"
    written_language("fire 불났어요"), written_language("help")   # None, None: mixed, short
    answer_language(chosen=False, stored="ko", written="en", client="ko")   # "en"

The rule, in order:

1. A language chosen with /lang (or its buttons) always wins.
2. Otherwise a report text clearly written in one of our languages (by the citizen: not one
   they forwarded) sets the language of its answer, and is remembered for the citizen
   (:func:`remember_written_language`), so the buttons, prompts and staff answers that follow
   stay in it.
3. Otherwise the language remembered from an earlier text.
4. Otherwise the Telegram client's ``language_code``, else the bot's default.

"Clearly written" is decided by script over letters only: digits, punctuation, emoji, bare
jamo (ㅋㅋ, ㅠㅠ) and links are ignored; a Hangul syllable counts as two letters (it writes at
least a consonant and a vowel). A text is Korean or English when that script has at least
:data:`MIN_LETTERS` letters and :data:`CLEAR_SHARE` of all of them; shorter or mixed texts
("fire 불났어요", "fire near 홍대입구역 exit 9") keep the current language. It runs on every
text in a surge: a few microseconds per message.
"""

from __future__ import annotations

import re

from storage.models.citizens import Citizen

MIN_LETTERS = 8
"""Fewer letters of the leading script than this: too short to tell ("help", "fire!!")."""

CLEAR_SHARE = 0.7
"""The share of the letters one script needs for the text to be written in its language."""

_LINK = re.compile(r"(?:https?://|www\.)\S*|\S+@\S+|\S+\.(?:com|net|org|kr|me|gl|ly|io|co)\S*")
# Letters are counted on the UTF-8 bytes, which is several times faster than a regular
# expression per character: deleting every other byte leaves the ASCII letters, or the lead
# bytes 0xEA-0xED of three-byte sequences, which hold the Hangul syllables U+AC00-U+D7A3 (and
# little else a citizen writes; the bare jamo ㅋ and ㅠ are led by 0xE3, emoji by 0xF0).
_LETTERS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_NOT_LATIN = bytes(b for b in range(256) if b not in _LETTERS)
_NOT_HANGUL = bytes(b for b in range(256) if not 0xEA <= b <= 0xED)


def written_language(text: str | None) -> str | None:
    """The language a text is clearly written in ("ko" or "en"), or None (short or mixed)."""
    if not text:
        return None
    if "." in text or "/" in text or "@" in text:
        text = _LINK.sub(" ", text)
    raw = text.encode("utf-8", "replace")
    latin = len(raw.translate(None, _NOT_LATIN))
    hangul = 2 * len(raw.translate(None, _NOT_HANGUL))
    total = latin + hangul
    if latin >= hangul:
        lang, leading = "en", latin
    else:
        lang, leading = "ko", hangul
    if leading < MIN_LETTERS or leading < CLEAR_SHARE * total:
        return None
    return lang


def answer_language(*, chosen: bool, stored: str | None, written: str | None, client: str) -> str:
    """The language of this answer: /lang's choice, else the text's, else remembered or client's.

    ``chosen``: ``stored`` was chosen with /lang; otherwise ``stored`` is the language remembered
    from the citizen's earlier texts (None when there is none). ``written``: what
    :func:`written_language` found in this message. ``client``: from Telegram's language code.
    """
    if chosen and stored:
        return stored
    return written or stored or client


def remember_written_language(citizen: Citizen, text: str | None) -> str | None:
    """Remember the language the citizen's text is clearly written in (not over a /lang choice).

    Return the language written, or None when the text does not tell.
    """
    written = written_language(text)
    remember_language(citizen, written)
    return written


def remember_language(citizen: Citizen, written: str | None) -> None:
    """Remember ``written`` (a text's language, None: it did not tell) unless /lang chose one."""
    if written is not None and not citizen.language_chosen and citizen.language != written:
        citizen.language = written
