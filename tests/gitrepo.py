"""Real Git repositories made with the `git` command, for the tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class Repo:
    """A repository in a folder, driven through the real `git` command."""

    def __init__(self, path: Path, *, init: bool = True) -> None:
        self.path = path
        self.clock = 1_700_000_000
        if init:
            path.mkdir(parents=True, exist_ok=True)
            self.git("init", "-q", "-b", "main")

    def env(self, name: str, email: str) -> dict[str, str]:
        self.clock += 60
        stamp = f"{self.clock} +0000"
        return {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": "CI Bot",
            "GIT_COMMITTER_EMAIL": "ci@example.org",
            "GIT_COMMITTER_DATE": stamp,
        }

    def git(self, *args: str, env: dict[str, str] | None = None, input: bytes | None = None) -> str:
        result = subprocess.run(
            ["git", "-c", "protocol.file.allow=always", *args],
            cwd=self.path,
            env=env,
            input=input,
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.decode()}")
        return result.stdout.decode("utf-8", "replace").strip()

    def write(self, name: str, text: str) -> None:
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def commit(
        self,
        message: str,
        files: dict[str, str] | None = None,
        *,
        author: tuple[str, str] = ("Ada Lovelace", "ada@example.org"),
    ) -> str:
        for name, text in (files or {}).items():
            self.write(name, text)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, env=self.env(*author))
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def rev_list(self) -> list[str]:
        out = self.git("rev-list", "--all")
        return out.split() if out else []
