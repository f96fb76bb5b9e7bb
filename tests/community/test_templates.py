"""Every community and expert message exists in Korean and English and renders."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from community.fields import AGENCIES, field_catalogue
from situation.texts import catalogue_names, render

OURS = ("expert_", "community_")


def _ours(lang: str) -> set[str]:
    return {name for name in catalogue_names(lang) if name.startswith(OURS)}


def test_both_languages_have_the_same_messages() -> None:
    """No message exists in only one language."""
    assert _ours("ko") == _ours("en")
    assert len(_ours("ko")) > 60


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_labels_cover_the_catalogue(lang: str) -> None:
    """Every field and agency has a label of its own (not the slug)."""
    for name in field_catalogue():
        assert render(lang, "expert_field", field=name) != name
    for agency in AGENCIES:
        assert render(lang, "expert_agency", agency=agency) != agency


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_messages_escape_user_text(lang: str) -> None:
    """Names and texts from users are HTML-escaped."""
    expert = SimpleNamespace(
        id=1,
        name="<b>x</b>",
        organisation="o",
        role="expert",
        agency=None,
        fields=["fire"],
        telegram_user_id=5,
        verified=False,
        available=True,
    )
    assert "&lt;b&gt;" in render(lang, "expert_pending_notice", expert=expert)
    assert "&lt;i&gt;" in render(lang, "community_decision", text="<i>go</i>")
    warning = render(
        lang, "community_quiet_warning", community=None, closes_in=timedelta(minutes=45)
    )
    assert "45" in warning


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_command_help_names_closecommunity_for_the_staff_topic(lang: str) -> None:
    """`/community` posts this help in the staff topic, where `/close` closes the incident.

    Following a help line "/close: close the community" there told every citizen their
    incident was closed.
    """
    usage = render(lang, "community_usage")
    lines = usage.splitlines()
    assert any(line.startswith("/closecommunity") for line in lines)
    assert not any(line.startswith("/close ") for line in lines)
