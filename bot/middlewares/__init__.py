"""Dispatcher middlewares: database transaction and dedup, language, roles, throttling."""
