"""End to end: a real MLflow store and Git repository change (a worse metric behind
a moved alias, the alias moved back, a requirement's text), and the check report,
exit code and history follow."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from helpers import git, run_justify, sklearn_requirements

import justify
from justify._demo import MODEL, demo

pytestmark = pytest.mark.slow


def check_json(cwd: Path) -> tuple[int, dict[str, str], list[dict[str, str]]]:
    assert run_justify("sync", cwd=cwd).returncode == 0
    cli = run_justify("check", "--format", "json", cwd=cwd)
    report = json.loads(cli.stdout)
    statuses = {r["id"]: r["status"] for r in report["requirements"]}
    return cli.returncode, statuses, report["results"]


def log_worse_version(tracking_uri: str) -> str:
    """A new run with a poor recall, logged as a model and registered: its version."""
    import mlflow
    from mlflow import MlflowClient
    from sklearn.dummy import DummyClassifier

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.search_experiments()[0]
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with mlflow.start_run(experiment_id=experiment.experiment_id, run_name="rushed"):
                import pandas as pd

                model = DummyClassifier(strategy="most_frequent").fit([[0], [1]], [0, 0])
                info = mlflow.sklearn.log_model(
                    model, name="model", pip_requirements=sklearn_requirements()
                )
                test = mlflow.data.from_pandas(pd.DataFrame({"x": [0, 1]}), name="holdout")
                mlflow.log_input(test, context="test")
                for key, value in {"test_recall": 0.42, "test_precision": 0.95}.items():
                    mlflow.log_metric(key, value, dataset=test, model_id=info.model_id)
                run_id = mlflow.active_run().info.run_id  # type: ignore[union-attr]
        version = client.create_model_version(
            MODEL, info.model_uri, run_id=run_id, model_id=info.model_id
        )
    finally:
        mlflow.set_tracking_uri(previous)
    return str(version.version)


def set_champion(tracking_uri: str, version: str) -> None:
    from mlflow import MlflowClient

    MlflowClient(tracking_uri=tracking_uri).set_registered_model_alias(MODEL, "champion", version)


def test_report_exit_code_and_history_follow_changes_in_mlflow_and_git(tmp_path: Path) -> None:
    ws = demo(tmp_path / "ws")
    uri = "sqlite:///" + str(ws.directory / "mlflow.db")  # the workspace's own MLflow store
    code, statuses, _ = check_json(ws.directory)
    assert code == 1 and statuses["REQ-REC-1"] == "justified"

    # A worse model becomes champion: its run is now REQ-REC-1's current evidence.
    good = "1"
    bad = log_worse_version(uri)
    set_champion(uri, bad)
    code, statuses, results = check_json(ws.directory)
    assert code == 1 and statuses["REQ-REC-1"] == "failing"
    failing = {(r["rule"], r.get("requirement")) for r in results}
    assert ("JF-THRESHOLD", "REQ-REC-1") in failing
    assert any("test_recall = 0.42 in run rushed on holdout" in r["message"] for r in results)
    report = json.loads(run_justify("check", "--format", "json", cwd=ws.directory).stdout)
    verdicts = {str(m["version"]): (m["aliases"], m["verdict"]) for m in report["models"]}
    assert verdicts[bad] == (["champion"], "do not ship")
    assert verdicts[good] == ([], "do not ship")  # no requirement applies to it any more

    # The alias moves back: the rushed run no longer supports anything.
    set_champion(uri, good)
    code, statuses, results = check_json(ws.directory)
    assert statuses["REQ-REC-1"] == "justified"
    assert not [r for r in results if r["rule"] == "JF-ALIAS"]

    # The requirement's text changes after its evidence: stale, a warning.
    path = ws.directory / "requirements" / "performance.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("statement: ", "statement: (Revised) ", 1), encoding="utf-8")
    git(ws.directory, "commit", "-qam", "Reword the recall requirement")
    sha = git(ws.directory, "rev-parse", "HEAD")
    code, statuses, results = check_json(ws.directory)
    assert statuses["REQ-REC-1"] == "stale"
    assert ("JF-STALE", "REQ-REC-1") in {(r["rule"], r.get("requirement")) for r in results}
    lenient = run_justify("check", "--fail-on", "never", "--no-history", cwd=ws.directory)
    assert lenient.returncode == 0

    changes = justify.history("REQ-REC-1", config=ws.config)
    assert [(c.previous, c.status) for c in changes] == [
        (None, "justified"),
        ("justified", "failing"),
        ("failing", "justified"),
        ("justified", "stale"),
    ]
    assert changes[-1].commit == sha
    # Each change says what caused it.
    assert any(c.startswith("alias moved") for c in changes[1].causes)
    assert any(c.startswith("new current evidence: run rushed") for c in changes[1].causes)
    assert any(c.startswith("alias moved") for c in changes[2].causes)
    assert "requirement edited" in changes[3].causes
