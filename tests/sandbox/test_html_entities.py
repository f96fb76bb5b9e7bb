"""Telegram HTML parsing: entities, UTF-16 offsets, trimming, auto-detection, errors."""

from __future__ import annotations

import pytest

from sandbox.errors import ApiError
from sandbox.html_entities import format_text, parse_html, utf16_len


def test_nested_tags_and_escapes() -> None:
    text, entities = parse_html("<b>굵게 <i>기울임</i></b> &lt;119&gt; &amp; &#128293;")
    assert text == "굵게 기울임 <119> & 🔥"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bold", 0, 6),
        ("italic", 3, 3),
    ]


def test_links_pre_code_spoiler_blockquote() -> None:
    source = (
        '<a href="https://safekorea.go.kr">국민재난안전포털</a> '
        '<pre><code class="language-python">x = 1</code></pre> '
        '<span class="tg-spoiler">s</span> <tg-spoiler>t</tg-spoiler> '
        "<blockquote expandable>q</blockquote>"
    )
    _, entities = parse_html(source)
    kinds = [e["type"] for e in entities]
    assert kinds == ["text_link", "pre", "spoiler", "spoiler", "expandable_blockquote"]
    assert entities[0]["url"] == "https://safekorea.go.kr"
    assert entities[1]["language"] == "python"


def test_utf16_offsets_after_astral_characters() -> None:
    _, entities = parse_html("🚒🚒 <b>출동</b>")
    assert entities[0]["offset"] == 5 and entities[0]["length"] == 2
    assert utf16_len("🚒") == 2


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a<br>b", 'Unsupported start tag "br" at byte offset 1'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b><i>x</b>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("불 <p>", 'Unsupported start tag "p" at byte offset 4'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
def test_errors_match_telegram(source: str, message: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_html(source)
    assert caught.value.code == 400
    assert caught.value.description == f"Bad Request: can't parse entities: {message}"


def test_format_text_trims_and_detects_commands_and_urls() -> None:
    text, entities = format_text("  /start@jikimi_bot https://119.go.kr #화재  ", None)
    assert text == "/start@jikimi_bot https://119.go.kr #화재"
    assert [e["type"] for e in entities] == ["bot_command", "url", "hashtag"]


def test_unsupported_parse_mode() -> None:
    with pytest.raises(ApiError, match="unsupported parse_mode"):
        format_text("*x*", "BBCode")
