"""Time `justify load` on many requirements against its floor: PyYAML parsing the
same files and nothing else. Prints both and their ratio.

    python benchmarks/bench_load.py [--requirements 5000] [--files 50]
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--requirements", type=int, default=5000)
    parser.add_argument("--files", type=int, default=50)
    args = parser.parse_args()
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
