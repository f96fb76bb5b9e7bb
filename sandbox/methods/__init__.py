"""Bot API methods, one module per area; importing the package registers them all."""

from sandbox.methods import (
    bot,
    callbacks,
    chats,
    editing,
    files,
    forum,
    members,
    messages,
)
from sandbox.methods.registry import METHODS, Call, find_method

__all__ = [
    "METHODS",
    "Call",
    "bot",
    "callbacks",
    "chats",
    "editing",
    "files",
    "find_method",
    "forum",
    "members",
    "messages",
]
