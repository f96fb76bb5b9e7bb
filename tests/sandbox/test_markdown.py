"""Telegram's MarkdownV2 and legacy Markdown parse modes: entities, escapes, errors."""

from __future__ import annotations

import pytest

from sandbox.errors import ApiError
from sandbox.html_entities import format_text


def test_markdown_v2_entities_and_escapes() -> None:
    source = (
        r"*불이 났어요* \- 119 _기울임_ __밑줄__ ~취소~ ||스포||" + r" [포털](https://x.kr/a\)b)"
    )
    text, entities = format_text(source, "MarkdownV2")
    assert text == "불이 났어요 - 119 기울임 밑줄 취소 스포 포털"
    kinds = [e["type"] for e in entities]
    assert kinds == ["bold", "italic", "underline", "strikethrough", "spoiler", "text_link"]
    assert entities[-1]["url"] == "https://x.kr/a)b"
    code, code_entities = format_text("`a.b` ```python\nprint(1)\n```", "MarkdownV2")
    assert code == "a.b print(1)"
    assert code_entities[1] == {"type": "pre", "offset": 4, "length": 8, "language": "python"}
    quoted, quote_entities = format_text(">첫째\n>둘째\n보통", "MarkdownV2")
    assert quoted == "첫째\n둘째\n보통"
    assert quote_entities == [{"type": "blockquote", "offset": 0, "length": 5}]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("119.", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("*열림", "Can't find end of Bold entity at byte offset 0"),
    ],
)
def test_markdown_v2_errors(source: str, message: str) -> None:
    with pytest.raises(ApiError) as caught:
        format_text(source, "MarkdownV2")
    assert caught.value.description == f"Bad Request: can't parse entities: {message}"


def test_legacy_markdown() -> None:
    text, entities = format_text("*굵게* _기울임_ `코드` [링크](https://119.go.kr)", "Markdown")
    assert text == "굵게 기울임 코드 링크"
    assert [e["type"] for e in entities] == ["bold", "italic", "code", "text_link"]
    with pytest.raises(ApiError, match="Can't find end of the entity starting at byte offset 0"):
        format_text("*열림", "Markdown")
