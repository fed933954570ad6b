"""The judgement end to end, on data shapes users produce: a real ``mlflow server``
(MLflow 3 ``mlflow.models.evaluate`` per-dataset metrics in both orders, a plain run
with two datasets and one key, champion and challenger aliases, experiments) and a
real Git repository (a same-day attestation, two authors who share an email).

Every output renders the same judgement: ``check --format json``, ``trace``, the
Markdown report, ``history`` and the explorer's data functions agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import run_justify, sklearn_requirements, write
from servers import mlflow_server

from justify import explore
from justify.config import load_config
from justify.judgement import current, recorded
from justify.store import open_store

pytestmark = pytest.mark.slow

REQUIREMENTS = """\
requirements:
  - id: REQ-TOP
    title: The regressors may ship
    kind: other
    status: approved
  - id: REQ-R2-TEST
    title: Fit on held-out data
    kind: performance
    status: approved
    parent: REQ-TOP
    experiment: eval
    criteria:
      - {metric: r2_score, op: ">=", threshold: 0.4, dataset: test}
  - id: REQ-R2-TRAIN
    title: Fit on training data
    kind: performance
    status: approved
    experiment: eval
    criteria:
      - {metric: r2_score, op: ">=", threshold: 0.4, dataset: train}
  - id: REQ-ORDER-TEST
    title: Fit on held-out data, evaluated last
    kind: performance
    status: approved
    criteria:
      - {metric: r2_score, op: ">=", threshold: 0.4, dataset: test}
  - id: REQ-PLAIN
    title: A plain run's accuracy on test
    kind: performance
    status: approved
    criteria:
      - {metric: accuracy, op: ">=", threshold: 0.1, dataset: test}
  - id: REQ-CHAMP
    title: The champion is accurate
    kind: performance
    status: approved
    model: clf@champion
    criteria:
      - {metric: accuracy, op: ">=", threshold: 0.5}
  - id: REQ-EXP
    title: Evidence from the eval experiment only
    kind: performance
    status: approved
    experiment: eval
    criteria:
      - {metric: accuracy, op: ">=", threshold: 0.5}
  - id: REQ-REVIEW
    title: Reviewed by the clinical team
    kind: other  # the process pattern would also ask for a Justifies: commit
    status: approved
    attestations:
      - {by: Grace Hopper, date: 2026-03-01, statement: Reviewed with the clinical team.}
