"""``justify demo``: a small tumour-screening workspace, end to end.

It writes requirement files into a new Git repository, commits them and the
training code (with a ``Justifies:`` trailer), runs that code: a real
scikit-learn model on a dataset that ships with scikit-learn (breast cancer,
malignant = positive), logged to an MLflow SQLite store in the workspace and
registered with the alias ``champion``. A reviewer then tightens one
requirement. Everything is loaded and imported into the embedded store, and
the graph is queried.
"""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from justify._query import query
from justify._sync import Summary, sync
from justify.config import Config, load_config
from justify.errors import UsageError
from justify.graphs import export
from justify.importers import registered_importers
from justify.importers.mlflow import quiet_mlflow
from justify.importers.openlineage import lineage_receiver
from justify.judgement import Judgement, check, judge, judge_files
from justify.store import QueryResult

MARKER = ".justify-demo"
EXPERIMENT = "screening-training"
MODEL = "screening-model"
# The judged values: each criterion, the current evidence, the value it is judged on
# and the dataset that value was recorded for (derived by the last check).
EVIDENCE_QUERY = """
SELECT ?requirement ?run ?metric ?value ?dataset ?verdict ?commit ?author WHERE {
  ?req a jf:Requirement ; dcterms:identifier ?requirement ; jf:hasCriterion ?c ;
       jf:currentEvidence ?r .
  ?c jf:metricKey ?metric ; jf:criterionVerdict ?verdict .
  ?r dcterms:title ?run ; jf:hasMeasurement ?m . ?m jf:judgedFor ?c ; jf:value ?value .
  OPTIONAL { ?m jf:onDataset/dcterms:title ?dataset }
  OPTIONAL { ?r jf:onCommit ?k . ?k jf:messageTitle ?commit ; jf:author/jf:personName ?author }
}
ORDER BY ?requirement ?metric
"""

# The latency stage's runs, one per commit of its DVC files.
DVC_QUERY = """
SELECT ?run ?batch ?p95 ?requirement WHERE {
  ?r a jf:Run ; dcterms:title ?run ;
     jf:hasParameter [ jf:key "latency.batch_size" ; jf:textValue ?batch ] ;
     jf:hasMeasurement ?m .
  ?m jf:metricKey "p95_latency_ms" ; jf:value ?p95 .
  FILTER NOT EXISTS { ?m jf:onDataset ?on }
  OPTIONAL { ?r jf:supports/dcterms:identifier ?requirement }
}
ORDER BY ?run
"""

