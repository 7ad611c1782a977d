"""Running the real ``barnflow`` command in a subprocess with a clean barnflow environment."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

BARNFLOW = [sys.executable, "-m", "infra.cli"]


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any BARNFLOW_* variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BARNFLOW_")}
    env.update({"BARNFLOW_HOME": str(home), **extra})
    return env


def barnflow(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
