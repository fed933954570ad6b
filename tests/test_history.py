"""Check history: status changes with their commit, kept across re-imports."""

from __future__ import annotations

import pytest
from helpers import git, run_justify

import justify
from justify._demo import demo
from tests.explorer_env import copy_demo

pytestmark = pytest.mark.slow


def test_history_records_changes_with_their_commit_and_survives_sync(tmp_path) -> None:
    ws = demo(tmp_path / "ws")
    first = run_justify("check", cwd=ws.directory)
    assert first.returncode == 1
    path = ws.directory / "requirements" / "governance.yaml"
    path.write_text(path.read_text().replace("threshold: 0.10", "threshold: 0.20"))
    git(ws.directory, "commit", "-qam", "Relax the fairness gap to 0.20")
    sha = git(ws.directory, "rev-parse", "HEAD")
    assert run_justify("sync", "--full", cwd=ws.directory).returncode == 0
    assert run_justify("check", cwd=ws.directory).returncode == 1  # REQ-EXPL-1 still unjustified
    unchanged = run_justify("check", "--no-history", cwd=ws.directory)
    assert unchanged.returncode == 1

    changes = justify.history("REQ-FAIR-1", config=ws.config)
    # The gap now meets 0.20, but the fairness pattern's review slot is still empty.
    assert [(c.previous, c.status) for c in changes] == [
        (None, "failing"),
        ("failing", "unjustified"),
    ]
    assert changes[-1].commit == sha
    assert changes[-1].commit_title == "Relax the fairness gap to 0.20"
    everything = justify.history(config=ws.config)
    assert len(everything) == 8  # seven first statuses, then the one change

    shown = run_justify("history", "REQ-FAIR-1", cwd=ws.directory)
    assert "failing -> unjustified" in shown.stdout and "Relax the fairness gap" in shown.stdout


def test_a_check_without_a_commit_shows_no_commit_title(tmp_path, demo_template) -> None:
    # A project whose check does not run in a Git work tree (HEAD unknown), beside an
    # imported history full of commits: the change names no commit, and no title.
    ws = copy_demo(demo_template, tmp_path / "ws")  # the demo's first check, on its HEAD
    path = ws.directory / "requirements" / "governance.yaml"
    path.write_text(path.read_text().replace("threshold: 0.10", "threshold: 0.20"))
    assert run_justify("load", cwd=ws.directory).returncode == 0
    elsewhere = tmp_path / "not-a-repository"
    elsewhere.mkdir()
    checked = run_justify("check", cwd=ws.directory, env={"GIT_DIR": str(elsewhere)})
    assert checked.returncode == 1, checked.stderr
    first, change = justify.history("REQ-FAIR-1", config=ws.config)
    assert first.commit is not None and first.commit_title  # the demo's check, on a commit
    assert change.previous == "failing" and change.status != "failing"
    assert change.commit is None
    assert change.commit_title is None
