"""The media store: files kept under a directory by their SHA-256, written once (deduplicated).

Usage::

    stored = await store_bytes(media_dir=Path("var/media"), data=b"...", suffix=".jpg")
    stored.path      # "ab/ab12...ef.jpg", relative to media_dir
    resolve(media_dir=..., relative=stored.path).read_bytes()

Inside a transaction that will record the file, use :func:`store_locked`: it holds the file's
lock until commit, so the retention purge cannot delete the file in between (see
``storage.retention.release_files``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.locks import hold_lock

_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")
# What :func:`_relative_path` writes: nothing else under the media directory is ours to delete.
_STORED_NAME = re.compile(r"^([0-9a-f]{2})/(\1[0-9a-f]{62})(?:\.[a-z0-9]{1,8})?$")


@dataclass(frozen=True)
class StoredFile:
    """Where a file was stored and what it hashed to."""

    sha256: str
    path: str
    size: int


def _relative_path(digest: str, suffix: str) -> str:
    safe = suffix.lower() if _SUFFIX.match(suffix) else ""
    return f"{digest[:2]}/{digest}{safe}"


def resolve(*, media_dir: Path, relative: str) -> Path:
    """Return the absolute path of a stored file, refusing paths that leave the store."""
    root = media_dir.resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise ValueError(f"path outside the media store: {relative!r}")
    return path


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def media_lock_name(sha256: str) -> str:
    """The lock held while a stored file with this hash is written, recorded or deleted."""
    return f"media:{sha256}"


def _write(media_dir: Path, data: bytes, suffix: str, digest: str | None = None) -> StoredFile:
    digest = digest or _digest(data)
    relative = _relative_path(digest, suffix)
    target = resolve(media_dir=media_dir, relative=relative)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return StoredFile(sha256=digest, path=relative, size=len(data))


async def store_bytes(*, media_dir: Path, data: bytes, suffix: str = "") -> StoredFile:
    """Store ``data`` under its hash (once, however often it arrives) and describe it."""
    return await asyncio.to_thread(_write, media_dir, data, suffix)


async def store_locked(
    *, session: AsyncSession, media_dir: Path, data: bytes, suffix: str = ""
) -> StoredFile:
    """Store ``data`` as :func:`store_bytes` does, holding its lock until the session commits."""
    digest = await asyncio.to_thread(_digest, data)
    await hold_lock(session=session, name=media_lock_name(digest))
    return await asyncio.to_thread(_write, media_dir, data, suffix, digest)


async def delete_file(*, media_dir: Path, relative: str) -> bool:
    """Delete a stored file; ``True`` if it existed."""
    path = resolve(media_dir=media_dir, relative=relative)
    existed = path.exists()
    await asyncio.to_thread(path.unlink, missing_ok=True)
    return existed


def _delete_all(media_dir: Path, relatives: list[str]) -> int:
    paths = [resolve(media_dir=media_dir, relative=relative) for relative in relatives]
    existed = 0
    for path in paths:
        try:
            path.unlink()
            existed += 1
        except FileNotFoundError:
            pass
    return existed


async def delete_files(*, media_dir: Path, relatives: list[str]) -> int:
    """Delete stored files in one trip to a worker thread; return how many existed."""
    return await asyncio.to_thread(_delete_all, media_dir, relatives)


def _stored_before(media_dir: Path, before: datetime) -> dict[str, str]:
    root = media_dir.resolve()
    if not root.is_dir():
        return {}
    found: dict[str, str] = {}
    for path in root.glob("??/*"):
        relative = path.relative_to(root).as_posix()
        named = _STORED_NAME.match(relative)
        if named is None or path.is_symlink() or not path.is_file():
            continue
        if root not in path.resolve().parents:  # a linked directory: not the store's own
            continue
        if datetime.fromtimestamp(path.stat().st_mtime, UTC) < before:
            found[relative] = named.group(2)
    return found


async def stored_files_before(*, media_dir: Path, before: datetime) -> dict[str, str]:
    """Return the store's files last written before ``before``: relative path -> SHA-256.

    Only files named as the store names them (``ab/ab12...ef.jpg``) are listed.
    """
    return await asyncio.to_thread(_stored_before, media_dir, before)
