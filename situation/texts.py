"""The message catalogue: every user-facing message, in Korean and English, as jinja2 templates.

Usage::

    # renders situation/templates/messages/ko/citizen_welcome.j2
    render("ko", "citizen_welcome", name="민지")
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

LANGUAGES = ("ko", "en")
TEMPLATE_DIR = Path(__file__).parent / "templates" / "messages"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Return the jinja2 environment of the message catalogue (autoescape on)."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # templates ship with the code: no stat() per render
    )


def normalise_language(lang: str | None) -> str:
    """Map any language code to one the catalogue has (``ko`` or ``en``)."""
    if lang and lang.lower().startswith("ko"):
        return "ko"
    if lang and lang.lower().startswith("en"):
        return "en"
    return "ko"


def render(lang: str, name: str, **context: Any) -> str:
    """Render the message ``name`` in ``lang`` as Telegram HTML."""
    if all(_rememberable(value) for value in context.values()):
        typed = tuple(sorted((key, type(value), value) for key, value in context.items()))
        return _render_plain(normalise_language(lang), name, typed)
    return _render(normalise_language(lang), name, context)


# Values a rendering can be remembered by. Templates use no clock or other globals, so a
# message is a function of its language, name and context: labels and buttons, rendered
# several times per report, are rendered once. Long texts (what citizens and staff write)
# are not remembered: they rarely come twice, and 4096 of them could hold tens of MB.
# A rendering is remembered by each value's type as well: ``Markup("<b>")`` equals and hashes
# like ``"<b>"`` but is inserted as it is, where the str is escaped; ``1``, ``1.0`` and ``True``
# are equal too and render "1", "1.0" and "True".
_PLAIN = (str, int, float, bool, type(None))
_REMEMBERED_TEXT = 256


def _rememberable(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= _REMEMBERED_TEXT
    return isinstance(value, _PLAIN)


@lru_cache(maxsize=4096)
def _render_plain(lang: str, name: str, context: tuple[tuple[str, type, Any], ...]) -> str:
    return _render(lang, name, {key: value for key, _, value in context})


def _render(lang: str, name: str, context: dict[str, Any]) -> str:
    template = environment().get_template(f"{lang}/{name}.j2")
    return template.render(**context).strip()


def catalogue_names(lang: str) -> set[str]:
    """List the message names available in ``lang``."""
    return {path.stem for path in (TEMPLATE_DIR / lang).glob("*.j2")}
