"""Run the alembic migrations in ``storage/migrations`` without an ``alembic.ini``.

Usage::

    await upgrade(settings.database_url)           # jikimi db upgrade
    await current(settings.database_url)           # "0001_foundation" or None
    await require_head(settings.database_url)      # raises DatabaseNotMigrated when behind
    await downgrade(settings.database_url, "base")

The alembic command line works too: ``alembic -c storage/alembic.ini upgrade head`` reads the URL
from ``JIKIMI_DATABASE_URL``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from storage.engine import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """Build the alembic configuration for our migrations directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        # alembic's ini interpolation treats "%" specially.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (default: the newest)."""
    config = alembic_config(url)
    await _run(url, config, lambda: command.upgrade(config, revision))


async def downgrade(url: str, revision: str = "base") -> None:
    """Downgrade the database at ``url`` to ``revision`` (default: empty)."""
    config = alembic_config(url)
    await _run(url, config, lambda: command.downgrade(config, revision))


async def current(url: str) -> str | None:
    """Return the revision the database at ``url`` is at, or None when it has none."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


class DatabaseNotMigrated(RuntimeError):
    """The database is not at the newest revision: run ``jikimi db upgrade``."""


async def require_head(url: str) -> None:
    """Raise :class:`DatabaseNotMigrated` unless the database is at the newest revision."""
    found, wanted = await current(url), head()
    if found != wanted:
        raise DatabaseNotMigrated(
            f"the database is at revision {found or '(empty)'}, the code needs {wanted}: "
            "run `jikimi db upgrade`"
        )


def head() -> str | None:
    """Return the newest revision of our migrations."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _run(url: str, config: Config, action: object) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:

            def run(sync_conn: Connection) -> None:
                config.attributes["connection"] = sync_conn
                action()  # type: ignore[operator]

            await conn.run_sync(run)
    finally:
        await engine.dispose()
