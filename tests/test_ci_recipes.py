"""The CI recipes in the README and the pre-commit hooks are well-formed and call
commands that exist with options that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from helpers import run_justify

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def _justify_commands(text: str) -> list[list[str]]:
    commands = []
    for match in re.finditer(r"justify (?:sync|check|load)[^\n'\"&]*", text):
        commands.append(shlex.split(match.group(0))[1:])
    return commands


def test_readme_ci_recipes_parse_and_use_real_options(tmp_path: Path) -> None:
    blocks = [
        b
        for b in re.findall(r"```yaml\n(.*?)```", README, flags=re.S)
        if "justify check" in b or "justify-requirements" in b
    ]
    assert len(blocks) >= 3  # GitHub Actions, GitLab CI, pre-commit
    for block in blocks:
        yaml.safe_load(block)
    (tmp_path / "justify.toml").write_text("")
    for args in _justify_commands("\n".join(blocks)):
        # Each command's options parse: --help after them succeeds.
        result = run_justify(*args, "--help", cwd=tmp_path)
        assert result.returncode == 0, (args, result.stderr)


def test_pre_commit_hooks(tmp_path: Path) -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    ids = {h["id"] for h in hooks}
    assert ids == {"justify-requirements", "justify-check"}
    entry = next(h["entry"] for h in hooks if h["id"] == "justify-requirements")
    assert entry == "justify load --dry-run"
    (tmp_path / "justify.toml").write_text("")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "r.yaml").write_text("requirements:\n  - id: A\n    title: a\n")
    ok = run_justify("load", "--dry-run", cwd=tmp_path)
    assert ok.returncode == 0 and "checked (nothing written)" in ok.stdout
    assert not (tmp_path / ".justify").exists()
    (tmp_path / "requirements" / "r.yaml").write_text("requirements:\n  - id: A\n")
    bad = run_justify("load", "--dry-run", cwd=tmp_path)
    assert (
        bad.returncode == 2
        and "requirements/r.yaml:2: missing required field 'title'" in bad.stderr
    )
