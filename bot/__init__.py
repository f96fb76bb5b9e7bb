"""Composition root: settings, factories, CLI, runners, middlewares, scheduler and sender."""
