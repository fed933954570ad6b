"""Time `justify import mlflow` against its floor: paging the same runs with
MlflowClient.search_runs and nothing else. Prints both and their ratio.

The tracking store (SQLite) is built once in --workdir and reused:
10,000 runs across 20 experiments, 20 params and 20 metrics each, 5 of the
metrics with 100-step histories, 100 runs tagged as evidence of requirements.

    python benchmarks/bench_mlflow.py [--runs 2000 --runs 10000] [--workdir DIR]

Each measured phase (the floor, the full import, the incremental one) runs in a
process of its own, which reports its time and its peak memory (max RSS). The store
floor is the time Oxigraph takes to write the imported graph alone (storefloor.py).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from storefloor import store_floor

import justify
from justify.importers.mlflow import import_mlflow

EXPERIMENTS = 20
PARAMS = 20
METRICS = 20
HISTORY_METRICS = 5
STEPS = 100
EVIDENCE_EVERY = 100  # 100 evidence runs in 10,000
REQUIREMENTS = 20


def build_store(uri: str, runs: int, *, start: int = 0) -> list[str]:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    client = MlflowClient(uri)
    experiments = []
    for e in range(EXPERIMENTS):
        found = client.get_experiment_by_name(f"exp-{e}")
        experiments.append(found.experiment_id if found else client.create_experiment(f"exp-{e}"))
    ids = []
    now = int(time.time() * 1000)
    for i in range(start, start + runs):
        tags = {"team": "bench"}
        if i % EVIDENCE_EVERY == 0:
            tags["justify.requirements"] = f"REQ-{i % REQUIREMENTS}"
        run = client.create_run(experiments[i % EXPERIMENTS], run_name=f"run-{i}", tags=tags)
        params = [Param(f"p{k}", str(i * k)) for k in range(PARAMS)]
        metrics = [Metric(f"m{k}", (i + k) / 1000, now, 0) for k in range(METRICS)]
        for k in range(HISTORY_METRICS):
            metrics += [Metric(f"m{k}", (i + k + s) / 1000, now + s, s) for s in range(1, STEPS)]
        for chunk in range(0, len(metrics), 1000):
            client.log_batch(
                run.info.run_id,
                metrics=metrics[chunk : chunk + 1000],
                params=params if chunk == 0 else [],
                tags=[RunTag("bench", "1")] if chunk == 0 else [],
            )
        client.set_terminated(run.info.run_id)
        ids.append(run.info.run_id)
        if (i - start + 1) % 1000 == 0:
            print(f"  logged {i - start + 1}/{runs} runs", flush=True)
    return ids


def history_calls(uri: str) -> tuple[float, int]:
    """The other MLflow calls the import must make: one get_metric_history per
    evidence run and criterion metric (MLflow has no bulk call for them)."""
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    ids = [e.experiment_id for e in client.search_experiments()]
    tagged = client.search_runs(ids, "tags.`justify.requirements` != ''", max_results=1000)
    start = time.perf_counter()
    for run in tagged:
        rid = run.data.tags["justify.requirements"]
        client.get_metric_history(run.info.run_id, f"m{int(rid.split('-')[1]) % HISTORY_METRICS}")
    return time.perf_counter() - start, len(tagged)


def floor(uri: str) -> tuple[float, int]:
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    client = MlflowClient(uri)
    start = time.perf_counter()
    ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    count, token = 0, None
    while True:
        page = client.search_runs(ids, max_results=1000, page_token=token)
        count += len(page)
        token = page.token
        if not token:
            break
    return time.perf_counter() - start, count


def workspace(folder: Path) -> justify.Config:
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "requirements").mkdir(parents=True)
    (folder / "justify.toml").write_text('base_iri = "https://example.org/bench/"\n')
    lines = ["requirements:"]
    for r in range(REQUIREMENTS):
        lines.append(
            f"  - id: REQ-{r}\n    title: Requirement {r}\n    kind: performance\n"
            f"    status: approved\n    criteria:\n      - metric: m{r % HISTORY_METRICS}\n"
            f'        op: ">="\n        threshold: 0.5\n'
        )
    (folder / "requirements" / "bench.yaml").write_text("\n".join(lines))
    config = justify.load_config(folder / "justify.toml")
    justify.load(config=config)
    return config


def _child(phase: str, uri: str, folder: Path) -> None:
    """One measured phase in its own process, so that its peak memory is its own."""
    warnings.simplefilter("ignore")
    import mlflow.tracking  # noqa: F401 - both phases start with MLflow imported

    start = time.perf_counter()
    detail = ""
    if phase == "floor":
        _, count = floor(uri)
        detail = f"{count} runs"
    else:
        config = justify.load_config(folder / "justify.toml")
        summary = import_mlflow(tracking_uri=uri, config=config, progress=False)
        detail = f"{summary['runs']} runs, {summary['metrics']} metrics, {summary['added']} added"
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "detail": detail}))


def measure(phase: str, uri: str, folder: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--uri", uri, "--folder", str(folder)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def bench(runs: int, workdir: Path) -> None:
    db = workdir / f"mlflow-{runs}.db"
    if not db.exists():
        print(f"building {db} with {runs} runs (once; reused later) ...", flush=True)
        tmp = workdir / "building.db"
        tmp.unlink(missing_ok=True)
        build_store(f"sqlite:///{tmp}", runs)
        tmp.rename(db)
    work = workdir / "run"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    shutil.copy(db, work / "mlflow.db")
    uri = f"sqlite:///{work / 'mlflow.db'}"
    config = workspace(work / "ws")

    # The measured phases first: Linux carries this process's peak memory over into
    # the programs it starts, and the MLflow calls below make it grow.
    floor_run = measure("floor", uri, work / "ws")
    full = measure("import", uri, work / "ws")
    size = next(g.triples for g in justify.status(config=config) if g.kind == "mlflow")
    store_s, store_mb = store_floor(config, "mlflow")
    history_s, histories = history_calls(uri)
    build_store(uri, 100, start=runs)
    floor2 = measure("floor", uri, work / "ws")
    incremental = measure("import", uri, work / "ws")

    f, i = floor_run["seconds"], full["seconds"]
    print(f"\n{runs} runs in {EXPERIMENTS} experiments; graph: {size:,} triples")
    print(f"  floor (search_runs paging only): {f:7.2f} s  peak {floor_run['peak_mb']:5.0f} MB")
    print(f"  floor + {histories} get_metric_history calls: {f + history_s:7.2f} s")
    print(
        f"  justify import mlflow, full:     {i:7.2f} s  peak {full['peak_mb']:5.0f} MB  "
        f"({i / f:.2f}x floor; {i / (f + history_s):.2f}x with the history calls; "
        f"memory {full['peak_mb'] / floor_run['peak_mb']:.2f}x floor)  [{full['detail']}]"
    )
    print(
        f"  store floor (that graph's N-Triples bulk-loaded alone into an empty on-disk store): "
        f"{store_s:.2f} s = {store_s / f:.2f}x floor, peak {store_mb:.0f} MB"
    )
    print(
        f"  after 100 new runs: floor {floor2['seconds']:.2f} s; incremental import "
        f"{incremental['seconds']:.2f} s, peak {incremental['peak_mb']:.0f} MB  "
        f"[{incremental['detail']}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, action="append", help="repeatable (default 10000)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/justify-bench-mlflow"))
    parser.add_argument("--phase", choices=("floor", "import"), help=argparse.SUPPRESS)
    parser.add_argument("--uri", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        _child(args.phase, args.uri, args.folder)
        return
    warnings.simplefilter("ignore")
    args.workdir.mkdir(parents=True, exist_ok=True)
    for runs in args.runs or [10_000]:
        bench(runs, args.workdir)


if __name__ == "__main__":
    main()
