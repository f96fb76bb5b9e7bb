"""Community callback data packs within 64 bytes and parses back."""

from __future__ import annotations

import pytest

from community.callbacks import (
    CallbackError,
    CloseCommunity,
    OpenCommunity,
    RegistrationChoice,
    SendInvitations,
    ToggleField,
    VerifyExpert,
    action_of,
)


def test_round_trips() -> None:
    """Every callback class unpacks what it packs."""
    assert OpenCommunity(7).pack() == "com:open:7"
    for value in (
        OpenCommunity(7),
        ToggleField(3, "psychological_first_aid"),
        SendInvitations(3),
        CloseCommunity(3),
        VerifyExpert(12, "yes"),
        RegistrationChoice("done"),
    ):
        data = value.pack()
        assert len(data.encode()) <= 64
        assert type(value).unpack(data) == value
    assert action_of("com:fld:3:fire") == "fld"
    assert action_of("cmp:fire:1:ko") is None


def test_rejects_bad_data() -> None:
    """Foreign, malformed or oversized data raises CallbackError."""
    with pytest.raises(CallbackError):
        OpenCommunity.unpack("com:open:x")
    with pytest.raises(CallbackError):
        VerifyExpert.unpack("com:ver:1:maybe")
    with pytest.raises(CallbackError):
        SendInvitations.unpack("com:open:1")
    with pytest.raises(CallbackError):
        RegistrationChoice("x" * 70).pack()
