"""Sandbox settings: address, rate limits, timings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SandboxConfig:
    """How the sandbox listens and how strict it is.

    ``SandboxConfig(host="127.0.0.1", port=0, rate_limits=False)`` is what tests use.
    """

    host: str = "127.0.0.1"
    port: int = 8081
    rate_limits: bool = True
    global_per_second: float = 30.0
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: float = 20.0
    webhook_retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 5.0)
    webhook_timeout: float = 10.0
    callback_answer_timeout: float = 10.0
    join_request_dm_seconds: int = 300
    delete_window_seconds: int = 48 * 3600
    max_download_size: int = 20 * 1024 * 1024
    max_upload_size: int = 50 * 1024 * 1024
    closed_topic_admin_bypass: bool = True
    first_user_id: int = 7000001
    url_fetch_timeout: float = 5.0
