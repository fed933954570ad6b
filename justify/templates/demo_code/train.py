"""Train the screening model and log the runs to MLflow (the demo's training code).

A logistic regression on the breast cancer data that ships with scikit-learn
(malignant = positive class). Two runs: a baseline and a candidate; the
candidate is logged as a model, registered as `screening-model` and given the
alias `champion`. Each run says which requirements it is evidence of (the
`justify.requirements` tag) and which commit it ran (`mlflow.source.git.*`).

Before training, the pipeline's `validate-training-data` job checks the training data
and reports what it found as OpenLineage events (data-quality metrics and assertions),
sent with the OpenLineage client to a lineage endpoint (`justify lineage receive`) or
written to lineage/events.jsonl.

    python train.py sqlite:///mlflow.db [http://127.0.0.1:5055]
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

EXPERIMENT = "screening-training"
MODEL = "screening-model"


def git(*args: str) -> str:
    here = Path(__file__).resolve().parent
    result = subprocess.run(["git", *args], cwd=here, capture_output=True, text=True, check=False)
    return result.stdout.strip()


def recall_gap(y_true, y_pred, small) -> float:
    """Recall on small tumours minus recall on large ones, in absolute value."""
    from sklearn.metrics import recall_score

    return float(
        abs(
            recall_score(y_true[small], y_pred[small])
            - recall_score(y_true[~small], y_pred[~small])
        )
    )


def lineage_client(target: str | None):
    """An OpenLineage client sending to an HTTP endpoint, or appending to a file."""
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.file import FileConfig, FileTransport
    from openlineage.client.transport.http import HttpConfig, HttpTransport

    if target and target.startswith("http"):
        return OpenLineageClient(transport=HttpTransport(HttpConfig(url=target)))
    path = Path(target) if target else Path(__file__).resolve().parent / "lineage" / "events.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    return OpenLineageClient(transport=FileTransport(FileConfig(str(path), append=True)))


def validate(frame, name: str, version: str, pipeline_run: str, client) -> None:
    """The pipeline's validation job: row count, nulls and duplicates of the training
    data, emitted as one OpenLineage run (START, then COMPLETE with the facets)."""
    from datetime import UTC, datetime

    from openlineage.client.event_v2 import InputDataset, Job, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import (
        data_quality_assertions_dataset as dqa,
    )
    from openlineage.client.facet_v2 import (
        data_quality_metrics_input_dataset as dqm,
    )
    from openlineage.client.facet_v2 import dataset_version_dataset, parent_run, schema_dataset
    from openlineage.client.uuid import generate_new_uuid

    from justify import JustifyRunFacet

    producer = "https://example.org/screening-demo/train.py"
    job = Job(namespace="screening-pipeline", name="validate-training-data")
    facets = {
        "parent": parent_run.ParentRunFacet(
            run=parent_run.Run(runId=pipeline_run),
            job=parent_run.Job(namespace="screening-pipeline", name="screening-pipeline"),
        ),
        "justify": JustifyRunFacet(requirements=["REQ-DATA-1"]),
    }
    run = Run(runId=str(generate_new_uuid()), facets=facets)

    def now() -> str:
        return datetime.now(UTC).isoformat()

    client.emit(
        RunEvent(eventType=RunState.START, eventTime=now(), run=run, job=job, producer=producer)
    )
    columns = {
        column: dqm.ColumnMetrics(nullCount=int(frame[column].isna().sum()))
        for column in ("mean radius", "malignant")
    }
    assertions = [
        dqa.Assertion(assertion="not_null", success=not frame.isna().any().any()),
        dqa.Assertion(assertion="unique_rows", success=not frame.duplicated().any()),
        dqa.Assertion(assertion="row_count", success=len(frame) >= 300),
    ]
    data = InputDataset(
        namespace="sklearn",
        name=name,
        facets={
            "version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=version),
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[
                    schema_dataset.SchemaDatasetFacetFields(name=c, type=str(frame[c].dtype))
                    for c in frame.columns
                ]
            ),
        },
        inputFacets={
            "dataQualityMetrics": dqm.DataQualityMetricsInputDatasetFacet(
                rowCount=len(frame), columnMetrics=columns
            ),
            "dataQualityAssertions": dqa.DataQualityAssertionsDatasetFacet(assertions=assertions),
        },
    )
    client.emit(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=now(),
            run=run,
            job=job,
            inputs=[data],
            producer=producer,
        )
    )


def main(tracking_uri: str, lineage: str | None = None) -> dict[str, str]:
    """Validate the data, log the runs and register the champion; return the run ids
    by run name. ``lineage``: where OpenLineage events go (an endpoint's URL or a file)."""
    import mlflow
    import sklearn
    from mlflow import MlflowClient
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import precision_score, recall_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    y = 1 - y  # malignant is the positive class
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=7, stratify=y
    )
    small = X_test["mean radius"] < X_test["mean radius"].median()
    source = {
        "mlflow.source.git.commit": git("rev-parse", "HEAD"),
        "mlflow.source.git.branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "mlflow.source.git.repoURL": str(Path(__file__).resolve().parent),
    }
    client = MlflowClient(tracking_uri=tracking_uri)
    existing = client.get_experiment_by_name(EXPERIMENT)
    artifacts = (Path(__file__).resolve().parent / "mlartifacts").as_uri()
    experiment_id = (
        existing.experiment_id
        if existing
        else client.create_experiment(
            EXPERIMENT, artifact_location=artifacts, tags={"team": "ml-team"}
        )
    )
    runs: dict[str, str] = {}
    events = lineage_client(lineage)
    pipeline = pipeline_event(events, None, "START")
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MLflow's and pandas' deprecation noise
            train_ds = mlflow.data.from_pandas(
                X_train.assign(malignant=y_train), name="breast-cancer-train", targets="malignant"
            )
            test_ds = mlflow.data.from_pandas(
                X_test.assign(malignant=y_test), name="breast-cancer-test", targets="malignant"
            )
            validate(
                X_train.assign(malignant=y_train),
                "breast-cancer-train",
                train_ds.digest,
                pipeline.runId,
                events,
            )
            for name, c, requirements in (
                ("baseline", 0.01, "REQ-REC-1,REQ-PREC-1"),
                ("candidate", 1.0, "REQ-REC-1,REQ-PREC-1,REQ-FAIR-1"),
            ):
                with mlflow.start_run(experiment_id=experiment_id, run_name=name) as run:
                    runs[name] = run.info.run_id
                    mlflow.set_tags({**source, "justify.requirements": requirements})
                    mlflow.log_params(
                        {"C": c, "model": "logistic-regression", "scaler": "standard"}
                    )
                    mlflow.log_input(train_ds, context="train")
                    mlflow.log_input(test_ds, context="test")
                    # Recall over training effort: the history a criterion's plot shows.
                    for step, iterations in enumerate((2, 5, 20, 2000)):
                        model = make_pipeline(
                            StandardScaler(), LogisticRegression(C=c, max_iter=iterations)
                        ).fit(X_train, y_train)
                        recall = recall_score(y_test, model.predict(X_test))
                        mlflow.log_metric("test_recall", recall, step=step)
                    predicted = model.predict(X_test)
                    if name != "candidate":
                        mlflow.log_metric(
                            "test_precision", precision_score(y_test, predicted), dataset=test_ds
                        )
                        mlflow.log_metric(
                            "recall_gap_size", recall_gap(y_test, predicted, small), dataset=test_ds
                        )
                        continue
                    # The candidate is logged as a model; metrics logged with the model's id
                    # and a dataset record which dataset each value was computed on.
                    # The model's requirements, stated: MLflow would otherwise infer them
                    # by loading the model in a new Python process (7 s per model here).
                    info = mlflow.sklearn.log_model(
                        model,
                        name="model",
                        input_example=X_train.head(2),
                        pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
                    )
                    on_test = {"dataset": test_ds, "model_id": info.model_id}
                    mlflow.log_metric(
                        "test_recall", recall_score(y_test, predicted), step=4, **on_test
                    )
                    mlflow.log_metric(
                        "test_precision", precision_score(y_test, predicted), **on_test
                    )
                    mlflow.log_metric(
                        "recall_gap_size", recall_gap(y_test, predicted, small), **on_test
                    )
                    # The fairness gap evaluated on the training data too, afterwards: the
                    # run's latest value of the key is now the (smaller) training gap, and
                    # only the per-dataset judgement still judges REQ-FAIR-1 on the test set.
                    train_small = X_train["mean radius"] < X_train["mean radius"].median()
                    mlflow.log_metric(
                        "recall_gap_size",
                        recall_gap(y_train, model.predict(X_train), train_small),
                        step=1,
                        dataset=train_ds,
                        model_id=info.model_id,
                    )
            if not client.search_registered_models(filter_string=f"name = '{MODEL}'"):
                client.create_registered_model(MODEL, tags={"domain": "screening"})
            version = client.create_model_version(
                MODEL,
                info.model_uri,
                run_id=runs["candidate"],
                model_id=info.model_id,
                tags={"validated_by": "ml-team"},
            )
            client.set_registered_model_alias(MODEL, "champion", version.version)
        pipeline_event(events, pipeline, "COMPLETE")
    finally:
        mlflow.set_tracking_uri(previous_uri)
    return runs


def pipeline_event(client, run, state: str):
    """The pipeline's own run, parent of its validation job's run."""
    from datetime import UTC, datetime

    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.uuid import generate_new_uuid

    run = run or Run(runId=str(generate_new_uuid()))
    client.emit(
        RunEvent(
            eventType=RunState[state],
            eventTime=datetime.now(UTC).isoformat(),
            run=run,
            job=Job(namespace="screening-pipeline", name="screening-pipeline"),
            producer="https://example.org/screening-demo/train.py",
        )
    )
    return run


if __name__ == "__main__":
    print(main(*(sys.argv[1:] or ["sqlite:///mlflow.db"])))
