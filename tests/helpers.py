"""Helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def run_justify(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m justify`` as a separate process."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("JUSTIFY_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "justify", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def git(cwd: Path, *args: str) -> str:
    """Run git in a workspace as a fixed author; its output, stripped."""
    env = {
        "GIT_AUTHOR_NAME": "Riley",
        "GIT_AUTHOR_EMAIL": "r@x",
        "GIT_COMMITTER_NAME": "Riley",
        "GIT_COMMITTER_EMAIL": "r@x",
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def needs(program: str, package: str) -> pytest.MarkDecorator:
    """Skip when ``program`` is not installed, saying which Debian package brings it;
    under ``.ci/run`` (JUSTIFY_TESTS_SKIP_NOTHING=1) a missing program fails the run."""
    missing = shutil.which(program) is None and not Path(f"/usr/bin/{program}").exists()
    return pytest.mark.skipif(missing, reason=f"{program} is not installed (apt install {package})")
