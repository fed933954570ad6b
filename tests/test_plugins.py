"""Importers are plug-ins: a package installed beside justify adds one without changing
justify. The example package of the README (examples/justify-signoffs) is built and
installed into its own folder, which the justify processes below put on their path."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git, run_justify, write

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "justify-signoffs"
REQUIREMENTS = """\
requirements:
  - id: REQ-1
    title: Recall is reviewed
  - id: REQ-2
    title: Fairness is reviewed
"""


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plug-in, built (no network: the build backend is a test dependency)
    and installed without dependencies into a folder of its own."""
    target = tmp_path_factory.mktemp("plugin") / "site"
    install = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index"),
            *("--no-build-isolation", "--target", str(target), str(EXAMPLE)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    assert list(target.glob("justify_signoffs-*.dist-info/entry_points.txt"))
    return target


def justify(plugin: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m justify`` with the installed plug-in on the path."""
    return run_justify(*args, cwd=cwd, env={"PYTHONPATH": str(plugin)})


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # sync skips MLflow here
    write(tmp_path / "justify.toml", 'signoffs_file = "reviews/signoffs.jsonl"\n')
    write(tmp_path / "requirements" / "reqs.yaml", REQUIREMENTS)
    signoffs = [
        {"id": "S-1", "requirement": "REQ-1", "reviewer": "Ada Lovelace"},
        {"id": "S-2", "requirement": "REQ-9", "reviewer": "Alan Turing"},
    ]
    write(tmp_path / "reviews" / "signoffs.jsonl", "".join(json.dumps(s) + "\n" for s in signoffs))
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "project")
    return tmp_path


def signed(plugin: Path, project: Path) -> list[str]:
    result = justify(
        plugin,
        "query",
        "--format",
        "csv",
        """SELECT ?who ?req WHERE {
             ?s <https://example.org/signoffs#reviewer> ?who ;
                <https://example.org/signoffs#signs>/dcterms:identifier ?req } ORDER BY ?who""",
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[1:]


def test_an_installed_plugin_is_a_command_with_its_options_and_settings(plugin, project) -> None:
    listing = justify(plugin, "import", "--help", cwd=project)
    assert listing.returncode == 0, listing.stderr
    assert re.search(r"signoffs\s+review sign-offs of requirements", listing.stdout)
    for builtin in ("mlflow", "git"):
        assert re.search(rf"\n\s+{builtin}\s+\w", listing.stdout)
    own = justify(plugin, "import", "signoffs", "--help", cwd=project)
    assert "--file PATH" in own.stdout and "--full" in own.stdout
    assert "justify import signoffs --file reviews/signoffs.jsonl" in own.stdout
    settings = justify(plugin, "--help", cwd=project)
    assert re.search(r"signoffs_file\s+JUSTIFY_SIGNOFFS_FILE", settings.stdout)
    # Without the plug-in on the path, neither the command nor its setting exists.
    bare = run_justify("import", "signoffs", cwd=project)
    assert bare.returncode == 2 and "No such command 'signoffs'" in bare.stderr


def test_justify_import_runs_the_plugin_into_its_own_graph(plugin, project) -> None:
    assert justify(plugin, "load", cwd=project).returncode == 0
    result = justify(plugin, "import", "signoffs", cwd=project)
    assert result.returncode == 0, result.stderr
    location = project / "reviews" / "signoffs.jsonl"
    assert f"signoffs full import from {location}: 2 sign-offs" in result.stdout
    assert f"{location}:2: 'REQ-9' names no loaded requirement" in result.stderr
    assert signed(plugin, project) == ["Ada Lovelace,REQ-1"]
    status = justify(plugin, "status", cwd=project)
    row = next(line for line in status.stdout.splitlines() if "/graph/signoffs/" in line)
    assert row.split()[1:4] == ["24", "signoffs", "2"]  # triples, source kind, items

    # A second import is incremental: what the plug-in asked to delete is replaced.
    with (project / "reviews" / "signoffs.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "S-3", "requirement": "REQ-2", "reviewer": "Grace Hopper"}))
    again = justify(plugin, "import", "signoffs", cwd=project)
    assert "signoffs incremental import" in again.stdout and ": 3 sign-offs" in again.stdout
    assert signed(plugin, project) == ["Ada Lovelace,REQ-1", "Grace Hopper,REQ-2"]


def test_a_bad_source_line_is_named_and_the_graph_keeps_its_last_import(plugin, project) -> None:
    assert justify(plugin, "sync", cwd=project).returncode == 0
    with (project / "reviews" / "signoffs.jsonl").open("a", encoding="utf-8") as f:
        f.write("{not json\n")
    result = justify(plugin, "import", "signoffs", cwd=project)
    assert result.returncode == 2
    assert f"{project / 'reviews' / 'signoffs.jsonl'}:3: not a sign-off" in result.stderr
    assert "Traceback" not in result.stderr
    assert signed(plugin, project) == ["Ada Lovelace,REQ-1"]


def test_sync_runs_the_plugin_after_the_built_in_importers(plugin, project) -> None:
    result = justify(plugin, "sync", cwd=project)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    order = [next(i for i, line in enumerate(lines) if line.startswith(p)) for p in
             ("loaded", "mlflow: skipped", "git full import", "signoffs full import")]  # fmt: skip
    assert order == sorted(order)
    assert signed(plugin, project) == ["Ada Lovelace,REQ-1"]
    # Unconfigured, the plug-in is skipped with its own reason, like MLflow.
    write(project / "justify.toml", "")
    skipped = justify(plugin, "sync", cwd=project)
    assert "signoffs: skipped (no 'signoffs_file' set)" in skipped.stdout


def test_a_plugin_adds_a_kind_of_evidence_that_patterns_ask_for(plugin, project) -> None:
    """The plug-in's `signoff` selector: a team pattern asks for a sign-off, the check
    (both engines) fills the slot from the plug-in's graph, elicit shows what fills it."""
    write(
        project / "justify.toml",
        'signoffs_file = "reviews/signoffs.jsonl"\npatterns = ["patterns"]\n',
    )
    write(
        project / "patterns" / "reviewed.yaml",
        """\
patterns:
  - id: reviewed
    title: A requirement someone signed off
    conclusion: "{title}"
    strategy: {label: a named reviewer signed it off, rationale: r, usage_domain: d}
    supports:
      - id: sign-off
        label: a review sign-off by Ada Lovelace
        signoff: {reviewer: Ada Lovelace}
        how: "ask Ada Lovelace to sign it off (a line in reviews/signoffs.jsonl)"
""",
    )
    write(project / "requirements" / "reqs.yaml", REQUIREMENTS.replace(
        "title: Recall is reviewed", "title: Recall is reviewed\n    pattern: reviewed\n"
        "    status: approved\n    attestations: [{by: Ada, date: 2026-01-05, statement: ok}]"
    ).replace(
        "title: Fairness is reviewed", "title: Fairness is reviewed\n    pattern: reviewed\n"
        "    status: approved\n    attestations: [{by: Ada, date: 2026-01-05, statement: ok}]"
    ))  # fmt: skip
    assert justify(plugin, "load", cwd=project).returncode == 0
    assert justify(plugin, "import", "signoffs", cwd=project).returncode == 0
    outcome = {}
    for engine in ("fast", "pyshacl"):
        checked = justify(plugin, "check", "--engine", engine, "--format", "json", cwd=project)
        report = json.loads(checked.stdout)
        outcome[engine] = (
            {r["id"]: r["status"] for r in report["requirements"]},
            sorted((r["rule"], r["requirement"]) for r in report["results"]),
        )
    assert outcome["fast"] == outcome["pyshacl"]
    statuses, results = outcome["fast"]
    # S-1 is Ada's sign-off of REQ-1; REQ-2 has none.
    assert statuses == {"REQ-1": "justified", "REQ-2": "unjustified"}
    assert results == [("JF-PATTERN-reviewed-sign-off", "REQ-2")]
    todo = justify(plugin, "elicit", "REQ-2", cwd=project)
    assert "[ ] sign-off: a review sign-off by Ada Lovelace — missing" in todo.stdout
    assert "ask Ada Lovelace to sign it off" in todo.stdout
    # Without the plug-in, the pattern's selector is unknown: named with its line.
    write(project / "justify.toml", 'patterns = ["patterns"]\n')
    bare = run_justify("patterns", cwd=project)
    assert bare.returncode == 2, bare.stderr
    assert re.search(r"patterns/reviewed.yaml:\d+: unknown field 'signoff'", bare.stderr)


def test_the_readme_shows_the_tested_plugin() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    source = (EXAMPLE / "justify_signoffs.py").read_text(encoding="utf-8")
    assert f"```python\n{source}```" in readme
    assert '[project.entry-points."justify.importers"]' in readme
    assert 'signoffs = "justify_signoffs:SignoffImporter"' in readme
