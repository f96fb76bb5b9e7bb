"""Run the whole test suite: once on SQLite, then once more on PostgreSQL when it is reachable.

In CI (CI=true) PostgreSQL must be reachable; elsewhere the second pass is skipped with a reason.
Extra arguments are passed to pytest.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _pytest(args: list[str], env: dict[str, str]) -> int:
    code = subprocess.call([sys.executable, "-m", "pytest", *args], env=env)
    # pytest's exit code 5 means "no tests ran": never a success for us.
    return 1 if code == 5 else code


def main() -> int:
    """Run pytest on SQLite, then on PostgreSQL."""
    args = sys.argv[1:]
    env = dict(os.environ)
    env.pop("JIKIMI_DATABASE_URL", None)
    print("== test suite on SQLite ==", flush=True)
    code = _pytest(args, env)
    if code:
        return code
    if not _reachable("127.0.0.1", 5432):
        if os.environ.get("CI") == "true":
            print("PostgreSQL is not reachable at 127.0.0.1:5432 and CI=true", file=sys.stderr)
            return 1
        print("== skipped the PostgreSQL pass: nothing listens on 127.0.0.1:5432 ==")
        return 0
    print("== test suite on PostgreSQL ==", flush=True)
    env["JIKIMI_DATABASE_URL"] = os.environ.get("JIKIMI_TEST_POSTGRES_URL", POSTGRES_URL)
    return _pytest([*args, "-m", "not browser"], env)


if __name__ == "__main__":
    sys.exit(main())
