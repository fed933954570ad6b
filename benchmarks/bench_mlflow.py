"""Time `justify import mlflow` against its floor: paging the same runs with
MlflowClient.search_runs and nothing else. Prints both and their ratio.

The tracking store (SQLite) is built once in --workdir and reused:
10,000 runs across 20 experiments, 20 params and 20 metrics each, 5 of the
metrics with 100-step histories, 100 runs tagged as evidence of requirements.

    python benchmarks/bench_mlflow.py [--runs 10000] [--workdir /tmp/justify-bench-mlflow]
"""

from __future__ import annotations

import argparse
import shutil
import time
import warnings
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/justify-bench-mlflow"))
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = args.workdir / f"mlflow-{args.runs}.db"
    uri = f"sqlite:///{db}"
    if not db.exists():
        print(f"building {db} with {args.runs} runs (once; reused later) ...", flush=True)
        tmp = args.workdir / "building.db"
        tmp.unlink(missing_ok=True)
        build_store(f"sqlite:///{tmp}", args.runs)
        tmp.rename(db)
    work = args.workdir / "run"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    shutil.copy(db, work / "mlflow.db")
    uri = f"sqlite:///{work / 'mlflow.db'}"

    floor_s, count = floor(uri)
    history_s, histories = history_calls(uri)
    config = workspace(work / "ws")
    start = time.perf_counter()
    full = import_mlflow(tracking_uri=uri, config=config, progress=False)
    full_s = time.perf_counter() - start
    triples = justify.status(config=config)
    size = next(g.triples for g in triples if g.kind == "mlflow")

    build_store(uri, 100, start=args.runs)
    start = time.perf_counter()
    incremental = import_mlflow(tracking_uri=uri, config=config, progress=False)
    incremental_s = time.perf_counter() - start
    floor2_s, _ = floor(uri)

    print(f"runs: {count} in {EXPERIMENTS} experiments; graph: {size:,} triples")
    print(f"floor (search_runs paging only):   {floor_s:7.2f} s")
    print(f"floor + {histories} get_metric_history calls: {floor_s + history_s:6.2f} s")
    print(
        f"justify import mlflow, full:       {full_s:7.2f} s  ({full_s / floor_s:.2f}x floor; "
        f"{full_s / (floor_s + history_s):.2f}x floor with history calls)"
        f"  [{full['runs']} runs, {full['metrics']} metrics]"
    )
    print(f"floor after 100 new runs:          {floor2_s:7.2f} s")
    print(
        f"justify import mlflow, incremental: {incremental_s:6.2f} s  "
        f"[{incremental.runs} runs read, {incremental.added} added]"
    )


if __name__ == "__main__":
    main()
