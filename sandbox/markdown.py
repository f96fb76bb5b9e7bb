"""Telegram's MarkdownV2 and legacy Markdown parse modes -> plain text + entities.

text, entities = parse_markdown_v2("*불이 났어요* \\\\- 119")
"""

from __future__ import annotations

from typing import Any

from sandbox.errors import ApiError, bad_request

RESERVED_V2 = "_*[]()~`>#+-=|{}.!"
_TYPE_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
    "custom_emoji": "CustomEmoji",
}
_CLOSERS = {
    "bold": "*",
    "italic": "_",
    "underline": "__",
    "strikethrough": "~",
    "spoiler": "||",
    "text_link": "]",
    "custom_emoji": "]",
}


def _error(message: str) -> ApiError:
    return bad_request(f"can't parse entities: {message}")


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


class _V2:
    def __init__(self, source: str):
        self.src = source
        self.i = 0
        self.out: list[str] = []
        self.length = 0
        self.stack: list[dict[str, Any]] = []
        self.entities: list[dict[str, Any]] = []
        self.quote_start: int | None = None

    def emit(self, chunk: str) -> None:
        """Append text to the output and advance the UTF-16 length."""
        self.out.append(chunk)
        self.length += _utf16(chunk)

    def at(self, offset: int = 0) -> str:
        """Return the character ``offset`` places ahead (or '')."""
        index = self.i + offset
        return self.src[index] if index < len(self.src) else ""

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        """Parse the whole source and return (text, entities)."""
        while self.i < len(self.src):
            if self.stack and self.stack[-1]["type"] in ("code", "pre"):
                self.code_char()
                continue
            ch = self.at()
            line_start = self.i == 0 or self.src[self.i - 1] == "\n"
            if ch == "\\" and self.at(1) and ord(self.at(1)) <= 126:
                self.emit(self.at(1))
                self.i += 2
            elif ch == ">" and line_start:
                self.blockquote_line()
            elif ch == "\n" and self.quote_start is not None:
                if self.at(1) != ">":  # the next line continues the quote otherwise
                    self.end_blockquote()
                self.emit("\n")
                self.i += 1
            elif ch not in RESERVED_V2:
                self.emit(ch)
                self.i += 1
            elif self.closes_top():
                self.close()
            else:
                self.open()
        if self.quote_start is not None:
            self.end_blockquote()
        if self.stack:
            top = self.stack[-1]
            name = _TYPE_NAMES.get(top["type"], top["type"])
            raise _error(f"Can't find end of {name} entity at byte offset {top['byte']}")
        return "".join(self.out), self.entities

    def blockquote_line(self) -> None:
        """Start or continue a quote at a line beginning with '>'."""
        if self.quote_start is None:
            self.quote_start = self.length
        self.i += 1

    def end_blockquote(self) -> None:
        """Close the open quote."""
        assert self.quote_start is not None
        if self.length > self.quote_start:
            self.entities.append(
                {
                    "type": "blockquote",
                    "offset": self.quote_start,
                    "length": self.length - self.quote_start,
                }
            )
        self.quote_start = None

    def code_char(self) -> None:
        """Consume one character inside code or pre."""
        top = self.stack[-1]
        ch = self.at()
        if ch == "\\" and self.at(1):
            self.emit(self.at(1))
            self.i += 2
            return
        if top["type"] == "pre" and self.src.startswith("```", self.i):
            self.i += 3
            self.finish(self.stack.pop())
            return
        if top["type"] == "code" and ch == "`":
            self.i += 1
            self.finish(self.stack.pop())
            return
        self.emit(ch)
        self.i += 1

    def closes_top(self) -> bool:
        """Tell whether the source here closes the innermost entity."""
        if not self.stack:
            return False
        closer = _CLOSERS.get(self.stack[-1]["type"])
        return closer is not None and self.src.startswith(closer, self.i)

    def open(self) -> None:
        """Open the entity whose marker starts here (or reject a reserved character)."""
        ch, begin = self.at(), self.i
        entity: dict[str, Any] = {"offset": self.length, "byte": _byte_offset(self.src, begin)}
        if ch == "_" and self.at(1) == "_":
            entity["type"] = "underline"
            self.i += 2
        elif ch == "_":
            entity["type"] = "italic"
            self.i += 1
        elif ch == "*":
            entity["type"] = "bold"
            self.i += 1
        elif ch == "~":
            entity["type"] = "strikethrough"
            self.i += 1
        elif ch == "|" and self.at(1) == "|":
            entity["type"] = "spoiler"
            self.i += 2
        elif ch == "[":
            entity["type"] = "text_link"
            self.i += 1
        elif ch == "!" and self.at(1) == "[":
            entity["type"] = "custom_emoji"
            self.i += 2
        elif ch == "`" and self.src.startswith("```", self.i):
            entity["type"] = "pre"
            self.i += 3
            end = self.src.find("\n", self.i)
            header = self.src[self.i : end] if end >= 0 else ""
            if end >= 0 and header and " " not in header and "`" not in header:
                entity["language"] = header
                self.i = end + 1
            elif self.at() == "\n":
                self.i += 1
        elif ch == "`":
            entity["type"] = "code"
            self.i += 1
        else:
            raise _error(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        self.stack.append(entity)

    def close(self) -> None:
        """Close the innermost entity (reading a link's URL)."""
        entity = self.stack.pop()
        self.i += len(_CLOSERS[entity["type"]])
        if entity["type"] in ("text_link", "custom_emoji"):
            url = ""
            if self.at() == "(":
                self.i += 1
                chars = []
                while self.at() and self.at() != ")":
                    if self.at() == "\\" and self.at(1):
                        self.i += 1
                    chars.append(self.at())
                    self.i += 1
                if self.at() != ")":
                    raise _error(
                        f"Can't find end of a URL at byte offset {_byte_offset(self.src, self.i)}"
                    )
                self.i += 1
                url = "".join(chars)
            if entity["type"] == "custom_emoji":
                entity["custom_emoji_id"] = url.split("id=", 1)[-1]
            elif url:
                entity["url"] = url
            else:
                return
        self.finish(entity)

    def finish(self, entity: dict[str, Any]) -> None:
        """Record a closed entity if it is not empty."""
        length = self.length - entity["offset"]
        entity.pop("byte", None)
        if length > 0:
            self.entities.append({**entity, "length": length})


def parse_markdown_v2(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse MarkdownV2 with Telegram's escaping rules and errors."""
    text, entities = _V2(source).parse()
    return text, sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def parse_markdown(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse legacy Markdown (``*bold*``, ``_italic_``, backticks, ``[text](url)``)."""
    out: list[str] = []
    length = 0
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source) and source[i + 1] in "_*`[":
            out.append(source[i + 1])
            length += _utf16(source[i + 1])
            i += 2
            continue
        if ch not in "_*`[":
            out.append(ch)
            length += _utf16(ch)
            i += 1
            continue
        begin = i
        kind = {"_": "italic", "*": "bold", "`": "code", "[": "text_link"}[ch]
        end_char = "]" if ch == "[" else ch
        language = None
        if source.startswith("```", i):
            kind, end_token = "pre", "```"
            i += 3
            newline = source.find("\n", i)
            header = source[i:newline] if newline >= 0 else ""
            if newline >= 0 and header and " " not in header and "`" not in header:
                language = header
                i = newline + 1
        else:
            end_token = end_char
            i += 1
        end = source.find(end_token, i)
        if end < 0:
            raise _error(
                "Can't find end of the entity starting at byte offset "
                f"{_byte_offset(source, begin)}"
            )
        inner = source[i:end]
        i = end + len(end_token)
        entity: dict[str, Any] = {"type": kind, "offset": length, "length": _utf16(inner)}
        if language:
            entity["language"] = language
        if kind == "text_link":
            url = ""
            if i < len(source) and source[i] == "(":
                close = source.find(")", i)
                if close >= 0:
                    url = source[i + 1 : close]
                    i = close + 1
            if not url:
                entity = {}
            else:
                entity["url"] = url
        out.append(inner)
        length += _utf16(inner)
        if entity and entity["length"] > 0:
            entities.append(entity)
    return "".join(out), entities
