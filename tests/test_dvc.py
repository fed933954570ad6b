"""The DVC importer on real DVC projects built with the real `dvc` (`dvc init`, `dvc
add`, `dvc stage add`, `dvc repro`, `dvc exp run --set-param`); every param and metric
in the graph is compared with what `dvc exp show --json -A`, `dvc metrics show` and
`dvc params diff` print."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import run_justify, tool_environment, write

import justify
from justify.config import load_config

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-dvc"  # kept between runs (ignored by Git), like .venv
SPEC = "dvc>=3.0"
TRAIN = """import json, sys, tomllib, yaml
params = yaml.safe_load(open("params.yaml"))
extra = tomllib.load(open("extra.toml", "rb"))
rows = len(open("data/raw.csv").read().split())
acc = round(0.7 + params["train"]["lr"] + extra["model"]["depth"] / 100, 4)
json.dump({"acc": acc, "loss": {"train": 0.2, "test": 0.3}, "rows": rows,
           "note": "text is not a metric"}, open("metrics.json", "w"))
open("model.bin", "w").write(str(params))
"""
REQUIREMENTS = """requirements:
  - id: REQ-ACC-1
    title: Accurate
    kind: other
    status: approved
    criteria:
      - {metric: acc, op: ">=", threshold: 0.85, dataset: data/raw.csv}
  - id: REQ-TRAIL-1
    title: Named by a trailer
    kind: other
    status: draft
