"""Stored files: uploads by users and bots, file ids, file paths for getFile and download."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from dataclasses import dataclass
from typing import Any

from sandbox.images import image_size
from sandbox.jsonutil import drop_none

_PREFIX = {
    "photo": "AgAC",
    "document": "BQAC",
    "voice": "AwAC",
    "video": "BAAC",
    "audio": "CQAC",
    "animation": "CgAC",
    "sticker": "CAAC",
    "video_note": "DQAC",
}
_FOLDER = {
    "photo": "photos",
    "document": "documents",
    "voice": "voice",
    "video": "videos",
    "audio": "music",
    "animation": "animations",
    "sticker": "stickers",
    "video_note": "video_notes",
}
_EXT = {
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/jpeg": "jpg",
    "audio/ogg": "oga",
    "audio/mpeg": "mp3",
    "video/mp4": "mp4",
    "application/pdf": "pdf",
}


def sniff_mime(data: bytes) -> str | None:
    """Guess the MIME type of common image formats from magic bytes."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    return None


@dataclass
class StoredFile:
    """One file's bytes and metadata."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None

    @property
    def size(self) -> int:
        """Return the size in bytes."""
        return len(self.data)

    def photo_size_json(self) -> dict[str, Any]:
        """Return a ``PhotoSize`` object for this image."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width or 0,
            "height": self.height or 0,
            "file_size": self.size,
        }

    def media_json(self) -> dict[str, Any]:
        """Return the ``Document``/``Voice``/``Video``/``Audio`` object for this file."""
        timed = self.kind in ("voice", "video", "audio", "animation")
        sized = self.kind in ("video", "animation")
        named = self.kind in ("document", "video", "audio", "animation")
        return drop_none(
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": (self.width or 0) if sized else None,
                "height": (self.height or 0) if sized else None,
                "duration": (self.duration or 0) if timed else None,
                "file_name": self.file_name if named else None,
                "mime_type": self.mime_type,
                "file_size": self.size,
            }
        )

    def file_json(self) -> dict[str, Any]:
        """Return the ``File`` object (getFile result)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


class FileStore:
    """All files known to the sandbox, by file_id and by file_path."""

    def __init__(self) -> None:
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self.by_hash: dict[tuple[str, str], StoredFile] = {}
        self._counter = itertools.count(1)

    def add(
        self,
        data: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        duration: int | None = None,
    ) -> StoredFile:
        """Store bytes as a file of ``kind`` (photo, document, voice, ...) and return it."""
        digest = hashlib.sha256(data).hexdigest()
        number = next(self._counter)
        mime = mime_type or sniff_mime(data)
        ext = _EXT.get(mime or "", "")
        if file_name and "." in file_name:
            ext = file_name.rsplit(".", 1)[1]
        if not ext:
            ext = "jpg" if kind == "photo" else "oga" if kind == "voice" else "bin"
        path = f"{_FOLDER.get(kind, 'documents')}/file_{number}.{ext}"
        size = image_size(data) if kind in ("photo", "sticker") else None
        unique = self.by_hash.get((kind, digest))
        stored = StoredFile(
            file_id=_PREFIX.get(kind, "BQAC") + secrets.token_urlsafe(40),
            file_unique_id=unique.file_unique_id if unique else "AQAD" + secrets.token_urlsafe(9),
            kind=kind,
            data=data,
            file_path=path,
            file_name=file_name,
            mime_type=mime,
            width=size[0] if size else None,
            height=size[1] if size else None,
            duration=duration,
        )
        self.by_id[stored.file_id] = stored
        self.by_path[path] = stored
        self.by_hash.setdefault((kind, digest), stored)
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        """Return the file with this file_id, if any."""
        return self.by_id.get(file_id)

    def clear(self) -> None:
        """Forget every file."""
        self.by_id.clear()
        self.by_path.clear()
        self.by_hash.clear()
