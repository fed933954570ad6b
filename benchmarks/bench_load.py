"""Time `justify load` on many requirements against its floor: PyYAML parsing the
same files and nothing else. Prints both and their ratio.

    python benchmarks/bench_load.py [--requirements 5000] [--files 50]

With ``--size-mb N`` it writes one requirement file of about N MB instead and runs
`justify load` as a separate process, printing its time and peak memory against the
floor of libyaml reading the same file's events (also a separate process).

    python benchmarks/bench_load.py --size-mb 10
    python benchmarks/bench_load.py --size-mb 50
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import justify


def make_workspace(root: Path, requirements: int, files: int) -> None:
    (root / "justify.toml").write_text('base_iri = "https://example.org/bench/"\n')
    folder = root / "requirements"
    folder.mkdir()
    per_file = max(1, requirements // files)
    for f in range(files):
        lines = ["requirements:"]
        for i in range(f * per_file, (f + 1) * per_file):
            parent = f"    parent: REQ-{i // 10 * 10}\n" if i % 10 else ""
            lines.append(
                f"  - id: REQ-{i}\n    title: Requirement {i}\n"
                f"    statement: The model shall meet target {i}.\n"
                f"    kind: performance\n    status: approved\n{parent}"
                f'    criteria:\n      - metric: metric_{i % 20}\n        op: ">="\n'
                f"        threshold: 0.{i % 97:02d}\n        dataset: test\n"
            )
        (folder / f"reqs-{f:03d}.yaml").write_text("\n".join(lines))


FLOOR = (
    "import sys, yaml\n"
    "from yaml.cyaml import CParser\n"
    "p = CParser(open(sys.argv[1], encoding='utf-8').read())\n"
    "while p.check_event(): p.get_event()\n"
)


def _timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one child process."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:])\n"
        "s = time.perf_counter() - t\n"
        "print(r.returncode, s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    rc, seconds, peak_kb = out.stdout.split()[-3:]
    if rc != "0":
        raise SystemExit(f"{' '.join(args)} failed:\n{out.stderr[-2000:]}")
    return float(seconds), int(peak_kb) / 1024


def one_big_file(size_mb: float) -> None:
    per_requirement = 262  # bytes each generated requirement takes
    count = int(size_mb * 1_000_000 / per_requirement)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_workspace(root, count, 1)
        path = next((root / "requirements").glob("*.yaml"))
        size = path.stat().st_size / 1e6
        env = {**os.environ, "JUSTIFY_REQUIREMENT_FILE_LIMIT_MB": str(int(size) + 10)}
        floor, floor_mb = _timed([sys.executable, "-c", FLOOR, str(path)], root, env)
        load, load_mb = _timed([sys.executable, "-m", "justify", "load"], root, env)
    print(f"one file of {size:.1f} MB, {count} requirements")
    print(f"floor (libyaml reads the events): {floor:6.2f} s  {floor_mb:7.0f} MB peak")
    print(
        f"justify load (a new store):       {load:6.2f} s  {load_mb:7.0f} MB peak"
        f"  ({load / floor:.1f}x floor time, {load_mb / size:.0f} MB per MB of YAML)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--requirements", type=int, default=5000)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--size-mb", type=float, help="one file of this size, via the CLI")
    args = parser.parse_args()
    if args.size_mb:
        one_big_file(args.size_mb)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_workspace(root, args.requirements, args.files)
        files = sorted((root / "requirements").glob("*.yaml"))

        start = time.perf_counter()
        for path in files:
            yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        floor = time.perf_counter() - start

        config = justify.load_config(root / "justify.toml")
        start = time.perf_counter()
        summary = justify.load(config=config)
        first = time.perf_counter() - start
        start = time.perf_counter()
        justify.load(config=config)
        again = time.perf_counter() - start

    print(f"requirements: {summary.requirements} in {len(files)} files, {summary.triples} triples")
    print(f"floor (PyYAML parse only): {floor:.2f} s")
    print(f"justify load, empty store:  {first:.2f} s  ({first / floor:.1f}x floor)")
    print(f"justify load, replacing:    {again:.2f} s  ({again / floor:.1f}x floor)")


if __name__ == "__main__":
    main()
