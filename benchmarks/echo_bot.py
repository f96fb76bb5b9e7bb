"""The ceiling: a bare aiogram bot that answers every message at once (no database, no outbox).

Run as ``python -m benchmarks.echo_bot --api-base URL --token TOKEN``; it long-polls like
``jikimi run`` does, so both face the same transport and the same sandbox.
"""

from __future__ import annotations

import argparse
import asyncio

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


def create_echo_router() -> Router:
    """A router answering each message with its text (or its kind)."""
    router = Router(name=__name__)

    @router.message()
    async def echo(message: Message) -> None:
        """Answer with the same text, or name what was sent."""
        if message.text:
            await message.answer(message.text)
        elif message.location:
            await message.answer("location")
        elif message.photo:
            await message.answer("photo")

    return router


async def run_echo(api_base: str, token: str) -> None:
    """Poll the Bot API at ``api_base`` and echo until interrupted."""
    bot = Bot(token=token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
    dispatcher = Dispatcher()
    dispatcher.include_router(create_echo_router())
    try:
        await dispatcher.start_polling(bot, handle_signals=True, polling_timeout=25)
    finally:
        await bot.session.close()


def main() -> None:
    """Parse the command line and run the echo bot."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api-base", required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    asyncio.run(run_echo(args.api_base, args.token))


if __name__ == "__main__":
    main()