"""


@dataclass
class Project:
    root: Path
    uri: str
    runs: dict[str, str]


def _git(root: Path, *args: str, author: tuple[str, str], when: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": author[0],
        "GIT_COMMITTER_EMAIL": author[1],
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def _log_runs(uri: str) -> dict[str, str]:
    """The runs, through MLflow's own client and fluent API, as users log them."""
    import mlflow
    from mlflow import MlflowClient
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import train_test_split

    client = MlflowClient(tracking_uri=uri)
    runs: dict[str, str] = {}
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluation = client.create_experiment("eval")
            other = client.create_experiment("other")
            X, y = load_diabetes(return_X_y=True, as_frame=True)
            X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
            model = LinearRegression().fit(X_train, y_train)  # r2: test 0.36, train 0.56
            data = {
                name: mlflow.data.from_pandas(features.assign(target=target), targets="target",
                                              name=name)
                for name, features, target in (("test", X_test, y_test),
                                               ("train", X_train, y_train))
            }  # fmt: skip
            for name, order, tags in (
                ("test-then-train", ("test", "train"), "REQ-R2-TEST,REQ-R2-TRAIN"),
                ("train-then-test", ("train", "test"), "REQ-ORDER-TEST"),
            ):
                with mlflow.start_run(experiment_id=evaluation, run_name=name) as run:
                    runs[name] = run.info.run_id
                    mlflow.set_tag("justify.requirements", tags)
                    info = mlflow.sklearn.log_model(
                        model, name="model", pip_requirements=sklearn_requirements()
                    )
                    for dataset in order:
                        mlflow.models.evaluate(
                            info.model_uri, data[dataset], model_type="regressor",
                            evaluators=["default"],
                        )  # fmt: skip
            with mlflow.start_run(experiment_id=evaluation, run_name="plain") as run:
                runs["plain"] = run.info.run_id
                mlflow.set_tag("justify.requirements", "REQ-PLAIN")
                mlflow.log_input(data["train"], context="train")
                mlflow.log_input(data["test"], context="test")
                mlflow.log_metric("accuracy", 0.9)  # on which dataset? MLflow cannot say
            versions = {}
            for name, accuracy, experiment in (("good", 0.9, evaluation), ("bad", 0.2, evaluation),
                                               ("elsewhere", 0.1, other)):  # fmt: skip
                with mlflow.start_run(experiment_id=experiment, run_name=name) as run:
                    runs[name] = run.info.run_id
                    mlflow.log_metric("accuracy", accuracy)
                    if name == "elsewhere":  # newer, failing, in another experiment
                        mlflow.set_tag("justify.requirements", "REQ-EXP")
                    else:
                        info = mlflow.sklearn.log_model(
                            model, name="model", pip_requirements=sklearn_requirements()
                        )
                        versions[name] = info
                    if name == "good":
                        mlflow.set_tag("justify.requirements", "REQ-EXP")
            client.create_registered_model("clf")
            for alias, name in (("champion", "good"), ("challenger", "bad")):
                version = client.create_model_version(
                    "clf", versions[name].model_uri, run_id=runs[name],
                    model_id=versions[name].model_id,
                )  # fmt: skip
                client.set_registered_model_alias("clf", alias, version.version)
    finally:
        mlflow.set_tracking_uri(previous)
    return runs


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    base = tmp_path_factory.mktemp("judgement")
    with mlflow_server(base / "mlflow") as server:
        root = base / "project"
        write(root / "justify.toml", f'mlflow_tracking_uri = "{server.url}"\n')
        write(root / "requirements" / "reqs.yaml", REQUIREMENTS)
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
        (root / ".gitignore").write_text(".justify/\n")
        # Two people whose old tool wrote the same placeholder email.
        _git(root, "add", "-A", author=("A", "a@x"), when="2026-01-01T10:00:00+00:00")
        _git(root, "commit", "-qm", "Add the requirements", author=("Ann", "none@none"),
             when="2026-01-01T10:00:00+00:00")  # fmt: skip
        # The review requirement changes late on 1 March in New York (2 March in UTC);
        # the attestation is dated 1 March: the same day, so still current.
        path = root / "requirements" / "reqs.yaml"
        path.write_text(path.read_text().replace("Reviewed by the clinical team",
                                                 "Reviewed by the clinical board"))  # fmt: skip
        _git(root, "commit", "-qam", "Rename the review board", author=("Bob", "none@none"),
             when="2026-03-01T23:30:00-05:00")  # fmt: skip
        runs = _log_runs(server.url)
        sync = run_justify("sync", cwd=root, timeout=300)
        assert sync.returncode == 0, sync.stderr
        yield Project(root, server.url, runs)


def check(root: Path, *args: str) -> tuple[int, dict]:
    cli = run_justify("check", "--format", "json", *args, cwd=root, timeout=300)
    assert cli.returncode in (0, 1), cli.stderr
    return cli.returncode, json.loads(cli.stdout)


def by_id(report: dict) -> dict[str, dict]:
    return {r["id"]: r for r in report["requirements"]}


def rules_of(report: dict, rid: str) -> set[str]:
    return {r["rule"] for r in report["results"] if r["requirement"] == rid}


