"""The sandbox server's own life: starting on a port that is taken."""

from __future__ import annotations

import socket

import pytest

from sandbox.server import SandboxConfig, SandboxServer


async def test_a_port_in_use_fails_the_start_and_leaves_nothing_open() -> None:
    """The bind error reaches the caller; the outgoing HTTP session and runner are closed."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = SandboxServer(SandboxConfig(host="127.0.0.1", port=port))
        with pytest.raises(OSError):
            await server.start()
    with pytest.raises(RuntimeError, match="not running"):
        server.http  # noqa: B018 - the property raises once everything is closed
