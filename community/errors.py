"""The one error the community domain raises; its ``code`` names the message to show."""

from __future__ import annotations


class CommunityError(Exception):
    """A community action is refused; ``code`` is a message name of the catalogue."""

    def __init__(self, code: str, **context: object) -> None:
        super().__init__(code)
        self.code = code
        self.context = context
