"""Bot API request parameters from a query string, JSON, urlencoded or multipart body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.errors import bad_request


@dataclass
class UploadedFile:
    """A file sent in a multipart body."""

    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    """Typed access to one call's parameters, raising Telegram-style 400 errors."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadedFile] | None = None):
        self.values = values
        self.files = files or {}

    @classmethod
    async def from_request(cls, request: web.Request) -> Params:
        """Collect parameters from the query string and the body, whatever its encoding."""
        values: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise bad_request("can't parse JSON request body") from exc
                if isinstance(body, dict):
                    values.update(body)
            elif ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = UploadedFile(
                            data=value.file.read(),
                            filename=value.filename,
                            content_type=value.content_type,
                        )
                    else:
                        values[key] = value
        return cls(values, files)

    def has(self, name: str) -> bool:
        """Tell whether the parameter was given (and is not null)."""
        return self.values.get(name) is not None or name in self.files

    def raw(self, name: str) -> Any:
        """Return the parameter as sent."""
        return self.values.get(name)

    def string(self, name: str, *, required: bool = False, empty_error: str | None = None) -> Any:
        """Return a string parameter (None when missing and not required)."""
        value = self.values.get(name)
        if value is None:
            if required:
                raise bad_request(empty_error or f"{name} is empty")
            return None
        if isinstance(value, dict | list):
            return json.dumps(value)
        return str(value)

    def integer(self, name: str, *, required: bool = False, default: int | None = None) -> Any:
        """Return an integer parameter."""
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"invalid {name} specified") from exc

    def number(self, name: str, *, required: bool = False) -> Any:
        """Return a float parameter."""
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"invalid {name} specified") from exc

    def flag(self, name: str, default: bool = False) -> bool:
        """Return a boolean parameter (true/false/1/0 in forms)."""
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1", "yes")

    def json(self, name: str, *, error: str | None = None) -> Any:
        """Return a JSON-typed parameter (objects arrive as strings in forms)."""
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as exc:
                raise bad_request(error or f"can't parse {name} JSON object") from exc
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        """Return a chat id (integer or @username)."""
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError as exc:
            raise bad_request("chat not found") from exc

    def file(self, name: str) -> UploadedFile | str | None:
        """Return an uploaded file (direct or ``attach://``) or a file_id/URL string."""
        if name in self.files:
            return self.files[name]
        value = self.values.get(name)
        if value is None:
            return None
        return self.resolve_media(value)

    def resolve_media(self, value: Any) -> UploadedFile | str:
        """Resolve ``attach://name`` to the uploaded part; return other strings as given."""
        text = str(value)
        if text.startswith("attach://"):
            part = self.files.get(text[len("attach://") :])
            if part is None:
                raise bad_request("wrong HTTP URL specified")
            return part
        return text
