"""`jikimi sandbox` (`make run`): starting while another demo holds the port."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.commands import sandbox


def test_a_port_in_use_says_so_and_keeps_the_running_demos_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second `make run` must not delete the first one's database before failing to bind."""
    monkeypatch.setattr(sandbox, "configure_logging", lambda **_kwargs: None)  # keep pytest's
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "var" / "demo.db"
    database.parent.mkdir()
    database.write_bytes(b"the running demo's data")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = cli(["sandbox", "--port", str(port)])
    assert code == 2
    assert database.read_bytes() == b"the running demo's data"
    out = capsys.readouterr()
    assert f"127.0.0.1:{port} is in use" in out.err
    assert "--port" in out.err
    assert "Traceback" not in out.out + out.err
