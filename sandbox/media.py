"""Turning a bot's file parameter (upload, file_id or URL) into a stored file."""

from __future__ import annotations

import aiohttp

from sandbox.errors import ApiError, bad_request
from sandbox.files import StoredFile
from sandbox.images import image_size
from sandbox.params import UploadedFile
from sandbox.state import World

# Which stored kinds may be re-sent as which kind.
_COMPATIBLE = {
    "photo": {"photo"},
    "document": {"document", "photo", "video", "audio", "voice", "animation"},
    "voice": {"voice"},
    "video": {"video"},
    "audio": {"audio"},
    "animation": {"animation", "document"},
    "sticker": {"sticker"},
}


async def _fetch(world: World, http: aiohttp.ClientSession, url: str) -> tuple[bytes, str | None]:
    try:
        timeout = aiohttp.ClientTimeout(total=world.config.url_fetch_timeout)
        async with http.get(url, timeout=timeout) as response:
            if response.status != 200:
                raise bad_request("failed to get HTTP URL content")
            return await response.read(), response.content_type
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise bad_request("failed to get HTTP URL content") from exc


async def input_file(
    world: World,
    http: aiohttp.ClientSession,
    value: UploadedFile | str | None,
    kind: str,
    *,
    param: str,
) -> StoredFile:
    """Store or look up the file a bot passed as ``param`` for a message of ``kind``."""
    if value is None or value == "":
        raise bad_request(f"there is no {param} in the request")
    file_name: str | None = None
    mime: str | None = None
    if isinstance(value, UploadedFile):
        data, file_name, mime = value.data, value.filename, value.content_type
    elif value.startswith(("http://", "https://")):
        data, mime = await _fetch(world, http, value)
        file_name = value.rsplit("/", 1)[-1] or None
    else:
        existing = world.files.get(value)
        if existing is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if existing.kind not in _COMPATIBLE.get(kind, {kind}):
            raise bad_request(f"can't use file of type {existing.kind.title()} as {kind.title()}")
        if existing.kind == kind:
            return existing
        data, file_name, mime = existing.data, existing.file_name, existing.mime_type
    if len(data) > world.config.max_upload_size:
        raise ApiError(413, "Request Entity Too Large")
    if kind == "photo":
        size = image_size(data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        if len(data) > 10 * 1024 * 1024:
            raise bad_request("PHOTO_SAVE_FILE_INVALID")
        mime = None
    if mime == "application/octet-stream":
        mime = None
    return world.files.add(data, kind, file_name=file_name, mime_type=mime)
