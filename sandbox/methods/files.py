"""getFile: a file's path for download (20 MB limit)."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.registry import Call, method


@method("getFile")
async def get_file(call: Call) -> dict[str, Any]:
    """Return the File object with the path to download it from /file/bot<token>/<path>."""
    file_id = call.params.string("file_id", required=True)
    stored = call.world.files.get(file_id)
    if stored is None:
        raise bad_request("wrong file_id or the file is temporarily unavailable")
    if stored.size > call.world.config.max_download_size:
        raise bad_request("file is too big")
    return stored.file_json()
