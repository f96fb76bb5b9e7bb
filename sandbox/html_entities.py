"""Telegram's HTML parse mode: markup -> plain text + MessageEntity list (UTF-16 offsets).

Follows the rules and error messages of Telegram's parser (tdlib ``parse_html``)::

    text, entities = parse_html("<b>불</b> 났어요")   # ("불 났어요", [{"type": "bold", ...}])
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import ApiError, bad_request
from sandbox.markdown import parse_markdown, parse_markdown_v2

SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
SUPPORTED_TAGS = {*SIMPLE_TAGS, "a", "span", "tg-emoji"}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.\-]")
_MARKUP = re.compile(r"[<&]")


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def _error(message: str) -> ApiError:
    return bad_request(f"can't parse entities: {message}")


class _Parser:
    def __init__(self, source: str):
        self.src = source
        self.i = 0
        self.out: list[str] = []
        self.out_len16 = 0
        self.stack: list[dict[str, Any]] = []
        self.entities: list[dict[str, Any]] = []

    def byte_offset(self, pos: int) -> int:
        """Return the UTF-8 byte offset of a source index (Telegram reports bytes)."""
        return len(self.src[:pos].encode("utf-8"))

    def emit(self, chunk: str) -> None:
        """Append text to the output and advance the UTF-16 length."""
        self.out.append(chunk)
        self.out_len16 += utf16_len(chunk)

    def peek(self) -> str:
        """Return the current character (or '')."""
        return self.src[self.i] if self.i < len(self.src) else ""

    def decode_entity(self) -> str:
        """Decode an HTML entity at ``self.i`` (which points at '&') or return '&'."""
        match = re.match(r"&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);", self.src[self.i :])
        if match:
            name = match.group(1)
            decoded: str | None = None
            if name.startswith(("#x", "#X")):
                code = int(name[2:], 16)
                decoded = chr(code) if 0 < code <= 0x10FFFF else None
            elif name.startswith("#"):
                code = int(name[1:])
                decoded = chr(code) if 0 < code <= 0x10FFFF else None
            else:
                decoded = NAMED_ENTITIES.get(name)
            if decoded is not None:
                self.i += len(match.group(0))
                return decoded
        self.i += 1
        return "&"

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        """Parse the whole source and return (text, entities)."""
        src = self.src
        while self.i < len(src):
            ch = src[self.i]
            if ch == "&":
                self.emit(self.decode_entity())
            elif ch == "<":
                if self.i + 1 < len(src) and src[self.i + 1] == "/":
                    self.close_tag()
                else:
                    self.open_tag()
            else:
                start = self.i
                markup = _MARKUP.search(src, start)
                self.i = markup.start() if markup else len(src)
                self.emit(src[start : self.i])
        if self.stack:
            raise _error(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1]["tag"]}"'
            )
        return "".join(self.out), self.entities

    def open_tag(self) -> None:
        """Parse a start tag with its attributes."""
        src = self.src
        begin = self.i
        self.i += 1
        name_start = self.i
        while self.i < len(src) and not src[self.i].isspace() and src[self.i] != ">":
            self.i += 1
        if self.i >= len(src):
            raise _error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        tag = src[name_start : self.i].lower()
        if tag not in SUPPORTED_TAGS:
            raise _error(f'Unsupported start tag "{tag}" at byte offset {self.byte_offset(begin)}')
        attrs: dict[str, str] = {}
        while self.peek() != ">":
            while self.peek().isspace():
                self.i += 1
            if self.peek() == ">":
                break
            if self.peek() == "":
                raise _error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            attr_start = self.i
            while self.peek() and not self.peek().isspace() and self.peek() not in "=>":
                self.i += 1
            attr_name = src[attr_start : self.i].lower()
            if not attr_name:
                raise _error(
                    f'Empty attribute name in the tag "{tag}" at byte offset '
                    f"{self.byte_offset(begin)}"
                )
            while self.peek().isspace():
                self.i += 1
            if self.peek() != "=":
                if tag == "blockquote" and attr_name == "expandable":
                    attrs[attr_name] = ""
                    continue
                raise _error(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {self.byte_offset(begin)}'
                )
            self.i += 1
            while self.peek().isspace():
                self.i += 1
            if self.peek() == "":
                raise _error(f'Unclosed start tag "{tag}" at byte offset {self.byte_offset(begin)}')
            value_chars: list[str] = []
            quote = self.peek()
            if quote in "'\"":
                self.i += 1
                while self.peek() and self.peek() != quote:
                    if self.peek() == "&":
                        value_chars.append(self.decode_entity())
                    else:
                        value_chars.append(self.peek())
                        self.i += 1
                if self.peek() != quote:
                    raise _error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
                self.i += 1
            else:
                while self.peek() and _NAME_TOKEN.match(self.peek()):
                    value_chars.append(self.peek())
                    self.i += 1
                if not value_chars:
                    raise _error(f"Expected quote at byte offset {self.byte_offset(self.i)}")
            attrs[attr_name] = "".join(value_chars)
        self.i += 1  # '>'
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise _error('Tag "span" must have class "tg-spoiler"')
        self.stack.append({"tag": tag, "attrs": attrs, "offset": self.out_len16})

    def close_tag(self) -> None:
        """Parse an end tag and record the entity it closes."""
        src = self.src
        begin = self.i
        if not self.stack:
            raise _error(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        self.i += 2
        name_start = self.i
        while self.peek() and not self.peek().isspace() and self.peek() != ">":
            self.i += 1
        end_tag = src[name_start : self.i].lower()
        while self.peek().isspace():
            self.i += 1
        if self.peek() != ">":
            raise _error(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        self.i += 1
        opened = self.stack.pop()
        if end_tag != opened["tag"]:
            raise _error(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{opened["tag"]}>", found "</{end_tag}>"'
            )
        length = self.out_len16 - opened["offset"]
        if length <= 0:
            return
        entity = self.make_entity(opened["tag"], opened["attrs"], opened["offset"], length)
        if entity is not None:
            self.entities.append(entity)

    def make_entity(
        self, tag: str, attrs: dict[str, str], offset: int, length: int
    ) -> dict[str, Any] | None:
        """Return the MessageEntity for a closed tag (None when it makes none)."""
        base: dict[str, Any] = {"offset": offset, "length": length}
        if tag == "a":
            href = attrs.get("href", "")
            if not href:
                return None
            return {"type": "text_link", **base, "url": href}
        if tag == "span":
            return {"type": "spoiler", **base}
        if tag == "tg-emoji":
            emoji_id = attrs.get("emoji-id")
            return (
                {"type": "custom_emoji", **base, "custom_emoji_id": emoji_id} if emoji_id else None
            )
        if tag == "blockquote" and "expandable" in attrs:
            return {"type": "expandable_blockquote", **base}
        if tag == "code" and self.stack and self.stack[-1]["tag"] == "pre":
            language = attrs.get("class", "")
            if language.startswith("language-"):
                self.stack[-1]["attrs"]["language"] = language[len("language-") :]
                return None
        if tag == "pre" and attrs.get("language"):
            return {"type": "pre", **base, "language": attrs["language"]}
        return {"type": SIMPLE_TAGS[tag], **base}


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace like Telegram does and shift entities accordingly."""
    stripped_left = text.lstrip()
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    total = utf16_len(result)
    adjusted = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            adjusted.append({**entity, "offset": start, "length": end - start})
    return result, adjusted


_AUTO_PATTERNS = [
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}")),
    ("hashtag", re.compile(r"(?<![\w#])#\w+")),
    ("url", re.compile(r"(?<![\w@])(?:https?://)[^\s<>\"]+")),
]


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Return the entities Telegram detects automatically (commands, mentions, hashtags, URLs)."""
    found = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group(0)),
                }
            )
    return found


def _sort(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def format_text(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Parse ``text`` per ``parse_mode`` (HTML, MarkdownV2, Markdown or none)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        plain, parsed = _Parser(text).parse()
    elif mode == "markdownv2":
        plain, parsed = parse_markdown_v2(text)
    elif mode == "markdown":
        plain, parsed = parse_markdown(text)
    elif mode:
        raise bad_request("unsupported parse_mode")
    else:
        plain, parsed = text, list(entities or [])
    plain, parsed = _strip(plain, parsed)
    explicit_ranges = {(e["offset"], e["length"]) for e in parsed}
    auto = [e for e in detect_entities(plain) if (e["offset"], e["length"]) not in explicit_ranges]
    return plain, _sort(parsed + auto)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into plain text and entities (no trimming, no auto-detection)."""
    plain, entities = _Parser(text).parse()
    return plain, _sort(entities)
