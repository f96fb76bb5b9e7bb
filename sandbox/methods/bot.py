"""Bot-level methods: getMe, commands, descriptions, getUpdates, webhooks."""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import bad_request, conflict
from sandbox.jsonutil import drop_none
from sandbox.methods.registry import Call, method
from sandbox.state import WebhookConfig
from sandbox.updates import ALL_UPDATE_TYPES

_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


@method("getMe")
async def get_me(call: Call) -> dict[str, Any]:
    """Return the bot's own User object."""
    return call.bot.me_json()


@method("logOut", "close")
async def log_out(call: Call) -> bool:
    """Accept logOut/close (no-ops in the sandbox)."""
    return True


def _scope_key(call: Call) -> str:
    scope = call.params.json("scope") or {"type": "default"}
    language = call.params.string("language_code") or ""
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    parts = [scope["type"], str(scope.get("chat_id", "")), str(scope.get("user_id", "")), language]
    return "|".join(parts)


@method("setMyCommands")
async def set_my_commands(call: Call) -> bool:
    """Store the bot's command list for a scope and language."""
    commands = call.params.json("commands")
    if not isinstance(commands, list):
        raise bad_request("commands is empty")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    cleaned = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand JSON object")
        name = str(command.get("command", "")).lstrip("/")
        description = str(command.get("description", ""))
        if not _COMMAND.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("command description is empty")
        cleaned.append({"command": name, "description": description})
    call.bot.commands[_scope_key(call)] = cleaned
    return True


@method("getMyCommands")
async def get_my_commands(call: Call) -> list[dict[str, Any]]:
    """Return the command list for a scope and language."""
    return call.bot.commands.get(_scope_key(call), [])


@method("deleteMyCommands")
async def delete_my_commands(call: Call) -> bool:
    """Forget the command list for a scope and language."""
    call.bot.commands.pop(_scope_key(call), None)
    return True


@method("setMyDescription", "setMyShortDescription", "setMyName")
async def set_my_description(call: Call) -> bool:
    """Accept the bot's profile texts (kept on the bot's user for setMyName)."""
    name = call.params.string("name")
    if call.method.lower() == "setmyname" and name:
        call.bot.user.first_name = name
    return True


def _allowed_updates(call: Call) -> list[str] | None:
    raw = call.params.json("allowed_updates")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise bad_request("can't parse allowed updates JSON object")
    return [u for u in raw if u in ALL_UPDATE_TYPES]


@method("getUpdates")
async def get_updates(call: Call) -> list[dict[str, Any]]:
    """Long-poll the bot's updates (409 while a webhook is set)."""
    bot = call.bot
    if bot.webhook is not None:
        raise conflict(
            "can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first"
        )
    params = call.params
    allowed = _allowed_updates(call)
    if allowed is not None:
        bot.updates.allowed_updates = allowed or None
    offset = params.integer("offset", default=0)
    limit = min(max(params.integer("limit", default=100), 1), 100)
    timeout = min(max(params.integer("timeout", default=0), 0), 50)
    bot.poll_generation += 1
    generation = bot.poll_generation
    await bot.updates.wake()
    updates = await bot.updates.get(
        offset,
        limit,
        timeout,
        alive=lambda: bot.poll_generation == generation and bot.webhook is None,
    )
    if bot.poll_generation != generation:
        raise conflict(
            "terminated by other getUpdates request; "
            "make sure that only one bot instance is running"
        )
    if bot.webhook is not None:
        return []
    return updates


@method("setWebhook")
async def set_webhook(call: Call) -> bool:
    """Set (or with an empty url, remove) the bot's webhook and start delivering to it."""
    params = call.params
    url = params.string("url") or ""
    if params.flag("drop_pending_updates"):
        call.bot.updates.drop_all()
    allowed = _allowed_updates(call)
    if allowed is not None:
        call.bot.updates.allowed_updates = allowed or None
    if not url:
        await call.webhooks.stop(call.bot)
        call.bot.webhook = None
        return True
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    secret = params.string("secret_token")
    if secret is not None and not _SECRET.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.integer("max_connections", default=40)
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    call.bot.webhook = WebhookConfig(
        url=url,
        secret_token=secret,
        max_connections=max_connections,
        ip_address=params.string("ip_address"),
    )
    await call.bot.updates.wake()
    call.webhooks.start(call.bot)
    return True


@method("deleteWebhook")
async def delete_webhook(call: Call) -> bool:
    """Remove the webhook so getUpdates works again."""
    if call.params.flag("drop_pending_updates"):
        call.bot.updates.drop_all()
    await call.webhooks.stop(call.bot)
    call.bot.webhook = None
    return True


@method("getWebhookInfo")
async def get_webhook_info(call: Call) -> dict[str, Any]:
    """Return the webhook status with pending_update_count and the last error."""
    bot = call.bot
    pending = len(bot.updates.pending)
    hook = bot.webhook
    if hook is None:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}
    return drop_none(
        {
            "url": hook.url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
            "ip_address": hook.ip_address or "127.0.0.1",
            "last_error_date": hook.last_error_date,
            "last_error_message": hook.last_error_message,
            "max_connections": hook.max_connections,
            "allowed_updates": bot.updates.allowed_updates,
        }
    )
