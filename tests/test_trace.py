"""justify trace: one requirement's justification as a tree, from the demo's graph."""

from __future__ import annotations

import pytest
from helpers import run_justify

import justify
from justify._demo import DemoResult
from tests.explorer_env import copy_demo


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, demo_template: DemoResult) -> DemoResult:
    return copy_demo(demo_template, tmp_path_factory.mktemp("trace") / "ws")


def test_trace_shows_criteria_evidence_commits_and_models(workspace) -> None:
    lines = justify.trace("REQ-REC-1", config=workspace.config).render()
    text = "\n".join(lines)
    assert lines[0] == "REQ-REC-1: Screening recall  [justified]  requirements/performance.yaml:2"
    assert "test_recall >= 0.85 on test" in text
    current = next(ln for ln in lines if "<- current evidence" in ln)
    assert "run candidate" in current
    assert "via run tag and model screening-model version 1 @champion" in current
    # The verdict is the judgement's, with the value and the dataset it was recorded for.
    assert "test_recall >= 0.85 on test: met (test_recall = 0.953125 on breast-cancer-test)" in text
    # The older run is shown with what it measured, and not judged.
    assert "test_recall = 0.875 (not judged: not the current evidence)" in text
    assert "datasets: breast-cancer-test (test), breast-cancer-train (train)" in text
    assert '"Add the training script" by Dana Scientist' in text
    assert "model screening-model version 1 @champion: DO NOT SHIP" in text
    assert "parent: REQ-TOP-1 Screening model fit for release [stale]" in text
    assert "checks: all rules pass" in text


def test_trace_shows_failing_checks(workspace) -> None:
    text = "\n".join(justify.trace("REQ-FAIR-1", config=workspace.config).render())
    assert "[failing]" in text.splitlines()[0]
    assert (
        "recall_gap_size <= 0.1 on test: not met (recall_gap_size = 0.13218390804597702 on "
        "breast-cancer-test)" in text
    )
    assert "violation JF-THRESHOLD" in text


def test_trace_from_the_cli_and_unknown_ids(workspace) -> None:
    ok = run_justify("trace", "REQ-PREC-1", cwd=workspace.directory)
    assert ok.returncode == 0
    assert "warning JF-STALE" in ok.stdout
    assert (
        "last changed: " in ok.stdout and '"Tighten the precision requirement to 0.90"' in ok.stdout
    )
    bad = run_justify("trace", "REQ-RECX", cwd=workspace.directory)
    assert bad.returncode == 2
    assert (
        "no requirement with id 'REQ-RECX'" in bad.stderr and "did you mean REQ-REC-1" in bad.stderr
    )


def test_values_with_quotes_backslashes_and_newlines_are_bound_not_pasted(tmp_path) -> None:
    """A metric key holding a quote once gave a SPARQL syntax error in trace."""
    (tmp_path / "justify.toml").write_text("")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "r.yaml").write_text(
        "requirements:\n  - id: R1\n    title: odd keys\n    status: approved\n"
        "    criteria:\n      - {metric: 'acc\"ur\\acy } #', op: '>=', threshold: 0.5,"
        ' dataset: "te\\"st\\nx"}\n'
    )
    assert run_justify("load", cwd=tmp_path).returncode == 0
    assert run_justify("check", cwd=tmp_path).returncode == 1  # no evidence
    traced = run_justify("trace", "R1", cwd=tmp_path)
    assert traced.returncode == 0, traced.stderr
    assert 'acc"ur\\acy } #' in traced.stdout


def test_a_parameter_that_is_not_an_iri_is_a_usage_error(tmp_path) -> None:
    (tmp_path / "justify.toml").write_text("")
    refused = run_justify("query", "trace", "--param", "id=<not an iri>", cwd=tmp_path)
    assert refused.returncode == 2
    assert "is not an IRI" in refused.stderr and "Traceback" not in refused.stderr
