"""``python -m sandbox --host 127.0.0.1 --port 8081``: run the emulator standalone."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from sandbox.server import SandboxConfig, SandboxServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="answer every call without 429s"
    )
    return parser.parse_args(argv)


async def serve(config: SandboxConfig) -> None:
    """Run until interrupted."""
    async with SandboxServer(config) as server:
        print(f"sandbox listening on {server.url} (console: {server.url}/)", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    config = SandboxConfig(host=args.host, port=args.port, rate_limits=not args.no_rate_limits)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config))


if __name__ == "__main__":
    main()
