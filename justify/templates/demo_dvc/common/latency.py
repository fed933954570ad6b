"""Scoring latency of the screening model for the configured batch size (the demo's DVC
stage). A fixed cost model stands in for timing the service, so the figures are the
same on every machine: each request waits for its batch to fill, then for scoring."""

import json
from pathlib import Path

import yaml

params = yaml.safe_load(Path("params.yaml").read_text())["latency"]
batch, arrivals = params["batch_size"], params["requests_per_second"]
fill_ms = 1000 * (batch - 1) / arrivals  # the first request of a batch waits longest
score_ms = 2.0 + 0.25 * batch
Path("metrics").mkdir(exist_ok=True)
Path("metrics/latency.json").write_text(
    json.dumps(
        {
            "p95_latency_ms": round(0.95 * fill_ms + score_ms, 2),
            "throughput_rps": round(min(arrivals, 1000 * batch / score_ms), 1),
        },
        indent=2,
    )
    + "\n"
)
