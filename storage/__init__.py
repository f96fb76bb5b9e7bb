"""Models, engine and sessions, repositories, migrations, media store and outbox."""
