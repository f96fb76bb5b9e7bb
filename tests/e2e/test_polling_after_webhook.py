"""A worker moved from webhook mode back to long polling serves citizens at once."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from bot.demo import build_demo_world, seed_demo
from bot.runtime import build_runtime
from sandbox.client import SandboxClient
from tests.e2e.conftest import e2e_settings


async def test_polling_removes_a_webhook_left_by_webhook_mode(
    sandbox: Any, sandbox_client: SandboxClient, database_url: str, tmp_path: Path
) -> None:
    """Telegram refuses getUpdates while a webhook is set: polling removes it, keeps the queue.

    A webhook worker stopped leaves its webhook set (the others may still serve it), so the
    operator who switches to ``jikimi run`` without ``--webhook`` got "Conflict" forever.
    """
    world = await build_demo_world(sandbox_client)
    settings = e2e_settings(world, sandbox.url, database_url, tmp_path / "media")
    runtime = await build_runtime(settings, worker_id="e2e")
    await seed_demo(runtime.session_factory, world)
    # What a stopped webhook worker leaves behind: the webhook, pointing at nobody.
    await runtime.bot.set_webhook(url="http://127.0.0.1:9/telegram/webhook")
    citizen = await sandbox_client.create_user(first_name="민지", language_code="ko")
    await sandbox_client.send_text(citizen["id"], citizen["id"], "집 앞 도로가 물에 잠겼어요")
    polling = asyncio.create_task(runtime.run_polling(handle_signals=False))
    try:
        reply = await sandbox_client.wait_for_message(citizen["id"], contains="R-", timeout=20)
        assert "접수번호" in reply["text"]
        assert not (await runtime.bot.get_webhook_info()).url
    finally:
        await runtime.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(polling, timeout=10)
        await runtime.close()
