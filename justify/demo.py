"""``justify demo``: a small tumour-screening workspace, end to end.

It writes requirement files, trains a real scikit-learn model on a dataset that
ships with scikit-learn (breast cancer, malignant = positive), logs the runs to
an MLflow SQLite store in the workspace, registers the model with the alias
``champion``, loads and imports everything into the embedded store, and queries
the graph.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from justify.config import Config, load_config
from justify.errors import UsageError
from justify.importers.mlflow import quiet_mlflow
from justify.query import query
from justify.store import QueryResult
from justify.sync import Summary, sync

MARKER = ".justify-demo"
EXPERIMENT = "screening-training"
MODEL = "screening-model"
EVIDENCE_QUERY = """
SELECT DISTINCT ?requirement ?run ?metric ?value ?dataset WHERE {
  ?req a jf:Requirement ; dcterms:identifier ?requirement ; jf:hasCriterion/jf:metricKey ?metric .
  { ?r jf:supports ?req } UNION { ?version jf:supports ?req ; jf:producedBy ?r }
  ?r a jf:Run ; dcterms:title ?run ; jf:hasMeasurement ?m .
  ?m jf:metricKey ?metric ; jf:value ?value .
  OPTIONAL { ?m jf:onDataset/dcterms:title ?dataset }
}
ORDER BY ?requirement ?run
"""


@dataclass
class DemoResult:
    """The demo workspace and what was done in it."""

    directory: Path
    config: Config
    synced: list[Summary]
    requirements: QueryResult
    evidence: QueryResult
    unjustified: QueryResult
    runs: dict[str, str] = field(default_factory=dict)


def _copy_tree(source: Traversable, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.is_dir():
            _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


def build_workspace(directory: str | Path) -> Path:
    """Write the demo files into ``directory`` (a new folder, or an earlier demo's)."""
    root = Path(directory).resolve()
    if root.exists() and any(root.iterdir()) and not (root / MARKER).exists():
        raise UsageError(
            f"{root} exists and is not a justify demo workspace; the demo will not write into it",
            hint="give another folder: justify demo DIRECTORY",
        )
    # The demo's own files, made fresh each time; the MLflow store is kept, so a
    # second demo adds runs and a new champion version to it.
    for name in ("requirements", ".justify"):
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    _copy_tree(resources.files("justify") / "templates" / "demo", root)
    (root / MARKER).write_text("made by `justify demo`; safe to delete\n", encoding="utf-8")
    return root


def _recall_gap(y_true: Any, y_pred: Any, small: Any) -> float:
    from sklearn.metrics import recall_score

    return float(
        abs(
            recall_score(y_true[small], y_pred[small])
            - recall_score(y_true[~small], y_pred[~small])
        )
    )


def log_demo_runs(root: Path, tracking_uri: str) -> dict[str, str]:
    """Train a baseline and a candidate model, log them to MLflow, register the candidate.

    Returns the run ids by run name.
    """
    import mlflow
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
    with quiet_mlflow():
        client = MlflowClient(tracking_uri=tracking_uri)
        client.search_experiments(max_results=1)  # creates the database quietly
    existing = client.get_experiment_by_name(EXPERIMENT)
    experiment_id = (
        existing.experiment_id
        if existing
        else client.create_experiment(
            EXPERIMENT, artifact_location=(root / "mlartifacts").as_uri(), tags={"team": "ml-team"}
        )
    )
    runs: dict[str, str] = {}
    model_uri = model_id = ""
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    try:
        with warnings.catch_warnings(), quiet_mlflow():
            warnings.simplefilter("ignore")  # MLflow's and pandas' deprecation noise
            train_ds = mlflow.data.from_pandas(  # type: ignore[attr-defined]
                X_train.assign(malignant=y_train), name="breast-cancer-train", targets="malignant"
            )
            test_ds = mlflow.data.from_pandas(  # type: ignore[attr-defined]
                X_test.assign(malignant=y_test), name="breast-cancer-test", targets="malignant"
            )
            for name, c, requirements in (
                ("baseline", 0.01, "REQ-REC-1,REQ-PREC-1"),
                ("candidate", 1.0, "REQ-REC-1,REQ-PREC-1,REQ-FAIR-1"),
            ):
                with mlflow.start_run(experiment_id=experiment_id, run_name=name) as run:
                    runs[name] = run.info.run_id
                    mlflow.set_tag("justify.requirements", requirements)
                    mlflow.log_params(
                        {"C": c, "model": "logistic-regression", "scaler": "standard"}
                    )
                    mlflow.log_input(train_ds, context="train")
                    mlflow.log_input(test_ds, context="test")
                    # Recall over training effort: the history a criterion's plot shows.
                    for step, iterations in enumerate((2, 5, 20, 2000)):
                        partial = make_pipeline(
                            StandardScaler(), LogisticRegression(C=c, max_iter=iterations)
                        ).fit(X_train, y_train)
                        mlflow.log_metric(
                            "test_recall", recall_score(y_test, partial.predict(X_test)), step=step
                        )
                    model = partial
                    predicted = model.predict(X_test)
                    if name == "candidate":
                        info = mlflow.sklearn.log_model(
                            model, name="model", input_example=X_train.head(2)
                        )
                        model_uri, model_id = info.model_uri, info.model_id
                        mlflow.log_metric(
                            "test_recall",
                            recall_score(y_test, predicted),
                            step=4,
                            dataset=test_ds,
                            model_id=info.model_id,
                        )
                    mlflow.log_metric(
                        "test_precision", precision_score(y_test, predicted), dataset=test_ds
                    )
                    mlflow.log_metric(
                        "recall_gap_size", _recall_gap(y_test, predicted, small), dataset=test_ds
                    )
            if not client.search_registered_models(filter_string=f"name = '{MODEL}'"):
                client.create_registered_model(MODEL, tags={"domain": "screening"})
            version = client.create_model_version(
                MODEL,
                model_uri,
                run_id=runs["candidate"],
                model_id=model_id,
                tags={"validated_by": "ml-team"},
            )
            client.set_registered_model_alias(MODEL, "champion", version.version)
    finally:
        mlflow.set_tracking_uri(previous_uri)
    return runs


def demo(
    directory: str | Path = "justify-demo",
    *,
    echo: Callable[[str], None] | None = None,
    progress: bool = False,
) -> DemoResult:
    """Build the demo workspace, log real runs, load and import them, and query the graph."""
    say = echo or (lambda _text: None)
    root = build_workspace(directory)
    say(f"demo workspace: {root}")
    config = load_config(root / "justify.toml")
    tracking_uri = "sqlite:///" + str(root / "mlflow.db")
    say("training a baseline and a candidate model, logging them to MLflow ...")
    runs = log_demo_runs(root, tracking_uri)
    say(f"logged runs {', '.join(runs)}; registered {MODEL} with alias champion")
    synced = sync(config=config, progress=progress, echo=say)
    return DemoResult(
        directory=root,
        config=config,
        synced=synced,
        requirements=query("requirements", config=config),
        evidence=query(EVIDENCE_QUERY, config=config),
        unjustified=query("unjustified", config=config),
        runs=runs,
    )
