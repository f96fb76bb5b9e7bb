"""Log lines never carry tokens, secrets, phone numbers or precise locations."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from bot.logging import JsonFormatter, RedactingFormatter, configure_logging, redact

TOKEN = "7000000001:JIKIMI-sandbox-demo-token-000000000"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"bot token {TOKEN} loaded", TOKEN),
        ("POST https://api.telegram.org/bot123:abcdef/sendMessage", "123:abcdef"),
        ("GET /file/bot123:abcdef/photos/file_1.jpg", "123:abcdef"),
        (f"webhook served on 127.0.0.1:8081/bot{TOKEN}", TOKEN.split(":")[1]),
        (f"bot{TOKEN}", TOKEN.split(":")[1]),
        ("secret_token=Zx9-abc_DEF set", "Zx9-abc_DEF"),
        ('{"X-Telegram-Bot-Api-Secret-Token": "hunter2hunter2"}', "hunter2hunter2"),
        ("connecting to postgresql+asyncpg://jikimi:s3cr3t@db:5432/jikimi", "s3cr3t"),
        ("citizen phone 010-1234-5678", "1234-5678"),
        ("citizen phone 01012345678", "01012345678"),
        ("contact +82 10-9876-5432", "9876-5432"),
        ("contact phone_number=821098765432", "821098765432"),
        ("landline 02-312-4567", "312-4567"),
        ("landline 031-555-1234", "555-1234"),
        ("landline 0313125678", "3125678"),
        ("internet phone 070-4321-8765", "4321-8765"),
        ("personal number 0505-123-4567", "123-4567"),
        ('contact {"phone_number": "14155552671"}', "14155552671"),
        ("redis://:hunter2@cache:6379/0", "hunter2"),
        ("near 37.566, 126.978", "37.566"),
        ("foreign +1 415 555 2671", "555 2671"),
        ("location 37.566535,126.977969", "37.566535"),
        ("location 37.566535,126.977969", "126.977969"),
        ("{'latitude': 35.1795543, 'longitude': 129.0756416}", "35.1795543"),
    ],
)
def test_redact_removes_sensitive_values(line: str, secret: str) -> None:
    """Each sensitive value disappears from the line."""
    assert secret not in redact(line)


@pytest.mark.parametrize(
    "phone",
    [
        "00 44 20 7946 0958",
        "0044 20 7946 0958",
        "00442079460958",
        "(0044) 20 7946 0958",
        "001-1-212-555-0100",
        "00700-81-3-1234-5678",
        "011 44 20 7946 0958",
        "(212) 555-0100",
        "212-555-0100",
        "1-212-555-0100",
        "212.555.0100",
        "44 20 7946 0958",
        "86 138 0013 8000",
        "020 7946 0958",
        "07700 900123",
        "090-1234-5678",
        "030 12345678",
    ],
)
def test_redact_removes_foreign_numbers_written_without_plus(phone: str) -> None:
    """A foreign number outside a phone field, with an exit prefix or in groups, goes."""
    assert redact(f"citizen wrote: call me on {phone}, please") == (
        "citizen wrote: call me on <phone>, please"
    )


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("my number is 8613812345678", "my number is <phone>"),
        ("447911123456", "<phone>"),
        ("call 14155552671.", "call <phone>."),
        ("tel:4915123456789", "tel:<phone>"),
        ("(33612345678)", "(<phone>)"),
        ("79161234567 or 821012345678", "<phone> or <phone>"),
        ('{"text": "97150123456 please"}', '{"text": "<phone> please"}'),
        ("https://wa.me/447911123456", "https://wa.me/<phone>"),
        ("at 385911234567, then", "at <phone>, then"),
    ],
)
def test_redact_removes_foreign_numbers_written_as_one_run_of_digits(
    written: str, shown: str
) -> None:
    """A country code and a national number in one run of 11-15 digits, without "+", goes."""
    assert redact(written) == shown


@pytest.mark.parametrize(
    "line",
    [
        "update 987654321 message 4242 from user 1234567890",  # ids of up to ten digits
        "user 7000000001 wrote 6591234567",  # ten digits: a user id (or Singapore) stays
        "chat -1001234567890 topic 12",  # a supergroup's chat id
        "channel 1001234567890",  # the same without its sign: "1" and area code 00x
        "report R-20261122-0042 and incident I-20261122-0007",
        "sent at 1764547200 (1764547200123 ms, 1764547200123456 us)",  # Unix times
        "stamp 20261122143015 and 202611221430",  # compact date-times
        "file AgADBAADq6cxG1234567890123 and id 1234567890123_4567",  # stuck to other words
        "version 1.2.34567890123, t.me/c/1234567890/55",
        "total 12345678901234567890 bytes",  # longer than any phone
        "national 06612345678901 and unassigned 28123456789012",  # no country code
    ],
)
def test_redact_keeps_ids_times_and_references_that_are_long_runs_of_digits(line: str) -> None:
    """Ids, Unix and compact times, references and decimals are not foreign phone numbers."""
    assert redact(line) == line


def test_long_decimals_are_rounded_as_coordinates_not_taken_for_phones() -> None:
    """Coordinates with many decimals keep their shape: rounded, never a phone."""
    assert redact("at 37.5665350000001 126.97800000000001") == "at 37.57~ 126.98~"


@pytest.mark.parametrize(
    "line",
    [
        "report R-20261208-0001 filed",
        "incident I-20261122-0007 merged into I-20261122-0012",
        "2026-11-22T03:10:22Z range 2026-11-22 - 2026-11-23",
        "listening on 192.168.100.200:8080 with aiogram 3.13.1",
        "ids [12, 13, 14] block 10 20 30 40 topic 12 message 3456",
        "sent 120 of 5000 in 2026, id 0001 12345678, id 00000042",
        "user 1234567890 in chat -1001234567890 message 4242",
    ],
)
def test_redact_keeps_references_dates_and_ids(line: str) -> None:
    """References, dates, addresses, versions and ids are not phone numbers."""
    assert redact(line) == line


def test_redact_keeps_coarse_location_and_ordinary_numbers() -> None:
    """Coordinates become about a kilometre; ids, dates and durations stay readable."""
    assert redact("at 37.566535 126.977969") == "at 37.57~ 126.98~"
    line = "update 123456789 in chat -1001234567890 at 2026-11-22 03:10:22 took 0.25 s"
    assert redact(line) == line
    line = "job run (scheduled at 2026-12-07 14:51:57.604123+00:00) in 0.004213 s"
    assert redact(line) == line


def test_json_lines_stay_json_on_a_stream_that_cannot_encode_korean() -> None:
    """A JSON line is ASCII: a latin-1 or ASCII stderr cannot break it."""
    line = JsonFormatter().format(_record("신고 접수 %s", "🔥 화재"))
    assert line.isascii()
    assert json.loads(line)["message"] == "신고 접수 🔥 화재"


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("jikimi.test", logging.INFO, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_formatter_redacts_message_arguments_and_extra_fields() -> None:
    """A JSON line is parseable, holds the extra fields, and nothing sensitive."""
    record = _record(
        "report from %s at %s",
        "010-2222-3333",
        "37.5665351,126.9779692",
        update_id=42,
        latitude=37.5665351,
        duration=0.0042,
        payload={"phone_number": "+82 10-2222-3333"},
    )
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "jikimi.test"
    assert entry["update_id"] == 42
    assert entry["latitude"] == 37.57
    assert entry["duration"] == 0.0042
    assert "2222-3333" not in line
    assert "37.5665351" not in line
    assert "<phone>" in entry["message"]


def test_formatters_redact_exception_text() -> None:
    """A traceback that quotes a token is redacted in both formats."""
    try:
        raise RuntimeError(f"request to /bot{TOKEN}/getMe failed")
    except RuntimeError:
        record = logging.LogRecord(
            "jikimi.test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    plain = RedactingFormatter("%(message)s").format(record)
    as_json = JsonFormatter().format(record)
    for text in (plain, as_json):
        assert TOKEN not in text
        assert "RuntimeError" in text


def test_configure_logging_installs_one_json_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    """configure_logging replaces root handlers and writes redacted JSON lines."""
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging(json_format=True)
        configure_logging(json_format=True)
        assert len(root.handlers) == 1
        logging.getLogger("jikimi.test").warning("token %s", TOKEN)
        entry = json.loads(stream.getvalue().strip().splitlines()[-1])
        assert entry["message"] == "token <token>"
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def test_configure_logging_keeps_the_sweep_of_every_15_seconds_out_of_the_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """apscheduler's two INFO lines per run would bury the console URL of `make run` in a minute.

    Failures of the job still come through (apscheduler logs them as errors).
    """
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    executors = logging.getLogger("apscheduler.executors.default")
    parent = logging.getLogger("apscheduler.executors")
    saved_handlers, saved_level, saved_parent = root.handlers[:], root.level, parent.level
    try:
        configure_logging()
        executors.info('Running job "situation-room sweep" (scheduled at ...)')
        executors.info('Job "situation-room sweep" executed successfully')
        executors.error('Job "situation-room sweep" raised an exception')
        logging.getLogger("jikimi.test").info("the bot's own INFO stays")
        lines = stream.getvalue().splitlines()
        assert [line.split(": ", 1)[1] for line in lines] == [
            'Job "situation-room sweep" raised an exception',
            "the bot's own INFO stays",
        ]
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        parent.setLevel(saved_parent)
