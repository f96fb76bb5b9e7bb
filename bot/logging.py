"""Logging: plain or JSON lines, with secrets and personal data kept out.

Usage::

    configure_logging(json_format=settings.log_json)
    log.info("report %s stored", reference, extra={"update_id": update.update_id})

Every line, its exception text and (in JSON) its extra fields pass through :func:`redact`:
bot tokens, webhook secrets, passwords in URLs and phone numbers are replaced, and coordinates
are rounded to two decimals (about a kilometre), so a log never pins a citizen's location.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_TOKEN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{20,}")
_BOT_URL_TOKEN = re.compile(r"/(file/)?bot(?:[^/\s]+(/)|\d+:[A-Za-z0-9_-]+)")
_SECRET = re.compile(
    r"(?i)((?:secret[_-]?token|x-telegram-bot-api-secret-token|password|passwd)"
    r"[\"']?\s*[:=]\s*[\"']?)[^\"'\s,&;}]+"
)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.IGNORECASE)
# Telegram's contacts carry numbers of any country, often without "+": by their key.
_PHONE_FIELD = re.compile(r"(?i)(phone(?:_number)?[\"']?\s*[:=]\s*[\"']?)\+?\d[\d ()-]{5,}\d")
_PHONE_KR_MOBILE = re.compile(r"(?<![\d+.])(?:\+?82[- ]?|0)1[016789][- .]?\d{3,4}[- .]?\d{4}(?!\d)")
# Seoul 02, the provinces 031-064, internet phones 070, personal 050x, toll-free 080.
_PHONE_KR_LANDLINE = re.compile(
    r"(?<![\d+.:])0(?:2|[3-6][1-5]|70|50\d|80)(?:[- .)]\s?|\s)?\d{3,4}[- .]?\d{4}(?!\d)"
)
_PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+])\+\d{1,3}[- ]?\(?\d{1,4}\)?(?:[- ]?\d{2,4}){2,3}(?!\d)"
)
# Foreign numbers without "+": an international prefix (00, Korea's 001/002/00700..., North
# America's 011) before the country code ("00 44 20 7946 0958", "001-1-212-555-0100"), or a
# national number written in three to five groups ("(212) 555-0100", "44 20 7946 0958",
# "020 7946 0958", "212.555.0100") or trunk "0" + area code + subscriber ("07700 900123").
# A phone never follows "-", "." or ":" (references "R-20261122-0042", chat ids, timestamps,
# decimals) and needs 10 digits or more: dates ("2026-11-22") and times keep theirs.
_PHONE_EXIT = re.compile(
    r"(?<![\w+.:/-])\(?(?:00|011)\)?[- ]?\(?[1-9](?:[- ]?\(?\d{1,5}\)?){1,7}(?![\w-]|[.:]\d)"
)
_PHONE_GROUPS = re.compile(r"(?<![\w+.:/-])\(?\d{1,4}\)?(?:[- ]\(?\d{1,4}\)?){2,4}(?![\w-]|[.:]\d)")
_PHONE_DOTTED = re.compile(r"(?<![\w+.:/-])(?:1\.)?[2-9]\d{2}\.\d{3}\.\d{4}(?![\w.-])")
_PHONE_TRUNK = re.compile(r"(?<![\w+.:/-])0[1-9]\d{1,3}[- ]\d{6,8}(?![\w-]|[.:]\d)")


def _foreign_phone(match: re.Match[str]) -> str:
    """Replace a grouped number with as many digits as a phone (10-15, 18 after a prefix)."""
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    last = re.split(r"[- ()]", text.rstrip(")"))[-1]
    if 10 <= digits <= 15 + 3 * text.startswith("0") and len(last) >= 3:
        return "<phone>"
    return text


# A foreign number written as one run of digits, without "+" or an exit prefix
# ("8613812345678", "447911123456"): a country code and the national number. The rule, chosen so
# that the numbers a log must keep readable stay:
# - 11 to 15 digits (E.164 allows 15). Ten digits and fewer stay: Telegram user ids (up to ten
#   digits today), update and message ids, Unix times in seconds. A ten-digit foreign number
#   (Singapore's "65" + 8 digits) cannot be told from a user id and stays too.
# - It begins with the country code of an assigned ITU zone: never "0" (a national number, see
#   the Korean and trunk patterns above), nor 28x, 83x, 89x and the like.
# - Code 1 (North America) is exactly 11 digits, its area code not beginning with 0 or 1: Unix
#   times in milliseconds ("1764547200123", 13 digits) and microseconds (16) stay.
# - It does not begin as a compact date (19xx or 20xx, a month, a day: "20261122143015"), so
#   time stamps stay; an Egyptian number ("20" + 10 digits) that reads as a date is the price.
# - Nothing sticks to it: a letter, digit, "_", "+", "-" or "." before it, and a letter, digit,
#   "_" or "-" after it (or "." or ":" and a digit) make it part of something else: chat ids
#   ("-1001234567890"), references ("R-20261122-0042"), decimals and coordinates
#   ("126.97800000000001"), versions, file ids. After "tel:", "=" or "/" it is a number still.
_COUNTRY_CODE = (
    r"(?:7|2[07]|21[1-8]|2[2-69]\d|3[0-469]|3[578]\d|4[013-9]|42[0-3]|5[1-8]|50\d|59\d"
    r"|6[0-6]|6[7-9]\d|8[1246]|80[08]|85[0-6]|87[08]|88[0-8]|9[0-58]|9[67]\d|99[2-8])"
)
_COMPACT_DATE = r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_PHONE_RUN = re.compile(
    rf"(?<![\w+.-])(?=\d{{11,15}}(?![\w-]|[.:]\d))(?!{_COMPACT_DATE})"
    rf"(?:1[2-9]\d{{9}}|{_COUNTRY_CODE}\d{{8,13}})(?!\d)"
)


# A latitude and longitude side by side keep two decimals from three on; a lone number from
# four, unless it is below one (a duration) or the seconds of a time ("14:51:57.604123").
_COORDINATE_PAIR = re.compile(
    r"(?<![\d.:])(-?\d{1,3}\.\d{3,})(\s*,\s*|\s+)(-?\d{1,3}\.\d{3,})(?![\d.])"
)
_COORDINATE = re.compile(r"(?<![\d.:])-?[1-9]\d{0,2}\.\d{4,}(?![\d.])")


def _rounded(number: str) -> str:
    return f"{float(number):.2f}~"


def redact(text: str) -> str:
    """Remove bot tokens, secrets, phone numbers and precise coordinates from a log line."""
    text = _BOT_URL_TOKEN.sub(lambda m: f"/{m.group(1) or ''}bot<token>{m.group(2) or ''}", text)
    text = _TOKEN.sub("<token>", text)
    text = _SECRET.sub(r"\1<secret>", text)
    text = _URL_PASSWORD.sub(r"\1<password>@", text)
    text = _PHONE_FIELD.sub(r"\1<phone>", text)
    text = _PHONE_INTERNATIONAL.sub("<phone>", text)
    text = _PHONE_KR_MOBILE.sub("<phone>", text)
    text = _PHONE_KR_LANDLINE.sub("<phone>", text)
    for foreign in (_PHONE_EXIT, _PHONE_GROUPS, _PHONE_DOTTED, _PHONE_TRUNK):
        text = foreign.sub(_foreign_phone, text)
    text = _PHONE_RUN.sub("<phone>", text)
    text = _COORDINATE_PAIR.sub(
        lambda m: f"{_rounded(m.group(1))}{m.group(2)}{_rounded(m.group(3))}", text
    )
    return _COORDINATE.sub(lambda m: _rounded(m.group(0)), text)


_LOCATION_KEYS = frozenset({"latitude", "longitude", "lat", "lon", "lng"})


def _redact_value(key: str, value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, float) and key.lower() in _LOCATION_KEYS:
        return round(value, 2)
    if isinstance(value, bool | int | float | None):
        return value
    return redact(json.dumps(value, ensure_ascii=False, default=str))


# Attributes every LogRecord has; anything else came through ``extra=``.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class RedactingFormatter(logging.Formatter):
    """A plain formatter that redacts what it prints."""

    def format(self, record: logging.LogRecord) -> str:
        """Format then redact."""
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line (time, level, logger, message, extra fields), redacted."""

    def format(self, record: logging.LogRecord) -> str:
        """Format the record as a JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_") and key not in entry:
                entry[key] = _redact_value(key, value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        # ASCII escapes: a line stays valid JSON on a stream that cannot encode Korean.
        return json.dumps(entry, ensure_ascii=True, default=str)


def configure_logging(*, json_format: bool = False, level: int = logging.INFO) -> None:
    """Install the root handler once (plain or JSON lines on stderr)."""
    handler = logging.StreamHandler(sys.stderr)
    if json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Two lines per sweep (every 15 s) otherwise; a failed or missed run is still logged.
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
