"""Time every page of the explorer on the checks benchmark's graph.

Builds the graph of ``bench_check.py`` (about 2,000,000 triples with the default
counts, 1,000 requirements), records a check with `justify check`, then renders
each page through Streamlit's AppTest: once cold (the first load fills the
caches) and once warm (what a user sees after the first load). The baseline is
the SPARQL console page, which reads nothing from the store, measured in the
same run.

    python benchmarks/bench_app.py [--requirements 1000] [--runs 30000] [--commits 20000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

import justify

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_check import BASE, build_graph

APP = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"


def render(at: AppTest, page: str, params: dict[str, str]) -> float:
    at.switch_page(page)
    at.query_params.clear()
    for key, value in params.items():
        at.query_params[key] = value
    start = time.perf_counter()
    at.run()
    took = time.perf_counter() - start
    if at.exception:
        raise SystemExit(f"{page} failed: {at.exception[0].message}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requirements", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30_000)
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--metrics", type=int, default=20)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/justify-bench-app"))
    args = parser.parse_args()
    config, _ = build_graph(args)
    subprocess.run(
        [sys.executable, "-m", "justify", "check", "-o", "report.json"],
        cwd=args.workdir,
        capture_output=True,
        check=False,
    )
    os.environ["JUSTIFY_CONFIG"] = str(args.workdir / "justify.toml")
    run_id = justify.query(
        "SELECT ?id WHERE { ?r a jf:Run ; jf:runId ?id } LIMIT 1", config=config
    ).values()[0]["id"]
    pages = [
        ("pages/sparql.py", {}),  # the baseline: no store access
        ("pages/overview.py", {}),
        ("pages/requirements.py", {}),
        ("pages/requirement.py", {"id": "R7"}),
        ("pages/models.py", {}),
        ("pages/runs.py", {"run": run_id or ""}),
        ("pages/graph.py", {"node": f"{BASE}requirement/R7"}),
    ]
    at = AppTest.from_file(str(APP), default_timeout=600)
    at.run()
    timings = {page: (render(at, page, p), render(at, page, p)) for page, p in pages}
    baseline = timings["pages/sparql.py"][1]
    print(f"{'page':<24} {'first load':>11} {'after':>8} {'vs baseline':>12}")
    for page, (cold, warm) in timings.items():
        print(f"{page:<24} {cold:10.2f}s {warm:7.2f}s {warm / baseline:11.1f}x")
    print(f"baseline (console page, no store access): {baseline:.3f} s")


if __name__ == "__main__":
    main()
