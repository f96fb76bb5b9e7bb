"""The media store keeps one file per content hash and stays inside its directory."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from storage.media import delete_file, resolve, store_bytes


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def test_store_is_content_addressed_and_deduplicated(tmp_path: Path) -> None:
    data = b"\xff\xd8 photo bytes"
    first = await store_bytes(media_dir=tmp_path, data=data, suffix=".jpg")
    second = await store_bytes(media_dir=tmp_path, data=data, suffix=".jpg")
    digest = hashlib.sha256(data).hexdigest()
    assert first == second
    assert first.sha256 == digest
    assert first.path == f"{digest[:2]}/{digest}.jpg"
    stored = files_under(tmp_path)
    assert stored == [resolve(media_dir=tmp_path, relative=first.path)]
    assert stored[0].read_bytes() == data


async def test_odd_suffix_is_dropped_and_delete_works(tmp_path: Path) -> None:
    stored = await store_bytes(media_dir=tmp_path, data=b"x", suffix="/../../evil")
    assert "/.." not in stored.path and stored.path.count("/") == 1
    assert await delete_file(media_dir=tmp_path, relative=stored.path) is True
    assert await delete_file(media_dir=tmp_path, relative=stored.path) is False


def test_paths_cannot_escape_the_store(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        resolve(media_dir=tmp_path, relative="../outside.jpg")
