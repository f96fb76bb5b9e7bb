"""Settings load without the domain's heavy modules and carry the default ack deadlines."""

from __future__ import annotations

import subprocess
import sys

from bot.settings import SituationRoomSettings
from situation.deadline_defaults import DEFAULT_ACK_MINUTES
from situation.staffroom import RoomConfig


def test_settings_do_not_load_the_staff_room() -> None:
    """Importing the settings (as the CLI does at start-up) loads neither the room nor the ORM."""
    code = (
        "import sys, bot.settings; "
        "print(sorted(m for m in ('situation.staffroom', 'sqlmodel') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_default_ack_minutes_are_shared() -> None:
    """The settings and the room start from the same deadlines by priority."""
    assert SituationRoomSettings().ack_minutes == dict(DEFAULT_ACK_MINUTES)
    assert RoomConfig(chat_id=None).ack_minutes == dict(DEFAULT_ACK_MINUTES)
    assert DEFAULT_ACK_MINUTES["P1"] < DEFAULT_ACK_MINUTES["P4"]