def test_per_dataset_values_are_judged_on_their_dataset_in_both_orders(project: Project) -> None:
    _, report = check(project.root)
    reqs = by_id(report)
    # Evaluated on test, then on train: the run's latest r2_score is train's (0.56), but
    # the criterion on test is judged on test's 0.36, and fails.
    (test,) = reqs["REQ-R2-TEST"]["criteria"]
    assert (test["verdict"], test["measured_on"]) == ("not met", "test")
    assert float(test["value"]) < 0.4
    assert reqs["REQ-R2-TEST"]["status"] == "failing"
    (train,) = reqs["REQ-R2-TRAIN"]["criteria"]
    assert (train["verdict"], train["measured_on"]) == ("met", "train")
    assert reqs["REQ-R2-TRAIN"]["status"] == "justified"
    # The other order: the latest value is test's; still judged on test.
    (order,) = reqs["REQ-ORDER-TEST"]["criteria"]
    assert (order["verdict"], order["measured_on"]) == ("not met", "test")


def test_a_value_whose_dataset_is_unknown_never_meets_a_criterion(project: Project) -> None:
    _, report = check(project.root)
    plain = by_id(report)["REQ-PLAIN"]
    assert plain["status"] == "failing" and plain["criteria"][0]["verdict"] == "not met"
    (message,) = [r["message"] for r in report["results"] if r["requirement"] == "REQ-PLAIN"]
    assert "unknown" in message and "model_id" in message  # says how to log it


def test_champion_and_challenger(project: Project) -> None:
    _, report = check(project.root)
    assert by_id(report)["REQ-CHAMP"]["status"] == "justified"
    versions = {(m["model"], tuple(m["aliases"])): m for m in report["models"]}
    champion, challenger = versions[("clf", ("champion",))], versions[("clf", ("challenger",))]
    # REQ-CHAMP is scoped to it; REQ-EXP's current evidence is the run that produced it,
    # and REQ-EXP carries a warning (a tagged run in another experiment).
    assert champion["requirements"] == [
        {"id": "REQ-CHAMP", "status": "justified"},
        {"id": "REQ-EXP", "status": "justified"},
    ]
    assert champion["verdict"] == "ship with warnings"
    assert [r.split(":")[0] for r in champion["reasons"]] == ["REQ-EXP JF-EXPERIMENT"]
    # The challenger is not judged by a requirement scoped to the champion.
    assert not [r for r in report["results"] if r["focus"] == challenger["iri"]]
    assert challenger["verdict"] == "do not ship"  # nothing applies to it


def test_experiment_restricts_evidence_and_reports_the_rest(project: Project) -> None:
    _, report = check(project.root)
    exp = by_id(report)["REQ-EXP"]
    assert exp["status"] == "justified"  # the newer failing run is in another experiment
    assert exp["current_evidence"]["name"] == "good"
    assert "JF-EXPERIMENT" in rules_of(report, "REQ-EXP")


def test_same_day_attestation_and_shared_email(project: Project) -> None:
    _, report = check(project.root)
    assert by_id(report)["REQ-REVIEW"]["status"] == "justified"
    assert "JF-ATTESTATION" not in rules_of(report, "REQ-REVIEW")
    people = run_justify(
        "query", "--format", "json",
        "SELECT DISTINCT ?name WHERE { ?p a prov:Person ; jf:email 'none@none' ; "
        "jf:personName ?name } ORDER BY ?name",
        cwd=project.root,
    )  # fmt: skip
    names = [row["name"]["value"] for row in json.loads(people.stdout)["results"]["bindings"]]
    assert names == ["Ann", "Bob"]


def test_a_parent_is_as_bad_as_its_children(project: Project) -> None:
    _, report = check(project.root)
    assert by_id(report)["REQ-TOP"]["status"] == "failing"
    assert "JF-PARENT" in rules_of(report, "REQ-TOP")


