"""What the experts' routers share: the hub port, the staff language, reading a command."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import Message

from bot.hub_admin import BotHubAdmin
from bot.settings import Settings
from community.config import CommunityConfig, config_of
from community.ports import HubAdmin
from handlers.common.ids import typed_id


def hub_of(bot: Bot) -> HubAdmin:
    """Return the hub administration port for this bot."""
    return BotHubAdmin(bot)


def community_config(settings: Settings) -> CommunityConfig:
    """Return the community section of the settings."""
    return config_of(settings)


def replied_user(message: Message) -> tuple[int, str] | None:
    """Return the author (id, name) of the message replied to, not the topic's root."""
    reply = message.reply_to_message
    if reply is None or reply.from_user is None or reply.from_user.is_bot:
        return None
    if reply.message_id == message.message_thread_id:
        return None
    return reply.from_user.id, reply.from_user.full_name


def replied_message_id(message: Message) -> int | None:
    """Return the id of the message replied to, not the topic's root."""
    reply = message.reply_to_message
    if reply is None or reply.message_id == message.message_thread_id:
        return None
    return reply.message_id


def first_int(args: str | None) -> int | None:
    """Return the first word of the arguments as a number, if it is one that can be an id."""
    words = (args or "").split()
    return typed_id(words[0]) if words else None
