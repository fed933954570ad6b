"""Runs logged through MLflow's real client: the data the importer tests read back."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from helpers import sklearn_requirements

LONG_PARAM = "x" * 6000
NON_ASCII_TAGS = {"équipe": "données ✓", "注記": "テスト"}
ODD_METRICS = {"val loss/epoch 1": 0.5, "not a number": float("nan"), "too big": float("inf")}
REPO_WITH_TOKEN = "https://bob:s3cr3t-t0ken@git.example.com/org/screening.git"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Scenario:
    uri: str
    experiment_id: str = ""
    other_experiment_id: str = ""
    runs: dict[str, str] = field(default_factory=dict)
    model_id: str = ""
    deleted: str = ""


def log_scenario(uri: str, artifact_root: str | None = None) -> Scenario:
    """Two experiments; evidence runs with histories, a dataset, a logged and
    registered model with an alias; a nested run; a run with odd data; a run
    tagged with an unknown requirement; a deleted run."""
    import mlflow
    from mlflow import MlflowClient
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import recall_score

    sc = Scenario(uri)
    client = MlflowClient(tracking_uri=uri)
    sc.experiment_id = client.create_experiment(
        "screening-training", artifact_location=artifact_root, tags={"team": "ml"}
    )
    sc.other_experiment_id = client.create_experiment(
        "exploration", artifact_location=artifact_root
    )
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    warnings.simplefilter("ignore")
    try:
        X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        test = X.iloc[:150].assign(target=y.iloc[:150])
        ds = mlflow.data.from_pandas(test, name="bc-test", targets="target")

        with mlflow.start_run(experiment_id=sc.experiment_id, run_name="baseline") as run:
            sc.runs["baseline"] = run.info.run_id
            mlflow.set_tags(
                {
                    "justify.requirements": "REQ-REC-1",
                    "mlflow.source.git.commit": COMMIT,
                    "mlflow.source.git.branch": "main",
                    "mlflow.source.git.repoURL": REPO_WITH_TOKEN,
                }
            )
            mlflow.log_param("C", 0.01)
            mlflow.log_input(ds, context="test")
            for step, value in enumerate((0.70, 0.75, 0.80)):
                mlflow.log_metric("test_recall", value, step=step)
            mlflow.log_metric("test_precision", 0.9)
            mlflow.log_metric("train_loss", 0.3)
        time.sleep(0.05)

        with mlflow.start_run(experiment_id=sc.experiment_id, run_name="candidate") as run:
            sc.runs["candidate"] = run.info.run_id
            mlflow.set_tag("justify.requirements", "REQ-REC-1, REQ-NOPE")
            mlflow.log_param("C", 1.0)
            mlflow.log_input(ds, context="test")
            model = LogisticRegression(max_iter=3000).fit(X, y)
            info = mlflow.sklearn.log_model(
                model, name="model", pip_requirements=sklearn_requirements()
            )
            sc.model_id = info.model_id
            recall = float(recall_score(test["target"], model.predict(test.drop(columns="target"))))
            mlflow.log_metric("test_recall", 0.5, step=0)
            mlflow.log_metric("test_recall", recall, step=1, dataset=ds, model_id=info.model_id)
            with mlflow.start_run(
                experiment_id=sc.experiment_id, run_name="candidate-fold-1", nested=True
            ) as child:
                sc.runs["child"] = child.info.run_id
                mlflow.log_metric("fold_recall", 0.9)
        client.create_registered_model("screening-model", tags={"domain": "screening"})
        version = client.create_model_version(
            "screening-model", info.model_uri, run_id=sc.runs["candidate"], model_id=info.model_id
        )
        client.set_registered_model_alias("screening-model", "champion", version.version)
        client.set_model_version_tag("screening-model", version.version, "validated", "yes")

        with mlflow.start_run(experiment_id=sc.experiment_id, run_name="odd") as run:
            sc.runs["odd"] = run.info.run_id
            mlflow.log_param("long", LONG_PARAM)
            mlflow.set_tags(NON_ASCII_TAGS)
            for key, value in ODD_METRICS.items():
                mlflow.log_metric(key, value)

        with mlflow.start_run(experiment_id=sc.other_experiment_id, run_name="explore") as run:
            sc.runs["explore"] = run.info.run_id
            mlflow.log_metric("auc", 0.8)

        with mlflow.start_run(experiment_id=sc.experiment_id, run_name="discarded") as run:
            sc.deleted = run.info.run_id
            mlflow.set_tag("justify.requirements", "REQ-REC-1")
        client.delete_run(sc.deleted)
    finally:
        mlflow.set_tracking_uri(previous)
    return sc


def all_active_runs(uri: str) -> list[Any]:
    """Every active run, paged the way MLflow's own client pages."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    ids = [e.experiment_id for e in client.search_experiments()]
    runs, token = [], None
    while True:
        page = client.search_runs(ids, page_token=token, max_results=1000)
        runs.extend(page)
        token = page.token
        if not token:
            return runs
