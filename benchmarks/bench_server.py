"""The embedded store and a SPARQL server side by side: the same MLflow import and
the same `justify check`, timed on each. The embedded store is the baseline,
measured in the same run.

Starts a real Virtuoso Open Source server (Debian's virtuoso-opensource) in
--workdir on 127.0.0.1. Uses the 10,000-run MLflow store of bench_mlflow.py
(built there once) and the graph of bench_check.py.

    python benchmarks/bench_server.py [--runs 10000] [--requirements 1000] [--check-runs 30000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode

import justify
from justify.importers.mlflow import import_mlflow
from justify.judgement import check
from justify.store import GraphStore, open_store

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from bench_check import BASE, generate  # noqa: E402
from bench_mlflow import build_store, workspace  # noqa: E402

from tests.servers import VirtuosoServer  # noqa: E402


def timed(what: str, action: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = action()
    took = time.perf_counter() - start
    print(f"  {what:<34} {took:8.2f} s", flush=True)
    return took, value


def wipe(store: GraphStore) -> None:
    with store.write() as writer:
        for name in store.graph_names():
            writer.drop_graph(NamedNode(name))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000, help="MLflow runs to import")
    parser.add_argument("--requirements", type=int, default=1000)
    parser.add_argument("--check-runs", type=int, default=30_000)
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/justify-bench-server"))
    parser.add_argument("--mlflow-workdir", type=Path, default=Path("/tmp/justify-bench-mlflow"))
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.workdir.exists():
        shutil.rmtree(args.workdir)
    args.workdir.mkdir(parents=True)

    db = args.mlflow_workdir / f"mlflow-{args.runs}.db"
    if not db.exists():
        print(f"building {db} with {args.runs} runs (once; bench_mlflow.py reuses it) ...")
        args.mlflow_workdir.mkdir(parents=True, exist_ok=True)
        build_store(f"sqlite:///{db}", args.runs)
    uri = f"sqlite:///{args.workdir / 'mlflow.db'}"
    shutil.copy(db, args.workdir / "mlflow.db")

    server = VirtuosoServer(args.workdir / "virtuoso").start()
    os.environ.update(
        {
            "JUSTIFY_STORE_USER": server.user,
            "JUSTIFY_STORE_PASSWORD": server.password,
            "JUSTIFY_STORE_GRAPH_STORE_URL": server.graph_store_url,
        }
    )
    figures: dict[str, dict[str, float]] = {"embedded": {}, "server": {}}
    results: dict[str, list[tuple[str, str, str]]] = {}
    try:
        for kind in ("embedded", "server"):
            print(f"{kind}:", flush=True)
            # MLflow: a full import of the 10,000-run store.
            config = workspace(args.workdir / f"mlflow-{kind}")
            if kind == "server":
                config = justify.load_config(config.file, overrides={"store": server.query_url})
                wipe(open_store(config))
                justify.load(config=config)
            figures[kind]["import"], _ = timed(
                f"import mlflow ({args.runs} runs)",
                lambda c=config: import_mlflow(tracking_uri=uri, config=c, progress=False),
            )
            # The checks benchmark's graph, then the check.
            folder = args.workdir / f"check-{kind}"
            folder.mkdir()
            (folder / "justify.toml").write_text(f'base_iri = "{BASE}"\n')
            overrides = {"store": server.query_url} if kind == "server" else None
            config = justify.load_config(folder / "justify.toml", overrides=overrides)
            store = open_store(config)
            if kind == "server":
                wipe(store)
            data = generate(args.requirements, args.check_runs, args.commits, 20)

            def load(s: GraphStore = store, d: bytes = data) -> None:
                with s.write() as writer:
                    writer.load_ntriples(NamedNode(BASE + "graph/bench"), d)

            figures[kind]["load"], _ = timed("load the check graph", load)
            size = sum(store.graph_sizes().values())
            print(f"  (graph: {size:,} triples, {args.requirements} requirements)")
            figures[kind]["check"], report = timed(
                "justify check (fast engine)",
                lambda c=config, s=store: check(engine="fast", config=c, store=s),
            )
            results[kind] = sorted((r.rule, r.focus, r.severity) for r in report.results)
    finally:
        server.stop()

    print()
    print(f"{'':<34} {'embedded':>10} {'server':>10} {'server/embedded':>16}")
    for key, label in (
        ("import", f"import mlflow, {args.runs} runs"),
        ("load", "load the check graph"),
        ("check", "justify check"),
    ):
        e, s = figures["embedded"][key], figures["server"][key]
        print(f"{label:<34} {e:9.2f}s {s:9.2f}s {s / e:15.1f}x")
    same = results["embedded"] == results["server"]
    print(
        f"check results on the server: {len(results['server'])}; same rules and focus nodes: {same}"
    )


if __name__ == "__main__":
    main()
