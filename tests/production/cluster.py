"""A small production cluster for tests: webhook workers (processes) behind a round-robin proxy.

The sandbox delivers updates to the proxy's URL; the proxy forwards each request to the next
worker (a failed worker gets a 502, which makes the sandbox deliver the update again, to the
next worker). Workers run ``python -m bot.cli run --webhook URL`` on PostgreSQL and Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RoundRobinProxy:
    """An aiohttp reverse proxy sending each request to the next upstream in turn."""

    def __init__(self) -> None:
        self.port = free_port()
        self.route([])

    def route(self, upstreams: list[str]) -> None:
        """Forward to these base URLs from now on."""
        self.upstreams = upstreams
        self._next = itertools.cycle(range(len(upstreams)))
        self.forwarded = [0] * len(upstreams)
        self.failed = [0] * len(upstreams)
        self.down: set[int] = set()
        self.in_flight: list[dict[int, bytes]] = [{} for _ in upstreams]
        self._ids = itertools.count()

    def take_out(self, index: int) -> None:
        """Send nothing more to upstream ``index`` (a load balancer marking it down)."""
        self.down.add(index)

    def put_back(self, index: int) -> None:
        """Send to upstream ``index`` again."""
        self.down.discard(index)

    def bodies_in_flight(self, index: int) -> list[bytes]:
        """Request bodies forwarded to upstream ``index`` and not answered yet."""
        return list(self.in_flight[index].values())
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on ``self.port``."""
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.Response:
        if len(self.down) >= len(self.upstreams):
            return web.Response(status=503, text="no upstream")
        index = next(self._next)
        while index in self.down:
            index = next(self._next)
        assert self._http is not None
        body = await request.read()
        request_id = next(self._ids)
        self.in_flight[index][request_id] = body
        headers = {
            key: value
            for key, value in request.headers.items()
            if key.lower() not in ("host", "content-length", "transfer-encoding", "connection")
        }
        try:
            async with self._http.request(
                request.method,
                f"{self.upstreams[index]}{request.rel_url}",
                data=body,
                headers=headers,
            ) as upstream:
                payload = await upstream.read()
                self.forwarded[index] += 1
                return web.Response(
                    status=upstream.status,
                    body=payload,
                    content_type=upstream.content_type,
                )
        except (aiohttp.ClientError, OSError, TimeoutError):
            self.failed[index] += 1
            return web.Response(status=502, text="bad gateway")
        finally:
            self.in_flight[index].pop(request_id, None)


class Worker:
    """One ``jikimi run --webhook`` process listening on its own port."""

    def __init__(self, name: str, *, webhook_url: str, env: Mapping[str, str], logs: Path):
        self.name = name
        self.port = free_port()
        self.webhook_url = webhook_url
        self.env = {
            **os.environ,
            **env,
            "JIKIMI_TELEGRAM__WEBHOOK_PORT": str(self.port),
            "JIKIMI_TELEGRAM__WEBHOOK_HOST": "127.0.0.1",
        }
        self.log_path = logs / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        """The worker's own base URL (probes and metrics)."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start the process."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                *self.command(),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )

    def command(self) -> list[str]:
        """The ``jikimi`` command this process runs."""
        return ["run", "--webhook", self.webhook_url]

    async def wait_ready(self, http: aiohttp.ClientSession, within: float = 90.0) -> None:
        """Wait until ``/readyz`` answers 200 (fail with the log if the process died).

        Generous: on a loaded two-core host importing aiogram alone has taken 10 s.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if self.process is not None and self.process.returncode is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.tail()}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(f"{self.url}/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready:\n{self.tail()}")

    @property
    def pid(self) -> int:
        """The process id."""
        assert self.process is not None
        return self.process.pid

    async def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            await self.kill()

    def tail(self, lines: int = 40) -> str:
        """The end of the worker's log."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


class SenderProcess(Worker):
    """One ``jikimi send`` process, its probes and metrics on its own port."""

    def __init__(self, name: str, *, env: Mapping[str, str], logs: Path):
        super().__init__(name, webhook_url="", env=env, logs=logs)

    def command(self) -> list[str]:
        """``jikimi send --port PORT``."""
        return ["send", "--port", str(self.port)]