def test_every_output_renders_the_same_judgement(project: Project) -> None:
    code, report = check(project.root)
    assert code == 1
    config = load_config(project.root / "justify.toml")
    store = open_store(config)
    judged = recorded(store, config)
    assert judged is not None and current(config=config, store=store).fingerprint == (
        judged.fingerprint
    )
    statuses = {r["id"]: r["status"] for r in report["requirements"]}
    assert judged.statuses == statuses
    for rid, req in by_id(report).items():
        trace = run_justify("trace", rid, cwd=project.root)
        assert trace.returncode == 0, trace.stderr
        assert trace.stdout.splitlines()[0].split("[")[1].split("]")[0] == statuses[rid]
        for c in req["criteria"]:
            assert f": {c['verdict']}" in trace.stdout
        view = explore.requirement_view(store, config.base_iri, rid)
        assert view is not None and view.head["status"] == statuses[rid]
        assert [c.verdict for c in view.criteria] == [c["verdict"] for c in req["criteria"]]
        current_name = (req["current_evidence"] or {}).get("name")
        if current_name:
            assert f"run {current_name} (" in trace.stdout and "<- current evidence" in (
                trace.stdout
            )
    md = run_justify("report", "--format", "markdown", "-o", "audit.md", cwd=project.root)
    assert md.returncode == 0, md.stderr
    text = (project.root / "audit.md").read_text()
    for rid, status in statuses.items():
        assert f"### {rid}: " in text and f"[{status}]" in text.split(f"### {rid}: ")[1]
    for m in report["models"]:
        label = f"{m['model']} version {m['version']}"
        assert label in text and m["verdict"].upper() in text.split(label)[1].splitlines()[0]
    overview = explore.overview(store, config.base_iri)
    assert {r["id"]: r["status"] for r in overview.requirements} == statuses
    assert {(m.model, m.version): m.verdict for m in explore.models(store, config.base_iri)} == {
        (m["model"], m["version"]): m["verdict"] for m in report["models"]
    }
    history = run_justify("history", cwd=project.root)
    latest: dict[str, str] = {}
    for line in history.stdout.splitlines()[2:]:
        parts = line.split()
        if len(parts) > 3 and parts[1] in statuses:
            latest[parts[1]] = parts[4]
    assert latest == statuses


def test_links_follow_edited_requirements_without_a_reimport(project: Project) -> None:
    """Re-scope one requirement and add another after the import: `justify load` and
    `justify check` judge them against the runs and models already imported."""
    path = project.root / "requirements" / "reqs.yaml"
    original = path.read_text()
    try:
        path.write_text(
            original.replace("model: clf@champion", "model: clf/2")
            + """  - id: REQ-CHALLENGER
    title: The challenger is accurate
    kind: performance
    status: approved
    model: clf@challenger
    criteria:
      - {metric: accuracy, op: ">=", threshold: 0.5}
"""
        )
        assert run_justify("load", cwd=project.root).returncode == 0
        # Before the next check, trace and report judge in memory, say so, and write nothing.
        config = load_config(project.root / "justify.toml")
        version = open_store(config).version()
        traced = run_justify("trace", "REQ-CHALLENGER", cwd=project.root)
        assert "graph changed after the last recorded check" in traced.stdout
        assert "[failing]" in traced.stdout.splitlines()[0]
        reported = run_justify("report", "-o", "later.md", "--format", "markdown",
                               cwd=project.root)  # fmt: skip
        assert (
            reported.returncode == 0 and "judged afresh" in (project.root / "later.md").read_text()
        )
        assert open_store(config).version() == version
        _, report = check(project.root)
        reqs = by_id(report)
        assert reqs["REQ-CHAMP"]["status"] == "failing"  # now version 2: accuracy 0.2
        assert reqs["REQ-CHALLENGER"]["status"] == "failing"
        assert reqs["REQ-CHALLENGER"]["criteria"][0]["value"] == "0.2"
        assert "JF-REFERENCE" not in {r["rule"] for r in report["results"]}
        history = run_justify("history", "REQ-CHAMP", cwd=project.root)
        assert "requirement edited" in history.stdout
    finally:
        path.write_text(original)
        assert run_justify("load", cwd=project.root).returncode == 0
