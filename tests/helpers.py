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


def sklearn_requirements() -> list[str]:
    """A logged model's requirements, stated as users pin them: without them MLflow
    infers them by loading the model in a new Python process (about 7 s a model)."""
    import sklearn

    return [f"scikit-learn=={sklearn.__version__}"]


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


def tool_environment(venv: Path, spec: str, program: str) -> Path:
    """``program`` from the PyPI package ``spec``, installed once into its own
    environment ``venv`` (kept between runs, ignored by Git, like .venv): tools whose
    dependencies must not mix with justify's. Skips when PyPI cannot be reached, or
    fails under ``.ci/run`` (JUSTIFY_TESTS_SKIP_NOTHING=1)."""
    exe = venv / "bin" / program
    if exe.exists():
        return exe
    uv = Path(sys.executable).parent / "uv"  # the README's install brings it; else pip
    python = str(venv / "bin" / "python")
    steps = (
        [[str(uv), "venv", "-q", "--python", sys.executable, str(venv)],
         [str(uv), "pip", "install", "-q", "--python", python, spec]]
        if uv.exists()
        else [[sys.executable, "-m", "venv", str(venv)],
              [python, "-m", "pip", "install", "-q", spec]]
    )  # fmt: skip
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            message = f"cannot install {spec} (PyPI unreachable?): {done.stderr.strip()[-400:]}"
            if os.environ.get("JUSTIFY_TESTS_SKIP_NOTHING"):
                pytest.fail(message)
            pytest.skip(message)
    return exe
