"""Time `justify check` with the fast engine and with pySHACL on the same graph,
and say whether their results are identical.

The graph (about 1,000,000 triples by default) has requirements with criteria,
runs with metrics linked by run tags, commits, and model versions with aliases,
with failures planted: missing evidence, missed thresholds, missing metrics,
stale requirements, unknown commits.

    python benchmarks/bench_check.py [--requirements 1000] [--runs 30000] [--skip-pyshacl]
                                     [--datasets]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Triple

import justify
from justify.iris import judgement_graphs
from justify.judgement import judge
from justify.store import EmbeddedStore, open_store

JF = "https://w3id.org/justify/ns#"
DC = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
XSD = "http://www.w3.org/2001/XMLSchema#"
BASE = "https://example.org/bench/"


def generate(
    requirements: int,
    runs: int,
    commits: int,
    metrics: int,
    seed: int = 7,
    *,
    datasets: bool = False,
) -> bytes:
    """The graph; with ``datasets``, MLflow 3's shape: half the criteria name a dataset,
    and the evidence runs record half their metrics per dataset and use two datasets."""
    rng = random.Random(seed)
    lines: list[str] = []

    def t(s: str, p: str, o: str) -> None:
        lines.append(f"{s} {p} {o} .\n")

    def lit(v: str) -> str:
        return f'"{v}"'

    def dbl(v: float) -> str:
        return f'"{v!r}"^^<{XSD}double>'

    def when(day: int, minute: int = 0) -> str:
        clock = f"{minute // 60 % 24:02d}:{minute % 60:02d}"
        return f'"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T{clock}:00Z"^^<{XSD}dateTime>'

    for c in range(commits):
        node = f"<{BASE}commit/c{c}>"
        t(node, RDF_TYPE, f"<{JF}Commit>")
        t(node, f"<{JF}gitCommitSha>", lit(f"c{c}"))
        t(node, f"<{JF}messageTitle>", lit(f"change {c}"))
        t(node, f"<{PROV}endedAtTime>", when(c % 200))
    for r in range(requirements):
        node = f"<{BASE}requirement/R{r}>"
        t(node, RDF_TYPE, f"<{JF}Requirement>")
        t(node, f"<{DC}identifier>", lit(f"R{r}"))
        t(node, f"<{DC}title>", lit(f"Requirement {r}"))
        t(node, f"<{JF}kind>", lit("performance"))
        t(node, f"<{JF}status>", lit("approved" if r % 10 else "draft"))
        t(node, f"<{JF}sourceFile>", lit("requirements/bench.yaml"))
        t(node, f"<{JF}sourceLine>", f'"{1 + r * 8}"^^<{XSD}integer>')
        crit = f"<{BASE}requirement/R{r}/criterion/1>"
        t(node, f"<{JF}hasCriterion>", crit)
        t(crit, RDF_TYPE, f"<{JF}AcceptanceCriterion>")
        t(crit, f"<{JF}metricKey>", lit(f"m{r % metrics}"))
        t(crit, f"<{JF}comparator>", lit(">="))
        t(crit, f"<{JF}threshold>", dbl(0.5))
        if datasets and r % 2 == 0:
            t(crit, f"<{JF}datasetRef>", lit("test" if r % 4 else "holdout"))
        if r % 50 == 7:  # stale: changed late in the year (a revision Git recorded)
            rev = f"<{BASE}git/revision/R{r}>"
            t(rev, f"<{JF}requirementId>", lit(f"R{r}"))
            t(rev, f"<{JF}revisedIn>", f"<{BASE}commit/c{199}>")
        if r % 20 == 3:  # scoped to a model: its champion's run is evidence too
            t(node, f"<{JF}scopeModelName>", lit(f"model-{r % 5}"))
            t(node, f"<{JF}scopeAlias>", lit("champion"))
            t(node, f"<{JF}modelScope>", lit(f"model-{r % 5}@champion"))
    for i in range(runs):
        node = f"<{BASE}run/{i}>"
        t(node, RDF_TYPE, f"<{JF}Run>")
        t(node, f"<{DC}title>", lit(f"run-{i}"))
        t(node, f"<{JF}runId>", lit(f"id{i}"))
        t(node, f"<{JF}runStatus>", lit("failed" if i % 97 == 0 else "finished"))
        t(node, f"<{PROV}startedAtTime>", when(i % 150, i // 150))  # distinct, like MLflow's
        t(node, f"<{PROV}endedAtTime>", when(i % 150, i // 150 + 1))
        sha = f"c{i % commits}" if i % 53 else f"missing{i}"
        t(node, f"<{JF}gitCommitSha>", lit(sha))
        t(node, f"<{JF}onCommit>", f"<{BASE}commit/{sha}>")
        if i % 3 == 0 and (i // 3) % requirements % 10 != 5:  # some requirements never get runs
            t(node, f"<{JF}supports>", f"<{BASE}requirement/R{(i // 3) % requirements}>")
        for k in range(metrics):
            if i % 41 == 0 and k == 0:
                continue  # a missing metric
            m = f"<{BASE}run/{i}/metric/m{k}>"
            t(node, f"<{JF}hasMeasurement>", m)
            t(m, f"<{JF}metricKey>", lit(f"m{k}"))
            t(m, f"<{JF}value>", dbl(round(rng.random(), 3)))
            if datasets and i % 6 == 0 and k % 2 == 0:
                t(m, f"<{JF}onDataset>", f"<{BASE}dataset/{'test' if k % 4 else 'train'}>")
        if datasets and i % 15 == 0:
            for name in ("test", "train"):
                t(node, f"<{JF}usedDataset>", f"<{BASE}dataset/{name}>")
    for v in range(5):
        node = f"<{BASE}model/model-{v}/1>"
        t(node, RDF_TYPE, f"<{JF}ModelVersion>")
        t(node, f"<{JF}versionNumber>", f'"1"^^<{XSD}integer>')
        t(node, f"<{JF}alias>", lit("champion"))
        t(node, f"<{JF}producedBy>", f"<{BASE}run/{v * 3}>")
        t(node, f"<{JF}versionOf>", f"<{BASE}model/model-{v}>")
        t(f"<{BASE}model/model-{v}>", RDF_TYPE, f"<{JF}RegisteredModel>")
        t(f"<{BASE}model/model-{v}>", f"<{DC}title>", lit(f"model-{v}"))
    if datasets:
        for name in ("test", "train", "holdout"):
            t(f"<{BASE}dataset/{name}>", RDF_TYPE, f"<{JF}Dataset>")
            t(f"<{BASE}dataset/{name}>", f"<{DC}title>", lit(name))
    return "".join(lines).encode()


def build_graph(args: argparse.Namespace) -> tuple[justify.Config, EmbeddedStore]:
    """A fresh project in ``args.workdir`` whose embedded store holds the generated graph."""
    if args.workdir.exists():
        shutil.rmtree(args.workdir)
    args.workdir.mkdir(parents=True)
    (args.workdir / "justify.toml").write_text(f'base_iri = "{BASE}"\n')
    config = justify.load_config(args.workdir / "justify.toml")
    # As justify's importers write it: keeping the judgement's graphs apart.
    store = EmbeddedStore(config.store_location, apart=judgement_graphs(config.base_iri))
    data = generate(
        args.requirements, args.runs, args.commits, args.metrics, datasets=args.datasets
    )
    with store.write() as writer:
        writer.load_ntriples(NamedNode(BASE + "graph/bench"), data)
    size = sum(store.graph_sizes().values())
    print(f"graph: {size:,} triples, {args.requirements} requirements, {args.runs} runs")
    return config, store


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requirements", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30_000)
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--metrics", type=int, default=20)
    parser.add_argument("--skip-pyshacl", action="store_true")
    parser.add_argument(
        "--datasets",
        action="store_true",
        help="per-dataset metrics and criteria that name a dataset (MLflow 3's shape)",
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/justify-bench-check"))
    args = parser.parse_args()
    config, store = build_graph(args)

    start = time.perf_counter()
    fast = judge(engine="fast", config=config, store=store)
    fast_s = time.perf_counter() - start
    print(
        f"fast engine:    {fast_s:8.2f} s  {len(fast.results)} results "
        f"({fast.count('violation')} violations, {fast.count('warning')} warnings)"
    )
    # The same check as users run it: a fresh process, history recorded, with the
    # bytecode an installed package has (pip compiles it; where PYTHONDONTWRITEBYTECODE
    # is set, as on some CI machines, every run would compile each module first:
    # 0.7 s here). An untimed run that records nothing writes it, elsewhere.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(args.workdir / "pycache")
    check = [sys.executable, "-m", "justify", "check", "--format", "json"]
    subprocess.run([*check, "--no-history"], cwd=args.workdir, env=env, capture_output=True)
    start = time.perf_counter()
    cli = subprocess.run(
        [*check, "-o", "report.json"], cwd=args.workdir, env=env, capture_output=True, text=True
    )
    cli_s = time.perf_counter() - start
    print(f"justify check:  {cli_s:8.2f} s  end to end in a new process (exit {cli.returncode})")
    # Every later check (each push) runs on a store that holds the recorded judgement.
    start = time.perf_counter()
    again = subprocess.run(
        [*check, "-o", "report.json"], cwd=args.workdir, env=env, capture_output=True, text=True
    )
    again_s = time.perf_counter() - start
    print(f"checked again:  {again_s:8.2f} s  after a recorded check (exit {again.returncode})")
    # CI's case: an import changed the data (here one new commit) since the last check.
    with open_store(config).write() as writer:
        commit = NamedNode(BASE + "commit/pushed")
        writer.add(NamedNode(BASE + "graph/bench"), [
            Triple(commit, NamedNode(RDF_TYPE[1:-1]), NamedNode(JF + "Commit")),
            Triple(commit, NamedNode(JF + "messageTitle"), Literal("pushed")),
        ])  # fmt: skip
    start = time.perf_counter()
    pushed = subprocess.run(
        [*check, "-o", "report.json"], cwd=args.workdir, env=env, capture_output=True, text=True
    )
    pushed_s = time.perf_counter() - start
    print(f"after an import:{pushed_s:8.2f} s  one commit more (exit {pushed.returncode})")
    if args.skip_pyshacl:
        return
    start = time.perf_counter()
    reference = judge(engine="pyshacl", config=config, store=store)
    ref_s = time.perf_counter() - start
    same = fast.results == reference.results and fast.requirements == reference.requirements
    print(f"pyshacl engine: {ref_s:8.2f} s  {len(reference.results)} results")
    print(f"ratio: fast is {ref_s / fast_s:.1f}x faster; results identical: {same}")


if __name__ == "__main__":
    main()
