"""The errors router: nothing a user sent is lost when a handler fails."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent

from bot.malformed import MalformedUpdate
from situation.failures import FailureRecorder

log = logging.getLogger(__name__)


async def keep_failed_update(event: ErrorEvent, failures: FailureRecorder) -> bool:
    """Log the failure and keep the raw update so staff can recover it."""
    update = event.update
    log.error(
        "update %s failed: %s",
        update.update_id,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    if isinstance(update, MalformedUpdate):
        payload = update.payload  # the update itself is only its id
    else:
        payload = update.model_dump(mode="json", exclude_none=True)
    await failures.record(
        update_id=update.update_id,
        payload=payload,
        error=f"{type(event.exception).__name__}: {event.exception}",
    )
    return True


def get_router() -> Router:
    """Build the errors router."""
    router = Router(name=__name__)
    router.errors.register(keep_failed_update)
    return router
