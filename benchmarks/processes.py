"""Bots under test run in their own processes, as in production; this starts, measures, stops."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class BotProcess:
    """A child process (a bot) with its output in a log file and its peak memory."""

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str], log_path: Path):
        self.argv = list(argv)
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None
        self.peak_rss_kib = 0
        self.cpu_seconds = 0.0

    @classmethod
    def python_module(
        cls, module: str, *args: str, env: Mapping[str, str], log_path: Path
    ) -> BotProcess:
        """A process running ``python -m module args`` from the repository root."""
        return cls([sys.executable, "-m", module, *args], env=env, log_path=log_path)

    async def start(self) -> None:
        """Start the child with stdout and stderr going to the log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=asyncio.subprocess.STDOUT
            )
        finally:
            log.close()

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self.process is not None
        return self.process.pid

    def sample_memory(self) -> int:
        """Read the child's peak resident set (VmHWM) in KiB; 0 where /proc is missing."""
        if self.process is None:
            return 0
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_rss_kib = max(self.peak_rss_kib, int(line.split()[1]))
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks = os.sysconf("SC_CLK_TCK")
            self.cpu_seconds = (int(fields[11]) + int(fields[12])) / ticks
        return self.peak_rss_kib

    def alive(self) -> bool:
        """Whether the child is still running."""
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        """SIGKILL the child (a crash) and reap it."""
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self, grace: float = 15.0) -> int | None:
        """SIGTERM, wait ``grace`` seconds, then SIGKILL; return the exit code."""
        if self.process is None:
            return None
        self.sample_memory()
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                await self.kill()
        return self.process.returncode

    def tail(self, lines: int = 30) -> str:
        """The end of the child's log (for error messages)."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


class ProcessGroup:
    """Several bot processes measured as one (memory and CPU are summed)."""

    def __init__(self, processes: list[BotProcess]):
        self.processes = processes

    async def start(self) -> None:
        """Start every process."""
        for process in self.processes:
            await process.start()

    @property
    def peak_rss_kib(self) -> int:
        """The sum of the processes' peak resident sets."""
        return sum(process.peak_rss_kib for process in self.processes)

    @property
    def cpu_seconds(self) -> float:
        """The processes' CPU time together."""
        return sum(process.cpu_seconds for process in self.processes)

    def sample_memory(self) -> int:
        """Sample every process; return the summed peak."""
        for process in self.processes:
            process.sample_memory()
        return self.peak_rss_kib

    def alive(self) -> bool:
        """Whether every process still runs."""
        return all(process.alive() for process in self.processes)

    async def stop(self, grace: float = 15.0) -> None:
        """Stop every process."""
        for process in self.processes:
            await process.stop(grace)

    def tail(self, lines: int = 30) -> str:
        """The end of every process's log."""
        return "\n".join(process.tail(lines) for process in self.processes)
