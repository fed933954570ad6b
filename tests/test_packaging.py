"""The wheel: a plain (non-editable) install ships the ontology and shapes and runs
from any folder."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds the wheel and runs the demo from it

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel and install it, without dependencies, into its own folder."""
    work = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        # No network: the build backend (hatchling) is a test dependency.
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "-q",
            "-w",
            str(work),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(work.glob("justify-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "justify/_data/ontology/justify.ttl" in names
    assert "justify/_data/shapes/requirements.ttl" in names
    assert "justify/queries/trace.rq" in names
    assert "justify/schemas/check-report.schema.json" in names
    assert "justify/_data/shapes/justification.ttl" in names
    assert "justify/templates/demo/justify.toml" in names
    assert "justify/py.typed" in names
    target = work / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    return target


def _run(target: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The installed copy comes first on the path, ahead of the source checkout.
    env = {**os.environ, "PYTHONPATH": str(target)}
    return subprocess.run(
        [str(target / "bin" / "justify"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_installed_wheel_runs_help_init_and_demo_from_any_folder(
    installed: Path, tmp_path: Path
) -> None:
    where = _run(installed, "--version", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import justify.resources as r; print(r.ontology_file()); print(r.shapes_folder())",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
        check=True,
    )
    ontology, shapes = probe.stdout.split()
    assert ontology.startswith(str(installed)) and Path(ontology).is_file()
    assert Path(shapes, "requirements.ttl").is_file()

    assert _run(installed, "--help", cwd=tmp_path).returncode == 0
    init = _run(installed, "init", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "requirements" / "example.yaml").is_file()
    demo = _run(installed, "demo", str(tmp_path / "demo"), cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "REQ-REC-1" in demo.stdout
    # The demo ends as CI would: check reports written, the planted problems failing it.
    assert "justify check exits 1 here" in demo.stdout
    reports = tmp_path / "demo" / "reports"
    assert "REQ-FAIR-1" in (reports / "summary.md").read_text(encoding="utf-8")
    assert '"version": "2.1.0"' in (reports / "check.sarif").read_text(encoding="utf-8")
    assert "<testsuite" in (reports / "junit.xml").read_text(encoding="utf-8")
    # ... and the audit report, with its figures (inline in HTML, beside the Markdown).
    audit = (reports / "audit.html").read_text(encoding="utf-8")
    assert audit.count('<figure class="diagram"><svg') == 7 and '<figure class="plot"><svg' in audit
    assert (reports / "audit-figures" / "REQ-REC-1-criterion-1.svg").is_file()
    assert "figures in audit-figures/" in demo.stdout and "figures:" not in demo.stderr
    # ... and the justification patterns each requirement follows.
    assert "fairness: gap, attributes-reviewed, evaluation-data; followed by REQ-FAIR-1" in (
        demo.stdout
    )
    # It shows its guard rails: hostile requirement files refused, credentials redacted.
    assert "untrusted/alias-bomb.yaml:8: YAML aliases expand to more than 100,000" in demo.stdout
    assert "untrusted/python-tag.yaml:3: YAML tag 'python/object/apply" in demo.stdout
    assert "as: http://***@mlflow.internal:5000/?token=***" in demo.stdout
    assert "s3cret" not in demo.stdout
    # Its last line's command works exactly as printed (justify may be only in a venv).
    line = next(t for t in demo.stdout.splitlines() if t.startswith("Explore it: cd "))
    folder, _, command = line.removeprefix("Explore it: cd ").partition(" && ")
    program = shlex.split(command.split(" app ")[0])
    printed = subprocess.run(
        [*program, "status"], cwd=folder, capture_output=True, text=True, check=False
    )
    assert printed.returncode == 0, (line, printed.stderr)
    assert "requirements" in printed.stdout
    # ... and keeps a copy of the graph as audited, which the CLI reads like any store.
    copy = _run(
        installed, "--store", str(reports / "audited-store"), "status", cwd=tmp_path / "demo"
    )
    assert copy.returncode == 0, copy.stderr
    assert "/graph/requirements" in copy.stdout and "/graph/check" in copy.stdout
