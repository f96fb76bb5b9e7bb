"""Logging: plain or JSON lines, with secrets and personal data kept out."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b")
_BOT_URL_TOKEN = re.compile(r"/bot[^/\s]+/")
_PHONE = re.compile(r"(?<!\d)(?:\+?82[- ]?|0)1[016789][- ]?\d{3,4}[- ]?\d{4}(?!\d)")
_COORDINATE = re.compile(r"(?<![\d.])-?\d{1,3}\.\d{4,}(?![\d.])")


def redact(text: str) -> str:
    """Remove bot tokens, phone numbers and precise coordinates from a log line."""
    text = _BOT_URL_TOKEN.sub("/bot<token>/", text)
    text = _TOKEN.sub("<token>", text)
    text = _PHONE.sub("<phone>", text)
    return _COORDINATE.sub(lambda m: f"{float(m.group(0)):.2f}~", text)


class RedactingFormatter(logging.Formatter):
    """A plain formatter that redacts what it prints."""

    def format(self, record: logging.LogRecord) -> str:
        """Format then redact."""
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        """Format the record as a JSON line."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(*, json_format: bool = False, level: int = logging.INFO) -> None:
    """Install the root handler once."""
    handler = logging.StreamHandler(sys.stderr)
    if json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
