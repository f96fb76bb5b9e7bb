"""The control API: ``POST /control/<action>`` with a JSON body, answering ``{"ok", "result"}``."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox import actions
from sandbox.errors import ApiError
from sandbox.faults import Fault

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

Action = Callable[..., Awaitable[Any]]
log = logging.getLogger(__name__)

ACTIONS: dict[str, Action] = {
    name: getattr(actions, name)
    for name in (
        "create_bot",
        "create_user",
        "create_group",
        "create_supergroup",
        "add_member",
        "remove_member",
        "set_admin",
        "create_invite_link",
        "create_topic",
        "close_topic",
        "start_bot",
        "send_text",
        "send_photo",
        "send_album",
        "send_document",
        "send_voice",
        "send_audio",
        "send_video_note",
        "send_sticker",
        "send_dice",
        "send_location",
        "edit_live_location",
        "stop_live_location",
        "send_venue",
        "send_contact",
        "send_forwarded",
        "edit_text",
        "edit_caption",
        "press_button",
        "inline_query",
        "join_request",
        "resolve_join_request",
        "leave_chat",
        "block_bot",
        "unblock_bot",
        "messages",
        "wait_for_message",
        "chat",
        "topics",
        "member",
        "users",
        "user_chats",
        "updates",
        "pending_updates",
        "chat_actions",
        "advance_time",
        "set_rate_limits",
        "rate_limited",
        "inject_update",
    )
}
# The keyword arguments each action takes, read once: the body is checked against them.
ACCEPTED: dict[str, frozenset[str]] = {
    name: frozenset(inspect.signature(handler).parameters) - {"world"}
    for name, handler in ACTIONS.items()
}


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result}, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def _error(status: int, message: str) -> web.Response:
    status = status if 400 <= status < 600 else 400
    return web.json_response(
        {"ok": False, "error_code": status, "error": message}, status=status, dumps=_dumps
    )


class ControlApi:
    """aiohttp handlers for /control/*, bound to a running SandboxServer."""

    def __init__(self, server: SandboxServer):
        self.server = server

    def routes(self) -> list[web.AbstractRouteDef]:
        """Return the control routes."""
        return [
            web.get("/control/events", self.events),
            web.get("/control/file/{file_id}", self.file),
            web.get("/control/state", self.state),
            web.post("/control/fault", self.fault),
            web.post("/control/clear_faults", self.clear_faults),
            web.post("/control/reset", self.reset),
            web.post("/control/{action}", self.action),
        ]

    async def action(self, request: web.Request) -> web.Response:
        """Run one action from ACTIONS with the JSON body as keyword arguments."""
        name = request.match_info["action"]
        handler = ACTIONS.get(name)
        if handler is None:
            return _error(404, f"unknown control action {name!r}")
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return _error(400, "the body must be a JSON object")
        if not isinstance(body, dict):
            return _error(400, "the body must be a JSON object")
        unknown = [key for key in body if key not in ACCEPTED[name]]
        if unknown:
            return _error(400, f"{name}: unexpected argument(s) {', '.join(unknown)}")
        try:
            self.server.world.expire_members()
            result = await handler(self.server.world, **body)
        except ApiError as exc:
            return _error(exc.code, exc.description)
        except TypeError as exc:
            return _error(400, f"{name}: {exc}")
        except (ValueError, KeyError, AttributeError) as exc:
            return _error(400, f"{name}: invalid argument ({exc!r})")
        except Exception as exc:  # a sandbox bug: say so instead of a bare 500 page
            log.exception("control action %s failed", name)
            return _error(500, f"{name}: internal error ({exc!r})")
        return _ok(result)

    async def fault(self, request: web.Request) -> web.Response:
        """Arm a fault: 429 storm, 5xx answers, slow answers or dropped webhook deliveries."""
        body = await request.json()
        try:
            fault = Fault(
                kind=str(body["kind"]),
                count=int(body.get("count", 1)),
                retry_after=int(body.get("retry_after", 1)),
                delay=float(body.get("delay", 1.0)),
                method=body.get("method"),
                status=int(body.get("status", 500)),
            )
            self.server.world.faults.arm(fault)
        except (KeyError, ValueError) as exc:
            return _error(400, f"fault: {exc}")
        return _ok(True)

    async def clear_faults(self, request: web.Request) -> web.Response:
        """Disarm every fault."""
        self.server.world.faults.clear()
        return _ok(True)

    async def reset(self, request: web.Request) -> web.Response:
        """Forget everything: users, bots, chats, files, faults."""
        await self.server.reset()
        return _ok(True)

    async def state(self, request: web.Request) -> web.Response:
        """Return the world version, the people and bots, and the latest change events."""
        world = self.server.world
        return _ok(
            {
                "version": world.version,
                "users": await actions.users(world),
                "events": world.events[-50:],
            }
        )

    async def file(self, request: web.Request) -> web.Response:
        """Download a stored file by file_id (for the console)."""
        stored = self.server.world.files.get(request.match_info["file_id"])
        if stored is None:
            return _error(404, "file not found")
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-Sent Events: one ``data: {"version": N}`` line whenever the world changes."""
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        version = -1
        with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
            while not self.server.closing:
                world = self.server.world
                if world.version != version:
                    version = world.version
                    await response.write(f"data: {json.dumps({'version': version})}\n\n".encode())
                else:
                    await response.write(b": keep-alive\n\n")
                if self.server.world is world:  # a reset during the write replaced it
                    await world.wait_change(version, 15.0)
        return response