"""


@pytest.fixture(scope="session")
def dvc() -> Path:
    """The real `dvc`, installed from PyPI into its own environment (once)."""
    return tool_environment(VENV, SPEC, "dvc")


class Project:
    """A Git repository with a DVC pipeline, worked on with the real `git` and `dvc`."""

    def __init__(self, root: Path, dvc: Path) -> None:
        self.root, self.dvc_exe = root, dvc
        self.commits = 0
        root.mkdir(parents=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("JUSTIFY_", "GIT_"))},
            "PATH": f"{dvc.parent}:{os.environ['PATH']}",
            "GIT_AUTHOR_NAME": "Riley",
            "GIT_AUTHOR_EMAIL": "r@x",
            "GIT_COMMITTER_NAME": "Riley",
            "GIT_COMMITTER_EMAIL": "r@x",
            "DVC_NO_ANALYTICS": "1",
        }
        self.git("init", "-q", "-b", "main")

    def run(self, *args: str) -> str:
        done = subprocess.run(args, cwd=self.root, env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, f"{args}: {done.stderr}"
        return done.stdout

    def git(self, *args: str) -> str:
        return self.run("git", *args).strip()

    def dvc(self, *args: str) -> str:
        return self.run(str(self.dvc_exe), *args)

    def commit(self, message: str) -> str:
        """Commits a day apart in the past: runs are ordered by their commit's time, and
        experiments (which `dvc` commits with the real clock) come after them."""
        self.commits += 1
        when = f"2026-01-{self.commits:02d}T09:00:00+00:00"
        self.git("add", "-A")
        self.run("env", f"GIT_AUTHOR_DATE={when}", f"GIT_COMMITTER_DATE={when}", "git",
                 "commit", "-q", "-m", message)  # fmt: skip
        return self.git("rev-parse", "HEAD")


def params_yaml(lr: float, requirements: str = "[REQ-ACC-1]") -> str:
    return (
        f"train:\n  lr: {lr}\n  epochs: 3\n  layers: [8, 4]\n"
        f"justify:\n  requirements: {requirements}\n"
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, dvc: Path) -> Project:
    """The project, built once per module (DVC runs take seconds); copied per test."""
    p = Project(tmp_path_factory.mktemp("dvc") / "pipeline", dvc)
    p.dvc("init", "-q")
    write(p.root / "data" / "raw.csv", "\n".join(map(str, range(120))) + "\n")
    p.dvc("add", "-q", "data/raw.csv")
    write(p.root / "params.yaml", params_yaml(0.1))
    write(p.root / "extra.toml", "[model]\ndepth = 5\n")
    write(p.root / "train.py", TRAIN)
    write(p.root / "justify.toml", 'base_iri = "https://example.org/dvc/"\n')
    write(p.root / "requirements" / "reqs.yaml", REQUIREMENTS)
    write(p.root / ".gitignore", ".justify/\n")
    p.dvc(
        "stage", "add", "-q", "-n", "train",
        "-d", "train.py", "-d", "data/raw.csv",
        "-p", "train.lr,train.epochs", "-p", "extra.toml:model.depth",
        "-o", "model.bin", "-M", "metrics.json",
        f"{sys.executable} train.py",
    )  # fmt: skip
    p.dvc("repro", "-q")
    p.commit("First pipeline")
    write(p.root / "params.yaml", params_yaml(0.12))
    p.dvc("repro", "-q")
    p.commit("Raise the learning rate\n\nJustifies: REQ-TRAIL-1")
    p.dvc("exp", "run", "-q", "--set-param", "train.lr=0.2", "-n", "fast")
    p.dvc("exp", "run", "-q", "--set-param", "train.lr=0.05", "-n", "slow")
    p.git("checkout", "-q", "--", ".")  # exp run leaves its last params in the workspace
    return p


@pytest.fixture
def project(template: Project, tmp_path: Path) -> Project:
    copy = Project.__new__(Project)
    copy.__dict__.update(template.__dict__)
    copy.root = tmp_path / "pipeline"
    shutil.copytree(template.root, copy.root, symlinks=True)
    return copy


def flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: data}


def dvc_says(project: Project) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Per revision (commit sha or experiment name): its params and numeric metrics as
    `dvc exp show --json -A` prints them, flattened."""
    shown = json.loads(project.dvc("exp", "show", "--json", "-A"))
    found: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def take(entry: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        data = entry["data"]
        params: dict[str, Any] = {}
        for file, values in (data.get("params") or {}).items():
            for k, v in flat(values["data"]).items():
                params[k if file == "params.yaml" else f"{file}:{k}"] = v
        metrics = {
            k: v
            for values in (data.get("metrics") or {}).values()
            for k, v in flat(values["data"]).items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        return params, metrics

    for entry in shown:
        if entry["rev"] == "workspace":
            continue
        found[entry["rev"]] = take(entry)
        for experiment in entry.get("experiments") or []:
            for rev in experiment["revs"]:
                found[rev["name"]] = take(rev)
    return found


def graph_says(project: Project) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    config = load_config(project.root / "justify.toml")
    found: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    runs = justify.query(
        """SELECT ?sha ?title ?experiment WHERE { ?r a jf:Run ; jf:runId ?sha ;
             dcterms:title ?title ; rdfs:label ?experiment }""",
        config=config,
    ).values()
    names = {
        r["sha"]: (r["title"] if "experiment" in str(r["experiment"]) else r["sha"]) for r in runs
    }
    for r in justify.query(
        "SELECT ?sha ?key ?value WHERE { ?r jf:runId ?sha ; jf:hasParameter [ jf:key ?key ; "
        "jf:textValue ?value ] }",
        config=config,
    ).values():
        found.setdefault(str(names[r["sha"]]), ({}, {}))[0][str(r["key"])] = r["value"]
    for r in justify.query(
        "SELECT ?sha ?key ?value WHERE { ?r jf:runId ?sha ; jf:hasMeasurement ?m . "
        "?m jf:metricKey ?key ; jf:value ?value FILTER NOT EXISTS { ?m jf:onDataset ?d } }",
        config=config,
    ).values():
        found.setdefault(str(names[r["sha"]]), ({}, {}))[1][str(r["key"])] = float(str(r["value"]))
    return found


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def test_every_param_and_metric_of_every_commit_and_experiment_is_what_dvc_shows(
    project: Project,
) -> None:
    assert run_justify("load", cwd=project.root).returncode == 0
    result = run_justify("import", "dvc", cwd=project.root)
    assert result.returncode == 0, result.stderr
    assert "dvc full import" in result.stdout and "2 commits, 2 experiments" in result.stdout
    expected = dvc_says(project)
    got = graph_says(project)
    assert set(got) == set(expected) and {"fast", "slow"} <= set(got)
    for rev, (params, metrics) in expected.items():
        assert got[rev][0] == {k: as_text(v) for k, v in params.items()}, rev
        assert got[rev][1] == pytest.approx({k: float(v) for k, v in metrics.items()}), rev
    # The same values as `dvc metrics show -A` and `dvc params diff` for the commits.
    shown = json.loads(project.dvc("metrics", "show", "--json", "-A"))
    for sha, files in shown.items():
        if sha == "workspace":
            continue
        values = flat(files["data"]["metrics.json"]["data"])
        numeric = {k: v for k, v in values.items() if not isinstance(v, str)}
        assert got[sha][1] == pytest.approx(numeric)
    first, second = project.git("rev-list", "--reverse", "HEAD").splitlines()
    diff = json.loads(project.dvc("params", "diff", "--json", first, second))
    assert diff["params.yaml"]["train.lr"] == {"old": 0.1, "new": 0.12, "diff": pytest.approx(0.02)}
    assert (got[first][0]["train.lr"], got[second][0]["train.lr"]) == ("0.1", "0.12")

    # dvc.lock's deps and outs, with the hashes DVC recorded, and the experiments'
    # baseline commit.
    config = load_config(project.root / "justify.toml")
    lock = justify.query(
        """SELECT ?sha ?path ?digest WHERE { ?r jf:runId ?sha ; jf:usedDataset ?d .
             ?d dcterms:title ?path ; jf:digest ?digest }""",
        config=config,
    ).values()
    import yaml

    locked = yaml.safe_load((project.root / "dvc.lock").read_text())["stages"]["train"]["deps"]
    head = project.git("rev-parse", "HEAD")
    assert {(r["path"], r["digest"]) for r in lock if r["sha"] == head} == {
        (d["path"], d["md5"]) for d in locked
    }
    baselines = justify.query(
        "SELECT ?title ?commit WHERE { ?r rdfs:label ?l ; dcterms:title ?title ; "
        'jf:gitCommitSha ?commit FILTER (CONTAINS(?l, "experiment")) }',
        config=config,
    ).values()
    assert {(r["title"], r["commit"]) for r in baselines} == {("fast", second), ("slow", second)}


def test_links_and_the_judgement_of_a_criterion_on_a_stage_dependency(project: Project) -> None:
    """params `justify.requirements` and a `Justifies:` trailer link runs; a criterion
    with `dataset: data/raw.csv` is judged on the metric of the stage that used it."""
    project.dvc("exp", "remove", "fast")  # `slow` is the newest run, whatever the clock
    assert run_justify("load", cwd=project.root).returncode == 0
    assert run_justify("import", "dvc", cwd=project.root).returncode == 0
    config = load_config(project.root / "justify.toml")
    links = justify.query(
        "SELECT ?id (COUNT(?r) AS ?n) WHERE { ?r a jf:Run ; jf:supports/dcterms:identifier ?id }"
        " GROUP BY ?id",
        config=config,
    ).values()
    assert {r["id"]: int(str(r["n"])) for r in links} == {"REQ-ACC-1": 3, "REQ-TRAIL-1": 1}
    checked = run_justify("check", "--format", "json", cwd=project.root)
    report = json.loads(checked.stdout)
    acc = next(r for r in report["requirements"] if r["id"] == "REQ-ACC-1")
    (criterion,) = acc["criteria"]
    # The newest run is the experiment `slow` (lr 0.05): acc 0.80 on data/raw.csv.
    assert (criterion["verdict"], criterion["dataset"]) == ("not met", "data/raw.csv")
    assert float(criterion["value"]) == pytest.approx(0.8)
    assert acc["status"] == "failing"
    traced = run_justify("trace", "REQ-ACC-1", cwd=project.root).stdout
    assert "run slow" in traced and "via params or commit trailer" in traced


def test_incremental_imports_add_commits_and_drop_removed_experiments(project: Project) -> None:
    assert run_justify("import", "dvc", cwd=project.root).returncode == 0
    write(project.root / "params.yaml", params_yaml(0.3))
    project.dvc("repro", "-q")
    project.commit("Raise it again")
    project.dvc("exp", "remove", "fast")
    result = run_justify("import", "dvc", cwd=project.root)
    assert result.returncode == 0, result.stderr
    assert "incremental import" in result.stdout
    assert "1 commits, 0 experiments, 1 removed" in result.stdout
    got = graph_says(project)
    assert "fast" not in got and set(got) == set(dvc_says(project))
    assert run_justify("import", "dvc", cwd=project.root).stdout.count("0 commits") == 1


def test_a_file_that_cannot_be_read_is_named_and_the_graph_keeps_its_import(
    project: Project,
) -> None:
    assert run_justify("import", "dvc", cwd=project.root).returncode == 0
    config = load_config(project.root / "justify.toml")
    count = "SELECT (COUNT(?r) AS ?n) WHERE { ?r a jf:Run }"
    before = justify.query(count, config=config).values()
    write(project.root / "params.yaml", "train:\n  lr: [0.1\n")  # unclosed: line 3
    sha = project.commit("A broken params file")
    result = run_justify("import", "dvc", cwd=project.root)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"params.yaml:3 (at {sha[:8]})" in result.stderr
    assert justify.query(count, config=config).values() == before
    skipped = run_justify("import", "dvc", "--skip-invalid", cwd=project.root)
    assert skipped.returncode == 0 and f"(at {sha[:8]})" in skipped.stderr
    assert "1 revisions skipped" in skipped.stdout
    plain = project.root.parent / "plain"
    plain.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=plain, check=True)
    wrong = run_justify("import", "dvc", "--repo", str(plain), cwd=project.root)
    assert wrong.returncode == 2 and "is not a DVC project" in wrong.stderr


def test_the_readme_params_example_links_the_runs(project: Project) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## DVC") : readme.index("## OpenLineage")]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    write(project.root / "params.yaml", example)
    project.dvc("repro", "-q")
    sha = project.commit("The README's params\n\nJustifies: REQ-TRAIL-1")
    assert run_justify("load", cwd=project.root).returncode == 0
    assert run_justify("import", "dvc", cwd=project.root).returncode == 0
    linked = justify.query(
        "SELECT ?id ?sha WHERE { ?r jf:runId ?sha ; jf:supports/dcterms:identifier ?id }",
        config=load_config(project.root / "justify.toml"),
    ).values()
    assert {r["id"] for r in linked if r["sha"] == sha} == {"REQ-ACC-1", "REQ-TRAIL-1"}
