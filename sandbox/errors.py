"""Bot API errors with Telegram's own codes and descriptions."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered to the bot as ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """Return a 400 error, e.g. ``bad_request("chat not found")``."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """Return a 403 error, e.g. ``forbidden("bot was blocked by the user")``."""
    return ApiError(403, f"Forbidden: {reason}")


def unauthorized() -> ApiError:
    """Return the 401 error Telegram answers for an unknown token."""
    return ApiError(401, "Unauthorized")


def not_found() -> ApiError:
    """Return the 404 error Telegram answers for an unknown method."""
    return ApiError(404, "Not Found")


def conflict(reason: str) -> ApiError:
    """Return a 409 error, e.g. getUpdates while a webhook is active."""
    return ApiError(409, f"Conflict: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    """Return a 429 error with ``parameters.retry_after``."""
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
    )


def server_error(code: int = 500) -> ApiError:
    """Return a 5xx error (used by fault injection)."""
    text = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
    return ApiError(code, text.get(code, "Internal Server Error"))


CHAT_NOT_FOUND = "chat not found"
CANT_INITIATE = "bot can't initiate conversation with a user"
BLOCKED = "bot was blocked by the user"
