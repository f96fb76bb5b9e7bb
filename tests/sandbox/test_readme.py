"""The runnable example in sandbox/README.md runs and prints the bot's reply."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "sandbox" / "README.md"


def test_readme_example_runs() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- example -->\s*```python\n(.*?)```", text, re.S)
    assert match, "the README lost its example"
    done = subprocess.run(
        [sys.executable, "-c", match.group(1)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=README.parents[1],
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "받았습니다: 불이 났어요" in done.stdout
    assert "'type': 'bold'" in done.stdout
