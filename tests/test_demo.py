"""The demo: real runs of a scikit-learn model in MLflow, registered, imported, queried."""

from __future__ import annotations

from pathlib import Path

import pytest

import justify
from justify._demo import demo
from justify.errors import UsageError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_result(tmp_path_factory: pytest.TempPathFactory) -> justify.DemoResult:
    return demo(tmp_path_factory.mktemp("demo") / "ws")


def test_demo_logs_registers_and_imports_real_runs(demo_result) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{demo_result.directory / 'mlflow.db'}")
    version = client.get_model_version_by_alias("screening-model", "champion")
    assert version.run_id == demo_result.runs["candidate"]
    run = client.get_run(version.run_id)
    assert {d.dataset.name for d in run.inputs.dataset_inputs} == {
        "breast-cancer-train",
        "breast-cancer-test",
    }
    graphs = {g.kind: g for g in justify.status(config=demo_result.config)}
    assert set(graphs) == {
        "requirements",
        "mlflow",
        "openlineage",
        "dvc",
        "git",
        "judgement (derived)",
        "judgement (check)",
        "judgement (history)",
    }
    assert graphs["mlflow"].items == 2
    assert graphs["openlineage"].items == 2  # the pipeline's run and its validation task
    assert graphs["dvc"].items == 2  # the latency stage at two batch sizes
    assert graphs["git"].items == 5


def test_demo_data_requirement_rests_on_the_validation_jobs_lineage(demo_result) -> None:
    """train.py's validation job sent its events over HTTP to the receiver; imported,
    they justify REQ-DATA-1 through the team's validated-data pattern."""
    import json

    (received,) = (demo_result.directory / "lineage").glob("received-*.jsonl")
    events = [json.loads(line) for line in received.read_text().splitlines()]
    assert [(e["job"]["name"], e["eventType"]) for e in events] == [
        ("screening-pipeline", "START"),
        ("validate-training-data", "START"),
        ("validate-training-data", "COMPLETE"),
        ("screening-pipeline", "COMPLETE"),
    ]
    data = demo_result.judgement.requirements["REQ-DATA-1"]
    assert data.status == "justified"
    assert {(c.verdict, c.measured_on) for c in data.criteria} == {("met", "breast-cancer-train")}
    figures = {r["figure"]: r for r in demo_result.lineage.values()}
    assert float(figures["rowCount"]["value"] or "nan") == 398
    assert float(figures["assertion.not_null"]["value"] or "nan") == 1
    assert figures["rowCount"]["parent"] == "screening-pipeline"
    # The dataset version the job reported is MLflow's digest of the same training set.
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{demo_result.directory / 'mlflow.db'}")
    run = client.get_run(demo_result.runs["candidate"])
    digests = {d.dataset.name: d.dataset.digest for d in run.inputs.dataset_inputs}
    assert figures["rowCount"]["version"] == digests["breast-cancer-train"]


def test_demo_shows_requirement_run_metric(demo_result) -> None:
    rows = demo_result.evidence.values()
    recall = {
        r["run"]: (float(r["value"] or "nan"), r["dataset"], r["verdict"])
        for r in rows
        if r["requirement"] == "REQ-REC-1" and r["metric"] == "test_recall"
    }
    assert set(recall) == {"candidate"}  # the current evidence, newer than the baseline
    assert recall["candidate"][0] > 0.85
    assert recall["candidate"][1:] == ("breast-cancer-test", "met")
    gap = [r for r in rows if r["requirement"] == "REQ-FAIR-1"]
    # The demo's failing requirement, judged on the test set's value.
    assert len(gap) == 1 and float(gap[0]["value"] or "nan") > 0.10
    assert (gap[0]["dataset"], gap[0]["verdict"]) == ("breast-cancer-test", "not met")
    unjustified = {r["id"] for r in demo_result.unjustified.values()}
    assert unjustified == {"REQ-EXPL-1"}  # what `justify check` calls unjustified
    assert unjustified == {
        rid for rid, status in demo_result.judgement.statuses.items() if status == "unjustified"
    }
    authors = {
        (r["run"], r["commit"], r["author"])
        for r in rows
        if r["requirement"] not in ("REQ-DATA-1", "REQ-LAT-1")
    }
    assert authors == {("candidate", "Add the training script", "Dana Scientist")}
    # REQ-DATA-1 rests on the validation job's run, which names no commit.
    validation = {(r["metric"], r["commit"]) for r in rows if r["requirement"] == "REQ-DATA-1"}
    assert validation == {("rowCount", None), ("malignant.nullCount", None)}
    # REQ-LAT-1 (a draft: not judged) rests on the DVC stage's latest commit.
    (latency,) = [r for r in rows if r["requirement"] == "REQ-LAT-1"]
    assert latency["verdict"] == "not judged" and float(latency["value"] or "nan") == 24.73
    assert latency["commit"] == "Score in batches of 32: p95 latency under 50 ms"


def test_demo_dvc_stage_is_read_from_git_per_commit(demo_result) -> None:
    import yaml

    runs = demo_result.dvc.values()
    assert [(r["batch"], float(r["p95"] or "nan"), r["requirement"]) for r in runs] == [
        ("128", 94.32, "REQ-LAT-1"),
        ("32", 24.73, "REQ-LAT-1"),
    ]
    # The stage's dependency with the hash DVC recorded in dvc.lock.
    (dep,) = yaml.safe_load((demo_result.directory / "dvc.lock").read_text())["stages"]["latency"][
        "deps"
    ]
    used = justify.query(
        'SELECT ?path ?digest WHERE { ?r jf:usedDataset ?d . ?d jf:source "dvc" ; '
        "dcterms:title ?path ; jf:digest ?digest }",
        config=demo_result.config,
    ).values()
    assert (dep["path"], dep["md5"]) in {(u["path"], u["digest"]) for u in used}


def test_demo_workspace_is_a_git_repository_with_a_trailer(demo_result) -> None:
    import subprocess

    log = subprocess.run(
        ["git", "log", "--format=%s%n%b%x00"],
        cwd=demo_result.directory,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Justifies: REQ-REC-1, REQ-PREC-1" in log
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=demo_result.directory, capture_output=True, text=True, check=True
    ).stdout.split()
    assert {"train.py", "justify.toml", "requirements/performance.yaml"} <= set(tracked)
    stale = justify.query(
        """SELECT ?id WHERE { ?r dcterms:identifier ?id ; jf:lastChangedIn/prov:endedAtTime ?t .
             ?run jf:supports ?r ; prov:endedAtTime ?end FILTER (?end < ?t) }""",
        config=demo_result.config,
    ).values()
    assert {r["id"] for r in stale} == {"REQ-PREC-1"}  # changed after its evidence


def test_demo_can_run_again_in_the_same_folder(demo_result) -> None:
    import subprocess

    from mlflow import MlflowClient

    again = demo(demo_result.directory)
    assert again.runs.keys() == demo_result.runs.keys()
    assert again.runs != demo_result.runs  # new runs, logged beside the first ones
    client = MlflowClient(f"sqlite:///{demo_result.directory / 'mlflow.db'}")
    champion = client.get_model_version_by_alias("screening-model", "champion")
    assert (str(champion.version), champion.run_id) == ("2", again.runs["candidate"])
    # A fresh start: what the first run wrote (reports, the store) is not committed.
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=demo_result.directory, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [path for path in tracked if path.startswith(("reports/", ".justify/"))]
    assert "team-shapes/team.ttl" in tracked


def test_demo_refuses_a_folder_that_is_not_a_demo(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("mine")
    with pytest.raises(UsageError, match="is not a justify demo workspace"):
        demo(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "mine"
