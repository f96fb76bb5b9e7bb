"""Callback data packs to aiogram's format within 64 bytes and unpacks back."""

from __future__ import annotations

import pytest

from situation.callbacks import (
    CallbackError,
    Consent,
    ForgetConfirm,
    LanguageChoice,
    ManualPage,
    ScenarioChoice,
)


@pytest.mark.parametrize(
    "value",
    [
        ManualPage(slug="electricity_gas", page=3, lang="en"),
        ScenarioChoice(report_id=123456789, slug="building_collapse"),
        Consent(answer=Consent.ACCEPT),
        LanguageChoice(lang="ko"),
        ForgetConfirm(answer="yes"),
    ],
)
def test_round_trip(value: object) -> None:
    data = value.pack()  # type: ignore[attr-defined]
    assert len(data.encode()) <= 64
    assert data.startswith(type(value).PREFIX + ":")  # type: ignore[attr-defined]
    assert type(value).unpack(data) == value  # type: ignore[attr-defined]


def test_format_matches_aiogram_callback_data() -> None:
    assert ManualPage(slug="fire", page=2, lang="ko").pack() == "cmp:fire:2:ko"
    assert ScenarioChoice(report_id=7, slug="other").pack() == "csc:7:other"


def test_rejects_foreign_or_broken_data() -> None:
    with pytest.raises(CallbackError):
        ManualPage.unpack("csc:7:fire")
    with pytest.raises(CallbackError):
        ManualPage.unpack("cmp:fire:two:ko")
    with pytest.raises(CallbackError):
        LanguageChoice.unpack("clg:fr")
    with pytest.raises(CallbackError):
        Consent.unpack("ccn:maybe")


def test_refuses_separator_and_oversize() -> None:
    with pytest.raises(CallbackError):
        ManualPage(slug="a:b", page=1, lang="ko").pack()
    with pytest.raises(CallbackError):
        ManualPage(slug="x" * 60, page=1, lang="ko").pack()
