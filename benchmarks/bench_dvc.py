"""Time `justify import dvc` against its floor: `git log -p` over the same paths (the
history of the pipeline's files, their contents as patches). Prints both and their
ratio, the store floor (the time Oxigraph takes to write that graph alone, see
storefloor.py), then times an incremental import of 10 new commits.

The repository (default 1,000 commits, each changing params.yaml, metrics.json and
dvc.lock of a two-stage pipeline, as `dvc repro` would) is made with git fast-import,
without `dvc`, once in --workdir and reused.

    python benchmarks/bench_dvc.py [--commits 1000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import time
from pathlib import Path

from storefloor import store_floor

import justify
from justify.importers.dvc import import_dvc

PIPELINE = """stages:
  prepare:
    cmd: python prepare.py
    deps: [data/raw.csv, prepare.py]
    params: [prepare.split]
    outs: [data/prepared]
  train:
    cmd: python train.py
    deps: [data/prepared, train.py]
    params: [train.lr, train.epochs, train.layers]
    outs: [model.pkl]
    metrics:
    - metrics.json:
        cache: false
"""
PATHS = ["dvc.yaml", "dvc.lock", "params.yaml", "metrics.json"]


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # the hash DVC records


def files(i: int, rng: random.Random) -> dict[str, str]:
    lr = round(rng.uniform(0.001, 0.3), 4)
    params = (
        f"prepare:\n  split: {0.2 + (i % 3) / 10}\ntrain:\n  lr: {lr}\n  epochs: {5 + i % 20}\n"
        f"  layers: [64, 32]\njustify:\n  requirements: [REQ-{i % 5}]\n"
    )
    metrics = json.dumps(
        {
            "acc": round(0.7 + lr, 4),
            "loss": {"train": rng.random(), "test": rng.random()},
            "auc": {"macro": rng.random(), "micro": rng.random()},
        }
    )
    raw, model = md5(f"raw{i // 50}"), md5(f"model{i}")
    lock = f"""schema: '2.0'
stages:
  prepare:
    cmd: python prepare.py
    deps:
    - path: data/raw.csv
      hash: md5
      md5: {raw}
      size: 1000
    - path: prepare.py
      hash: md5
      md5: {md5("prepare")}
      size: 100
    params:
      params.yaml:
        prepare.split: {0.2 + (i % 3) / 10}
    outs:
    - path: data/prepared
      hash: md5
      md5: {md5(raw)}.dir
      size: 900
  train:
    cmd: python train.py
    deps:
    - path: data/prepared
      hash: md5
      md5: {md5(raw)}.dir
      size: 900
    - path: train.py
      hash: md5
      md5: {md5("train")}
      size: 200
    params:
      params.yaml:
        train.lr: {lr}
    outs:
    - path: metrics.json
      hash: md5
      md5: {md5(metrics)}
      size: {len(metrics)}
    - path: model.pkl
      hash: md5
      md5: {model}
      size: 5000
"""
    return {"params.yaml": params, "metrics.json": metrics, "dvc.lock": lock}


def build(repo: Path, commits: int) -> None:
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    rng = random.Random(3)
    stream: list[bytes] = []
    for i in range(commits):
        changed = files(i, rng)
        if i == 0:
            changed |= {"dvc.yaml": PIPELINE, ".dvc/config": "", "train.py": "", "prepare.py": ""}
        message = f"experiment {i}\n".encode()
        who = f"Dev <dev@example.org> {1_700_000_000 + i * 600} +0000\n".encode()
        stream += [b"commit refs/heads/main\n", b"author " + who, b"committer " + who]
        stream.append(b"data %d\n" % len(message) + message)
        for path, text in changed.items():
            data = text.encode()
            stream.append(f"M 100644 inline {path}\n".encode() + b"data %d\n" % len(data) + data)
        stream.append(b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(stream), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=repo, check=True)


def floor(repo: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["git", "log", "--branches", "--tags", "-p", "--format=%H%x1f%cI%x1f%s", "--", *PATHS],
        cwd=repo,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/justify-bench-dvc"))
    args = parser.parse_args()
    source = args.workdir / f"repo-{args.commits}"
    if not source.exists():
        print(f"building {source} ({args.commits} commits, once; reused later) ...", flush=True)
        build(source, args.commits)
    repo = args.workdir / "work"
    shutil.rmtree(repo, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", "--no-local", str(source), str(repo)], check=True)
    (repo / ".dvc").mkdir(exist_ok=True)
    (repo / "justify.toml").write_text(
        'base_iri = "https://example.org/bench/"\nstore = "../store"\n'
    )
    shutil.rmtree(args.workdir / "store", ignore_errors=True)
    config = justify.load_config(repo / "justify.toml")

    floor_s = min(floor(repo) for _ in range(3))
    start = time.perf_counter()
    full = import_dvc(config=config, progress=False)
    full_s = time.perf_counter() - start
    size = next(g.triples for g in justify.status(config=config) if g.kind == "dvc")
    store_s, store_mb = store_floor(config, "dvc")

    rng = random.Random(9)
    for i in range(args.commits, args.commits + 10):
        for path, text in files(i, rng).items():
            (repo / path).write_text(text)
        subprocess.run(["git", "commit", "-qam", f"more {i}"], cwd=repo, check=True)
    start = time.perf_counter()
    incremental = import_dvc(config=config, progress=False)
    incremental_s = time.perf_counter() - start

    print(
        f"commits: {full['commits']:,}; params: {full['params']:,}, metrics: "
        f"{full['metrics']:,}; graph: {size:,} triples"
    )
    print(f"floor (git log -p over {', '.join(PATHS)}): {floor_s:7.2f} s")
    print(f"justify import dvc, full:      {full_s:7.2f} s  ({full_s / floor_s:.2f}x floor)")
    print(
        f"store floor (that graph's N-Triples bulk-loaded alone into an empty on-disk "
        f"store): {store_s:.2f} s = {store_s / floor_s:.2f}x floor, peak {store_mb:.0f} MB"
    )
    print(
        f"justify import dvc, 10 new commits: {incremental_s:5.2f} s  "
        f"[{incremental['commits']} read]"
    )


if __name__ == "__main__":
    main()
