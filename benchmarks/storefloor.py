"""The store's own floor for an import benchmark: how long Oxigraph takes to write the
graph the import produced into an empty on-disk store, with nothing else to do.

An import cannot finish before its graph is written, so when this alone is above the
ratio a benchmark aims at, no work on the importer reaches that ratio. The graph is
exported to N-Triples, then loaded in a process of its own (one bulk load from the
file, the cheapest write Oxigraph offers: one pass, nothing to compact afterwards).

    from storefloor import store_floor
    seconds, peak_mb = store_floor(config, "git")
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, Store

import justify


def store_floor(config: justify.Config, kind: str) -> tuple[float, float]:
    """Seconds and peak memory (MB) of writing the ``kind`` importer's graph alone."""
    graph = next(g.graph for g in justify.status(config=config) if g.kind == kind)
    with tempfile.TemporaryDirectory(prefix="store-floor-") as tmp:
        data = Path(tmp) / "graph.nt"
        # Both steps in processes of their own: Linux carries a process's peak memory
        # over into the programs it starts, so this one must stay small.
        export = ["export", "--config", str(config.file), "--graph", graph]
        subprocess.run(
            [sys.executable, "-m", "justify", *export, "--format", "ntriples", "-o", str(data)],
            check=True,
            capture_output=True,
        )
        out_text = subprocess.run(
            [sys.executable, __file__, str(data), str(Path(tmp) / "store")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    result = json.loads(out_text.strip().splitlines()[-1])
    return float(result["seconds"]), float(result["peak_mb"])


def _load(data: Path, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    store = Store(str(folder))
    store.bulk_load(path=str(data), format=RdfFormat.N_TRIPLES, to_graph=NamedNode("urn:g"))
    store.flush()
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


if __name__ == "__main__":
    _load(Path(sys.argv[1]), Path(sys.argv[2]))
