"""Time `justify import openlineage` against its floor: reading the same files and
JSON-parsing every event. Prints both and their ratio, the schema validation alone,
the store floor (the time Oxigraph takes to write that graph alone, see
storefloor.py), then an incremental import of 1,000 appended events.

The events (default 100,000 in 10 JSON-lines files) look like a scheduler's: each task
run sends START and COMPLETE (a few FAIL), runs have a parent DAG run, read one
dataset and write another, and one COMPLETE in five carries data-quality metrics and
assertions. They are written once in --workdir and reused.

    python benchmarks/bench_openlineage.py [--events 100000] [--files 10]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storefloor import store_floor

import justify
from justify.importers.openlineage import import_openlineage
from justify.importers.openlineage._events import problem

PRODUCER = "https://example.org/bench"
BASE = "https://openlineage.io/spec/facets/1-0-0/"


def facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": BASE + "Facet.json", **fields}


def events(count: int, seed: int = 7, start: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=start)
    out: list[dict[str, Any]] = []
    dag = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    n = start
    while len(out) < count:
        if n % 20 == 0:
            dag = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        job = {"namespace": "airflow", "name": f"task_{n % 200}"}
        table = f"warehouse.table_{n % 500}"
        run = {
            "runId": run_id,
            "facets": {
                "parent": facet(
                    run={"runId": dag}, job={"namespace": "airflow", "name": f"dag_{n % 10}"}
                )
            },
        }
        if n % 50 == 0:
            run["facets"]["justify"] = facet(requirements=[f"REQ-{n % 7}"])
        began = t0 + timedelta(seconds=30 * n)
        base = {"producer": PRODUCER, "schemaURL": BASE + "OpenLineage.json", "job": job}
        out.append(
            {
                **base,
                "eventType": "START",
                "eventTime": began.isoformat(),
                "run": run,
                "inputs": [{"namespace": "postgres://db", "name": table}],
            }
        )
        inputs: list[dict[str, Any]] = [{"namespace": "postgres://db", "name": table}]
        if n % 5 == 0:
            inputs[0]["inputFacets"] = {
                "dataQualityMetrics": facet(
                    rowCount=rng.randint(1000, 100000),
                    columnMetrics={
                        "id": {"nullCount": 0, "distinctCount": 900},
                        "amount": {"nullCount": rng.randint(0, 3)},
                    },
                ),
                "dataQualityAssertions": facet(
                    assertions=[
                        {"assertion": "not_null", "success": True, "column": "id"},
                        {"assertion": "unique", "success": rng.random() > 0.05, "column": "id"},
                    ]
                ),
            }
        out.append(
            {
                **base,
                "eventType": "FAIL" if n % 97 == 0 else "COMPLETE",
                "eventTime": (began + timedelta(seconds=25)).isoformat(),
                "run": {"runId": run_id},
                "inputs": inputs,
                "outputs": [{"namespace": "postgres://db", "name": table + "_out"}],
            }
        )
        n += 1
    return out[:count]


def write(folder: Path, data: list[dict[str, Any]], files: int) -> None:
    folder.mkdir(parents=True)
    per = -(-len(data) // files)
    for i in range(files):
        chunk = data[i * per : (i + 1) * per]
        with (folder / f"events-{i:03d}.jsonl").open("w") as f:
            f.writelines(json.dumps(e) + "\n" for e in chunk)


def floor(folder: Path) -> float:
    start = time.perf_counter()
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as f:
            for line in f:
                json.loads(line)
    return time.perf_counter() - start


def validation(folder: Path) -> float:
    parsed = [json.loads(line) for p in sorted(folder.glob("*.jsonl")) for line in p.open("rb")]
    problem(parsed[0])  # builds the validators
    start = time.perf_counter()
    bad = sum(1 for e in parsed if problem(e) is not None)
    assert bad == 0, f"{bad} generated events are invalid"
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/justify-bench-openlineage"))
    args = parser.parse_args()
    source = args.workdir / f"events-{args.events}-{args.files}"
    if not source.exists():
        print(f"writing {args.events:,} events into {source} (once; reused later) ...", flush=True)
        write(source, events(args.events), args.files)
    work = args.workdir / "work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work / "lineage")
    (work / "justify.toml").write_text('base_iri = "https://example.org/bench/"\n')
    config = justify.load_config(work / "justify.toml")

    size = sum(p.stat().st_size for p in source.glob("*.jsonl"))
    floor_s = min(floor(source) for _ in range(3))
    validate_s = validation(source)
    start = time.perf_counter()
    full = import_openlineage(events=work / "lineage", full=True, config=config, progress=False)
    full_s = time.perf_counter() - start
    triples = next(g.triples for g in justify.status(config=config) if g.kind == "openlineage")
    store_s, store_mb = store_floor(config, "openlineage")

    more = events(1000, seed=11, start=args.events)
    with (work / "lineage" / "events-000.jsonl").open("a") as f:
        f.writelines(json.dumps(e) + "\n" for e in more)
    start = time.perf_counter()
    incremental = import_openlineage(events=work / "lineage", config=config, progress=False)
    incremental_s = time.perf_counter() - start

    print(
        f"events: {full['events']:,} in {args.files} files ({size / 1e6:.0f} MB); "
        f"runs: {full['runs']:,}; graph: {triples:,} triples"
    )
    print(f"floor (read + json.loads every event): {floor_s:7.2f} s")
    print(f"schema validation alone (jsonschema-rs): {validate_s:5.2f} s")
    print(
        f"justify import openlineage, full:      {full_s:7.2f} s  ({full_s / floor_s:.2f}x floor)"
    )
    print(
        f"store floor (that graph's N-Triples bulk-loaded alone into an empty on-disk "
        f"store): {store_s:.2f} s = {store_s / floor_s:.2f}x floor, peak {store_mb:.0f} MB"
    )
    print(
        f"justify import openlineage, 1,000 appended events: {incremental_s:5.2f} s  "
        f"[{incremental['events']} read, {incremental['new runs']} new runs]"
    )


if __name__ == "__main__":
    main()
