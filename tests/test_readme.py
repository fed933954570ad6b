"""The README's examples are real: its requirement file loads, its commands exist,
and CI runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import write

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_the_readme_requirement_example_loads_and_shows_up(run_cli, tmp_path: Path) -> None:
    example = next(b for b in _blocks("yaml") if "requirements:" in b)
    write(tmp_path / "justify.toml", "")
    write(tmp_path / "requirements" / "fraud.yaml", example)
    loaded = run_cli("load", cwd=tmp_path)
    assert loaded.exit_code == 0, loaded.output
    assert "loaded 2 requirements with 1 criteria" in loaded.output

    table = run_cli("query", "requirements", cwd=tmp_path).output
    assert "REQ-REC-1" in table and "test_recall >= 0.85 on test" in table
    exported = run_cli("export", "--format", "ntriples", cwd=tmp_path).output
    assert '"Fraud model recall"' in exported
    status = run_cli("status", cwd=tmp_path).output
    assert "graph/requirements" in status


def test_the_readme_error_example_is_what_justify_prints(run_cli, tmp_path: Path) -> None:
    example = next(b for b in _blocks("yaml") if "requirements:" in b)
    write(tmp_path / "justify.toml", "")
    write(tmp_path / "requirements" / "fraud.yaml", example.replace('op: ">="', 'op: "=>"'))
    write(
        tmp_path / "requirements" / "more.yaml",
        "requirements:\n  - id: REQ-REC-1\n    title: again\n",
    )
    result = run_cli("load", cwd=tmp_path)
    shown = next(b for b in _blocks("text") if "nothing was loaded" in b)
    for line in shown.strip().splitlines():
        assert line in result.stderr


def test_every_command_in_the_readme_table_exists(run_cli) -> None:
    for command in re.findall(r"^\| `justify (\w+)", README, flags=re.M):
        assert run_cli(command, "--help").exit_code == 0, command


def test_ci_runs_the_readme_test_command() -> None:
    bash = _blocks("bash")
    test_command = next(b.strip() for b in bash if "pytest" in b and "venv" in b)
    assert test_command in (REPO / ".ci" / "run").read_text(encoding="utf-8")
