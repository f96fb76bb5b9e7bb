"""The sandbox HTTP server: Bot API, file downloads, control API and web console.

async with SandboxServer(SandboxConfig(port=0, rate_limits=False)) as server:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
"""

from __future__ import annotations

import asyncio
import logging
from importlib import resources
from typing import Any

import aiohttp
from aiohttp import web

from sandbox.config import SandboxConfig
from sandbox.control import ControlApi
from sandbox.errors import ApiError, not_found, server_error, too_many_requests, unauthorized
from sandbox.methods import Call, find_method
from sandbox.params import Params
from sandbox.state import Bot, World
from sandbox.webhook import WebhookDeliverer

__all__ = ["SandboxConfig", "SandboxServer"]

log = logging.getLogger(__name__)


class SandboxServer:
    """Runs the emulator on ``config.host:config.port`` (port 0 picks a free port)."""

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.world = World(self.config)
        self.closing = False
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._webhooks: WebhookDeliverer | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """Return the base URL, e.g. ``http://127.0.0.1:8081``."""
        if self.port is None:
            raise RuntimeError("the sandbox is not running")
        return f"http://{self.config.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Return what a bot uses as its Telegram API base URL (same as ``url``)."""
        return self.url

    @property
    def webhooks(self) -> WebhookDeliverer:
        """Return the webhook deliverer (only while running)."""
        if self._webhooks is None:
            raise RuntimeError("the sandbox is not running")
        return self._webhooks

    @property
    def http(self) -> aiohttp.ClientSession:
        """Return the outgoing HTTP session (webhooks, file URLs)."""
        if self._http is None:
            raise RuntimeError("the sandbox is not running")
        return self._http

    def build_app(self) -> web.Application:
        """Build the aiohttp application with every route."""
        app = web.Application(client_max_size=self.config.max_upload_size + 1024 * 1024)
        app.add_routes(
            [
                web.get("/", self.console),
                web.route("*", "/bot{token}/{method}", self.bot_api),
                web.get("/file/bot{token}/{path:.+}", self.download),
                *ControlApi(self).routes(),
            ]
        )
        return app

    async def start(self) -> None:
        """Start listening; a port that is taken raises OSError with nothing left open."""
        self.closing = False
        self._http = aiohttp.ClientSession()
        self._webhooks = WebhookDeliverer(lambda: self.world, self._http, self.run_inline_method)
        self._runner = web.AppRunner(self.build_app(), shutdown_timeout=0.5, access_log=None)
        try:
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.config.host, self.config.port)
            await site.start()
        except BaseException:
            await self.stop()
            raise
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else self.config.port

    async def stop(self) -> None:
        """Stop listening, end webhook deliveries and close connections."""
        self.closing = True
        await self.world.notify()
        for bot in self.world.bots.values():
            await bot.updates.wake()
        if self._webhooks is not None:
            await self._webhooks.stop_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def reset(self) -> None:
        """Replace the world with an empty one (config kept)."""
        if self._webhooks is not None:
            await self._webhooks.stop_all()
        old = self.world
        for future in [*old.callback_answers.values(), *old.inline_answers.values()]:
            if not future.done():
                future.cancel()
        self.world = World(self.config)
        await old.notify()
        await self.world.notify({"type": "reset"})

    def _call(self, bot: Bot, name: str, params: Params) -> Call:
        return Call(
            world=self.world,
            bot=bot,
            params=params,
            method=name,
            webhooks=self.webhooks,
            http=self.http,
        )

    async def run_inline_method(self, bot: Bot, name: str, values: dict[str, Any]) -> None:
        """Run a method a webhook answer carried in its body."""
        handler = find_method(name)
        if handler is not None:
            await handler(self._call(bot, name, Params(values)))

    async def bot_api(self, request: web.Request) -> web.Response:
        """Handle ``/bot<token>/<method>`` like Telegram's Bot API server."""
        token = request.match_info["token"]
        name = request.match_info["method"]
        try:
            bot = self.world.bots.get(token)
            if bot is None:
                raise unauthorized()
            handler = find_method(name)
            if handler is None:
                raise not_found()
            await self._inject_faults(name)
            self.world.expire_members()
            params = await Params.from_request(request)
            result = await handler(self._call(bot, name, params))
        except ApiError as exc:
            return web.json_response(exc.to_json(), status=exc.code)
        except Exception:  # a sandbox bug must look like a Telegram 500, and be logged
            log.exception("sandbox failed on %s", name)
            error = server_error(500)
            return web.json_response(error.to_json(), status=500)
        return web.json_response({"ok": True, "result": result})

    async def _inject_faults(self, name: str) -> None:
        faults = self.world.faults
        slow = faults.take(("slow",), name)
        if slow is not None:
            await asyncio.sleep(slow.delay)
        fault = faults.take(("429", "5xx"), name)
        if fault is None:
            return
        if fault.kind == "429":
            raise too_many_requests(fault.retry_after)
        raise server_error(fault.status)

    async def download(self, request: web.Request) -> web.Response:
        """Serve ``/file/bot<token>/<file_path>`` for files the bot got from getFile."""
        bot = self.world.bots.get(request.match_info["token"])
        stored = self.world.files.by_path.get(request.match_info["path"])
        if bot is None:
            return web.json_response(unauthorized().to_json(), status=401)
        if stored is None or stored.size > self.config.max_download_size:
            return web.json_response(not_found().to_json(), status=404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def console(self, request: web.Request) -> web.Response:
        """Serve the web console page."""
        page = resources.files("sandbox.console").joinpath("index.html").read_text("utf-8")
        return web.Response(text=page, content_type="text/html", charset="utf-8")