# What the pipeline's validation job reported (OpenLineage data-quality facets).
LINEAGE_QUERY = """
SELECT ?job ?status ?parent ?dataset ?version ?figure ?value WHERE {
  VALUES ?job { "validate-training-data" }
  ?r a jf:Run ; jf:inExperiment/dcterms:title ?job ; jf:runStatus ?status ;
     jf:hasMeasurement ?m .
  ?m jf:metricKey ?figure ; jf:value ?value ; jf:onDataset ?d .
  ?d dcterms:title ?dataset OPTIONAL { ?d jf:digest ?version }
  OPTIONAL { ?r jf:parentRun/jf:inExperiment/dcterms:title ?parent }
}
ORDER BY ?figure
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
    judgement: Judgement
    lineage: QueryResult
    dvc: QueryResult
    runs: dict[str, str] = field(default_factory=dict)
    # The team's own shapes (team-shapes/) tried on the exported requirements.
    team_check: Judgement | None = None


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
    # The demo's own files and what it wrote, made fresh each time; the MLflow store
    # is kept, so a second demo adds runs and a new champion version to it.
    for name in (
        "requirements",
        "patterns",
        ".dvc",
        "dvc.yaml",
        "dvc.lock",
        "params.yaml",
        "metrics",
        "latency.py",
        "team-shapes",
        "reports",
        ".justify",
        ".git",
        "train.py",
    ):
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    _copy_tree(resources.files("justify") / "templates" / "demo", root)
    (root / MARKER).write_text("made by `justify demo`; safe to delete\n", encoding="utf-8")
    return root


DEMO_AUTHOR = ("Dana Scientist", "dana@example.org")
REVIEWER = ("Riley Reviewer", "riley@example.org")


def _git(
    root: Path, *args: str, author: tuple[str, str] = DEMO_AUTHOR, when: str | None = None
) -> str:
    """Run git in the workspace as the demo's people (the user's own config is untouched)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": author[0],
        "GIT_COMMITTER_EMAIL": author[1],
    }
    if when:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when
    try:
        result = subprocess.run(
            ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError as exc:
        raise UsageError("the demo needs the git command", hint="install Git") from exc
    if result.returncode != 0:
        raise UsageError(f"git {' '.join(args)} failed in {root}: {result.stderr.strip()}")
    return result.stdout.strip()


def make_history(root: Path) -> None:
    """Commit the requirements, a DVC latency stage at two batch sizes, then the
    training code with a Justifies: trailer.

    Fixed dates make the same commits (same shas) on every demo run, so runs
    logged by an earlier demo still join to their commit.
    """
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(
        root,
        "commit",
        "-q",
        "-m",
        "Add the screening requirements",
        when="2026-01-05T09:00:00+00:00",
    )
    # The platform team measures scoring latency in a DVC stage: what `dvc stage add`
    # and `dvc repro` wrote (dvc.yaml, dvc.lock, params.yaml, metrics/latency.json) at
    # two batch sizes, committed as they would be. `justify import dvc` reads them
    # back from Git, without dvc.
    stage = resources.files("justify") / "templates" / "demo_dvc"
    for name, target in (("dvc-config", ".dvc/config"), ("dvc-gitignore", ".dvc/.gitignore"),
                         ("dvc.yaml", "dvc.yaml"), ("latency.py", "latency.py")):  # fmt: skip
        path = root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((stage / "common" / name).read_bytes())
    for version, title, when in (
        ("v1", "Measure scoring latency in a DVC stage (batches of 128)", "12:00"),
        ("v2", "Score in batches of 32: p95 latency under 50 ms", "15:00"),
    ):
        _copy_tree(stage / version, root)
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", title, when=f"2026-01-05T{when}:00+00:00")
    template = resources.files("justify") / "templates" / "demo_code" / "train.py"
    (root / "train.py").write_bytes(template.read_bytes())
    _git(root, "add", "train.py")
    _git(
        root,
        "commit",
        "-q",
        "-m",
        "Add the training script\n\nJustifies: REQ-REC-1, REQ-PREC-1",
        when="2026-01-06T09:00:00+00:00",
    )


def tighten_precision(root: Path) -> None:
    """After training, a reviewer raises REQ-PREC-1's threshold: its evidence is now stale."""
    path = root / "requirements" / "performance.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("precision of at least 0.80", "precision of at least 0.90")
    text = text.replace("threshold: 0.80", "threshold: 0.90")
    path.write_text(text, encoding="utf-8")
    time.sleep(1.1)  # Git records whole seconds: the change must land after the runs ended
    _git(root, "commit", "-q", "-am", "Tighten the precision requirement to 0.90", author=REVIEWER)


def log_demo_runs(root: Path, tracking_uri: str, lineage: str | None = None) -> dict[str, str]:
    """Run the workspace's own train.py: the data validation (OpenLineage events to
    ``lineage``), a baseline and a registered candidate."""
    from mlflow import MlflowClient  # before quiet_mlflow(): importing sets MLflow's log levels

    with quiet_mlflow():
        MlflowClient(tracking_uri=tracking_uri).search_experiments(max_results=1)  # makes the db
        train = runpy.run_path(str(root / "train.py"))
        runs: dict[str, str] = train["main"](tracking_uri, lineage)
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
    make_history(root)
    say(
        "committed the requirements, a DVC latency stage at two batch sizes, then train.py "
        "(Justifies: REQ-REC-1, REQ-PREC-1)"
    )
    # The pipeline's OpenLineage events arrive over HTTP, as from a scheduler.
    receiver = lineage_receiver(
        events=root / "lineage", port=0, config=config, log=lambda _line: None
    )
    say(f"$ justify lineage receive --events lineage/   (in the background, at {receiver.url})")
    threading.Thread(target=receiver.serve, daemon=True).start()
    say("validating the training data, then training a baseline and a candidate model ...")
    try:
        runs = log_demo_runs(root, tracking_uri, receiver.url)
    finally:
        receiver.stop()
    say(
        f"the validation job sent {receiver.received} OpenLineage events (row count, nulls, "
        "assertions) to the receiver, which appended them to lineage/"
    )
    say(f"logged runs {', '.join(runs)}; registered {MODEL} with alias champion")
    tighten_precision(root)
    say("a reviewer then tightened REQ-PREC-1 to 0.90 (its evidence is now older than it)")
    found = ", ".join(registered_importers())
    say(f"$ justify sync   (importers, in order: {found}; a plug-in package adds more)")
    synced = sync(config=config, progress=progress, echo=say)
    judgement = check(config=config)  # recorded, as CI would: the queries below read it
    # The next check with nothing changed (a re-run, a shape edited) reuses the links
    # the rules derived; it records nothing here.
    told: list[str] = []
    again = judge(config=config, say=told.append)
    reused = next((m for m in told if m.startswith("derived links")), "rules applied again")
    same = "the same" if again.results == judgement.results else "DIFFERENT"
    say(f"$ justify check --verbose   (again, nothing changed): {reused}; {same} results")
    exported = root / "reports" / "requirements.ttl"
    exported.parent.mkdir(exist_ok=True)
    export("turtle", graph="requirements", output=exported, config=config)
    team_check = judge_files([exported], [root / "team-shapes"])
    return DemoResult(
        directory=root,
        config=config,
        synced=synced,
        requirements=query("requirements", config=config),
        evidence=query(EVIDENCE_QUERY, config=config),
        unjustified=query("unjustified", config=config),
        judgement=judgement,
        lineage=query(LINEAGE_QUERY, config=config),
        dvc=query(DVC_QUERY, config=config),
        runs=runs,
        team_check=team_check,
    )
