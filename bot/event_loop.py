"""The event loop a serving command runs on: uvloop where it is installed, else asyncio's own.

uvloop runs the same asyncio code with its loop, sockets and transports in C. In most surge
runs it cut a worker's CPU per report by about a tenth (docs/performance.md, "The event
loop"); it does not exist on Windows, where the commands fall back to asyncio's loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

EventLoopName = Literal["uvloop", "asyncio"]
T = TypeVar("T")


def loop_factory(name: EventLoopName) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory when ``name`` asks for it and it is installed; None for asyncio's."""
    if name != "uvloop":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def running_loop_name() -> str:
    """The name operators know the running loop by: ``uvloop`` or ``asyncio``."""
    return asyncio.get_running_loop().__class__.__module__.split(".")[0]


def run(main: Coroutine[Any, Any, T], *, loop: EventLoopName = "uvloop") -> T:
    """Run ``main`` to completion on a new event loop of the kind ``loop`` names."""
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        return runner.run(main)
