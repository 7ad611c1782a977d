"""Running the real ``barnflow`` command in a subprocess with a clean barnflow environment."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

from tests.helpers import subprocess_env

BARNFLOW = [sys.executable, "-m", "infra.cli"]


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without its BARNFLOW_* variables, plus ``extra``
    (``tests.helpers.subprocess_env``)."""
    return subprocess_env(BARNFLOW_HOME=str(home), **extra)


def barnflow(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
