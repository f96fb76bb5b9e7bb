"""Configuration read from the environment (prefix ``JIKIMI_``) and an optional ``.env`` file.

Usage::

    settings = Settings()                      # JIKIMI_TELEGRAM__TOKEN=... etc.
    settings.telegram.token.get_secret_value()
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.event_loop import EventLoopName
from community.config import CommunityConfig
from situation.deadline_defaults import DEFAULT_ACK_MINUTES

Language = Literal["ko", "en"]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/jikimi.db"


class TelegramSettings(BaseModel):
    """How to reach the Bot API (real Telegram, a local Bot API server or the sandbox)."""

    token: SecretStr = SecretStr("")
    api_base: str = "https://api.telegram.org"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8081
    # Deliveries Telegram keeps in flight to the webhook, all workers together (Telegram's
    # default is 40): the more a worker holds, the more of a surge's backlog it can put the
    # citizens' words first in (``max_waiting_updates``).
    webhook_max_connections: int = Field(default=100, ge=1, le=100)
    # Updates one worker handles at once: polling fetches no more, a webhook worker keeps the
    # rest waiting on their connections. It stays below the database pool
    # (``database_pool_size``), so the sender and the staff room always find a connection:
    # with more, a surge queued the sender behind every update in flight and replies went out
    # last.
    max_concurrent_updates: int = Field(default=10, ge=1, le=100)
    # Updates accepted and waiting for one of those places (polling fetches no more, further
    # webhook requests wait on their connections). Among them a citizen's words go first;
    # locations and media without words wait up to ``follow_up_delay_seconds`` beyond their
    # turn (bot/middlewares/admission.py). The surge benchmark needed a window of about 300
    # to find every citizen's words in its backlog (docs/performance.md, "Words first").
    max_waiting_updates: int = Field(default=300, ge=1, le=5000)
    follow_up_delay_seconds: float = Field(default=5.0, ge=0)


class SenderSettings(BaseModel):
    """Outbound limits, defaulting to Telegram's documented ones."""

    global_per_second: float = 30.0
    global_burst: int = 5
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: float = 20.0
    group_burst: int = 3
    max_network_retries: int = 8
    # Each sender keeps Telegram's overall limit on its own: with several workers, turn it off
    # in the workers and run one ``jikimi send`` for all of them (docs/operations.md).
    in_worker: bool = True


class ReportSettings(BaseModel):
    """How citizen reports are gathered."""

    followup_window_minutes: int = 30
    album_settle_seconds: float = 1.0
    max_photo_bytes: int = 20 * 1024 * 1024


class SituationRoomSettings(BaseModel):
    """The situation room: acknowledgement deadlines, follow-ups, roster and agencies."""

    ack_minutes: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_ACK_MINUTES))
    followup_hours: float = 2.0
    roster_file: Path | None = None
    agencies_file: Path | None = None
    handover_mode: Literal["release", "assign"] = "release"
    sweep_seconds: float = 15.0
    # The scheduler's leader lease (bot/scheduler.py): its length, and how often the leader
    # renews it and the other workers check it. After the leader dies another takes over
    # within lease + check seconds.
    scheduler_lease_seconds: float = Field(default=10.0, gt=0)
    scheduler_check_seconds: float = Field(default=2.0, gt=0)
    # The staff-room projector (bot/projector.py): reports per pass, and the pause between
    # passes under load, which leaves room for citizens' transactions.
    projector_batch: int = Field(default=50, ge=1)
    projector_interval_seconds: float = Field(default=0.2, ge=0)
    # New reports wait unposted while this many messages to the staff group are still queued
    # (Telegram delivers about 20 a minute to a group); they then go out as one digest per
    # incident. 0 posts every report at once, however long the queue.
    queue_limit: int = Field(default=10, ge=0)

    @model_validator(mode="after")
    def _renewed_before_it_lapses(self) -> SituationRoomSettings:
        if self.scheduler_check_seconds * 2 > self.scheduler_lease_seconds:
            raise ValueError("scheduler_check_seconds must be at most half the lease")
        return self


class Settings(BaseSettings):
    """Every setting of jikimi; nested sections use ``__`` in variable names."""

    model_config = SettingsConfigDict(
        env_prefix="JIKIMI_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    database_url: str = DEFAULT_DATABASE_URL
    # Connections a worker keeps open: its updates in flight, the sender's writes, the staff
    # room, the sweep and the outbox listener. Too few, and a surge opens and closes a
    # connection per transaction beyond the pool (a third of the throughput on PostgreSQL).
    database_pool_size: int = Field(default=20, ge=1, le=200)
    # How long an update waits for a database that is down (a PostgreSQL fail-over takes
    # tens of seconds) before it counts as failed.
    database_retry_seconds: float = Field(default=120.0, ge=0, le=3600)
    redis_url: str | None = None
    staff_chat_id: int | None = None
    experts_hub_id: int | None = None
    timezone: str = "Asia/Seoul"
    default_language: Language = "ko"
    media_dir: Path = Path("var/media")
    retention_days: int = 30
    show_staff_names: bool = False
    log_json: bool = False
    # The serving commands' event loop (bot/event_loop.py); asyncio's own where uvloop is missing.
    event_loop: EventLoopName = "uvloop"
    sender: SenderSettings = Field(default_factory=SenderSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    community: CommunityConfig = Field(default_factory=CommunityConfig)
    situation_room: SituationRoomSettings = Field(default_factory=SituationRoomSettings)
