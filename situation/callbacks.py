"""Callback data of the citizen conversation's inline buttons.

Each class packs to ``"prefix:field:field"`` (at most 64 bytes, the format of aiogram's
``CallbackData``) and unpacks back; handlers filter with ``F.data.startswith(Class.PREFIX)``::

    data = ManualPage(slug="fire", page=2, lang="ko").pack()     # "cmp:fire:2:ko"
    ManualPage.unpack(data).page                                  # 2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

MAX_BYTES = 64
SEPARATOR = ":"


class CallbackError(ValueError):
    """Raised when callback data cannot be packed or does not parse."""


def _pack(prefix: str, *fields: object) -> str:
    parts = [prefix]
    for value in fields:
        text = str(value)
        if SEPARATOR in text:
            raise CallbackError(f"separator in callback field {text!r}")
        parts.append(text)
    data = SEPARATOR.join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise CallbackError(f"callback data longer than {MAX_BYTES} bytes: {data!r}")
    return data


def _split(prefix: str, data: str, count: int) -> list[str]:
    parts = data.split(SEPARATOR)
    if parts[0] != prefix or len(parts) != count + 1:
        raise CallbackError(f"not a {prefix!r} callback: {data!r}")
    return parts[1:]


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError as error:
        raise CallbackError(f"not a number: {value!r}") from error


@dataclass(frozen=True)
class ManualPage:
    """Show page ``page`` (1-based) of manual ``slug`` in ``lang``."""

    PREFIX: ClassVar[str] = "cmp"
    slug: str
    page: int
    lang: str

    def pack(self) -> str:
        """Return the callback data string."""
        return _pack(self.PREFIX, self.slug, self.page, self.lang)

    @classmethod
    def unpack(cls, data: str) -> ManualPage:
        """Parse callback data made by :meth:`pack`."""
        slug, page, lang = _split(cls.PREFIX, data, 3)
        return cls(slug=slug, page=_int(page), lang=lang)


@dataclass(frozen=True)
class ScenarioChoice:
    """The citizen picked scenario ``slug`` (or ``other``) for report ``report_id``."""

    PREFIX: ClassVar[str] = "csc"
    OTHER: ClassVar[str] = "other"
    report_id: int
    slug: str

    def pack(self) -> str:
        """Return the callback data string."""
        return _pack(self.PREFIX, self.report_id, self.slug)

    @classmethod
    def unpack(cls, data: str) -> ScenarioChoice:
        """Parse callback data made by :meth:`pack`."""
        report_id, slug = _split(cls.PREFIX, data, 2)
        return cls(report_id=_int(report_id), slug=slug)


@dataclass(frozen=True)
class Consent:
    """The citizen accepted (``accept``) or declined (``decline``) the privacy notice."""

    PREFIX: ClassVar[str] = "ccn"
    ACCEPT: ClassVar[str] = "accept"
    DECLINE: ClassVar[str] = "decline"
    answer: str

    def pack(self) -> str:
        """Return the callback data string."""
        return _pack(self.PREFIX, self.answer)

    @classmethod
    def unpack(cls, data: str) -> Consent:
        """Parse callback data made by :meth:`pack`."""
        (answer,) = _split(cls.PREFIX, data, 1)
        if answer not in (cls.ACCEPT, cls.DECLINE):
            raise CallbackError(f"unknown consent answer {answer!r}")
        return cls(answer=answer)


@dataclass(frozen=True)
class LanguageChoice:
    """The citizen chose the conversation language ``lang``."""

    PREFIX: ClassVar[str] = "clg"
    lang: str

    def pack(self) -> str:
        """Return the callback data string."""
        return _pack(self.PREFIX, self.lang)

    @classmethod
    def unpack(cls, data: str) -> LanguageChoice:
        """Parse callback data made by :meth:`pack`."""
        (lang,) = _split(cls.PREFIX, data, 1)
        if lang not in ("ko", "en"):
            raise CallbackError(f"unknown language {lang!r}")
        return cls(lang=lang)


@dataclass(frozen=True)
class ForgetConfirm:
    """The citizen confirmed (``yes``) or abandoned (``no``) deleting their personal data."""

    PREFIX: ClassVar[str] = "cfg"
    answer: str

    def pack(self) -> str:
        """Return the callback data string."""
        return _pack(self.PREFIX, self.answer)

    @classmethod
    def unpack(cls, data: str) -> ForgetConfirm:
        """Parse callback data made by :meth:`pack`."""
        (answer,) = _split(cls.PREFIX, data, 1)
        if answer not in ("yes", "no"):
            raise CallbackError(f"unknown answer {answer!r}")
        return cls(answer=answer)


@dataclass(frozen=True)
class ManualBrowse:
    """Browse the manual library: ``kind`` "t" (top), "c" (category ``key``), "s" (scenario)."""

    PREFIX: ClassVar[str] = "cmb"
    kind: str
    key: str
    lang: str

    def pack(self) -> str:
        """Return the callback data string."""
        return _pack(self.PREFIX, self.kind, self.key or "-", self.lang)

    @classmethod
    def unpack(cls, data: str) -> ManualBrowse:
        """Parse callback data made by :meth:`pack`."""
        kind, key, lang = _split(cls.PREFIX, data, 3)
        if kind not in ("t", "c", "s"):
            raise CallbackError(f"unknown library entry {kind!r}")
        return cls(kind=kind, key="" if key == "-" else key, lang=lang)
