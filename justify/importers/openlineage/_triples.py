"""OpenLineage run events as N-Triples lines in the source-neutral vocabulary.

A job is a ``jf:Experiment`` (the runs of one job, as an MLflow experiment groups
runs), a job run a ``jf:Run`` with the words every source shares for its state, a
dataset a ``jf:Dataset`` (namespace and name; its version is its digest), and the
data-quality facets ``jf:Measurement``s of the run on that dataset.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from justify.importers.openlineage._events import FileState
from justify.iris import Minter
from justify.ntriples import (
    LABEL,
    TITLE,
    TYPE,
    XSD_DATETIME,
    XSD_INTEGER,
    J,
    Lines,
    P,
    double,
    is_number,
    literal,
    segment,
    typed,
)

# OpenLineage's event types in the words every source shares (the judgement reads
# these). OTHER events add facets and change no state.
RUN_STATES = {"START": "running", "RUNNING": "running", "COMPLETE": "finished",
              "FAIL": "failed", "ABORT": "killed"}  # fmt: skip
ENDS = frozenset({"COMPLETE", "FAIL", "ABORT"})
# The facet justify reads on a run or a job: {"requirements": ["REQ-1", ...]}.
FACET = "justify"
_SAFE = re.compile(r"[A-Za-z0-9._~@-]+")  # what an IRI segment holds unescaped


def _segment(value: str) -> str:
    # Run ids (UUIDs) are unique, so the cached percent-encoding would only fill its
    # cache: most need none.
    return value if _SAFE.fullmatch(value) else segment(value)


def event_time(event: dict[str, Any]) -> datetime:
    """The event's time (validated as RFC 3339 date-time, so it has an offset)."""
    return datetime.fromisoformat(str(event["eventTime"]))


@dataclass
class RunEvents:
    """The events of one run, from whichever files hold them."""

    run_id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    files: set[str] = field(default_factory=set)

    def ordered(self) -> list[dict[str, Any]]:
        # Producers send events out of order (a retried START after COMPLETE); their
        # own times order them, the order of lines breaks ties.
        return sorted(self.events, key=event_time)


class LineageText:
    """Writes runs, jobs, datasets and source files, each node once per import."""

    def __init__(self, minter: Minter, graph_key: str, known: frozenset[str]) -> None:
        self.minter = minter
        self.graph_key = graph_key
        self.known = known
        self.out = Lines()
        self.unknown: dict[str, set[str]] = {}
        self.jobs: dict[tuple[str, str], str] = {}
        self.datasets: dict[tuple[str, str, str], str] = {}
        self.fields: set[str] = set()
        self.measurements = 0
        self._stem = minter.base + "openlineage/"

    def iri(self, *parts: str) -> str:
        # The same IRIs as Minter.iri("openlineage", ...), written as text: a run's
        # nodes are minted a million times in a large import.
        return "<" + self._stem + "/".join(_segment(p) for p in parts) + ">"

    def file_iri(self, name: str) -> str:
        return self.iri("file", self.graph_key, name)

    def source_file(self, name: str, state: FileState) -> None:
        node, add = self.file_iri(name), self.out.add
        add(node, TYPE, J.SourceFile)
        add(node, J.path, literal(name))
        add(node, J.byteCount, typed(str(state.size), XSD_INTEGER))
        add(node, J.contentHash, literal(state.digest))

    def job(self, job: dict[str, Any]) -> str:
        namespace, name = str(job.get("namespace", "")), str(job.get("name", ""))
        node = self.jobs.get((namespace, name))
        if node is None:
            node = self.jobs[namespace, name] = self.iri("job", namespace, name)
            add = self.out.add
            add(node, TYPE, J.Experiment)
            add(node, TITLE, literal(name))
            add(node, LABEL, literal(f"job {name} ({namespace})"))
            add(node, J.source, literal(namespace))
        return node

    def dataset(self, ds: dict[str, Any]) -> str:
        namespace, name = str(ds.get("namespace", "")), str(ds.get("name", ""))
        facets = ds.get("facets") or {}
        version = str((facets.get("version") or {}).get("datasetVersion", "") or "")
        add = self.out.add
        node = self.datasets.get((namespace, name, version))
        if node is None:
            node = self.iri("dataset", namespace, name, version)
            self.datasets[namespace, name, version] = node
            add(node, TYPE, J.Dataset)
            add(node, TYPE, P.Entity)
            add(node, TITLE, literal(name))
            shown = f"dataset {name} ({namespace}" + (f", version {version})" if version else ")")
            add(node, LABEL, literal(shown))
            add(node, J.source, literal(namespace))
            if version:
                add(node, J.digest, literal(version))
        for position, column in enumerate((facets.get("schema") or {}).get("fields") or (), 1):
            column_name = str(column.get("name", ""))
            f = f"{node[:-1]}/field/{hashlib.sha256(column_name.encode()).hexdigest()[:16]}>"
            if f in self.fields:
                continue
            self.fields.add(f)
            add(node, J.hasField, f)
            add(f, J.key, literal(column_name))
            if column.get("type"):
                add(f, J.textValue, literal(str(column["type"])))
            add(f, J.position, typed(str(position), XSD_INTEGER))
        return node

    def run(self, state: RunEvents) -> None:
        events = state.ordered()
        last = events[-1]
        node = self.iri("run", state.run_id)
        add = self.out.add
        for t in (J.Run, P.Activity, J.Evidence):
            add(node, TYPE, t)
        job_data = last.get("job") or {}
        name = str(job_data.get("name", ""))
        add(node, J.runId, literal(state.run_id))
        add(node, TITLE, literal(f"{name} {state.run_id[:8]}"))
        add(node, LABEL, literal(f"run of {name} ({state.run_id[:8]})"))
        add(node, J.inExperiment, self.job(job_data))
        ends = [e for e in events if e.get("eventType") in ENDS]
        status = RUN_STATES[ends[-1]["eventType"]] if ends else "running"
        add(node, J.runStatus, literal(status))
        starts = [e for e in events if e.get("eventType") == "START"] or events
        add(node, P.startedAtTime, typed(str(starts[0]["eventTime"]), XSD_DATETIME))
        if ends:
            add(node, P.endedAtTime, typed(str(ends[-1]["eventTime"]), XSD_DATETIME))
        for name_ in sorted(state.files):
            add(node, J.readFrom, self.file_iri(name_))
        run_facets: dict[str, Any] = {}
        job_facets: dict[str, Any] = {}
        for e in events:  # later events add to or replace what earlier ones said
            run_facets.update((e.get("run") or {}).get("facets") or {})
            job_facets.update((e.get("job") or {}).get("facets") or {})
        parent = (run_facets.get("parent") or {}).get("run") or {}
        if parent.get("runId"):
            add(node, J.parentRun, self.iri("run", str(parent["runId"])))
        requirements = {
            str(rid)
            for facets in (run_facets, job_facets)
            for rid in (facets.get(FACET) or {}).get("requirements") or []
        }
        for rid in sorted(requirements):
            add(node, J.supports, f"<{self.minter.requirement(rid).value}>")
            if rid not in self.known:
                self.unknown.setdefault(rid, set()).add(state.run_id)
        used: dict[str, int] = {}
        quality: dict[tuple[str, str], float] = {}
        for e in events:
            for ds in e.get("inputs") or []:
                dataset = self.dataset(ds)
                if dataset not in used:
                    used[dataset] = len(used) + 1
                    usage = f"{node[:-1]}/input/{used[dataset]}>"
                    add(node, J.usedDataset, dataset)
                    add(node, P.qualifiedUsage, usage)
                    add(usage, TYPE, P.Usage)
                    add(usage, P.entity, dataset)
                    add(usage, J.context, literal("input"))
                _quality(quality, dataset, ds)
            for ds in e.get("outputs") or []:
                dataset = self.dataset(ds)
                add(dataset, P.wasGeneratedBy, node)
                _quality(quality, dataset, ds)
        for (dataset, key), value in sorted(quality.items()):
            # Stable across imports: the dataset's IRI and the key, hashed.
            digest = hashlib.sha256(f"{dataset} {key}".encode()).hexdigest()[:16]
            m = f"{node[:-1]}/quality/{digest}>"
            add(node, J.hasMeasurement, m)
            add(m, J.metricKey, literal(key))
            add(m, J.value, double(value))
            add(m, J.onDataset, dataset)
            self.measurements += 1


def _quality(values: dict[tuple[str, str], float], dataset: str, ds: dict[str, Any]) -> None:
    """dataQualityMetrics as measurements (``rowCount``, ``bytes``, ``fileCount``,
    ``COLUMN.nullCount``...) and each dataQualityAssertions entry as a measurement
    ``assertion.NAME[.COLUMN]`` of 1 (passed) or 0 (failed), whether a producer puts
    the facets among the dataset's facets or its input/output facets. A later event's
    value of a key replaces an earlier one."""
    facets = {**(ds.get("facets") or {}), **(ds.get("inputFacets") or {}),
              **(ds.get("outputFacets") or {})}  # fmt: skip
    metrics = facets.get("dataQualityMetrics") or {}
    for key in ("rowCount", "bytes", "fileCount"):
        if is_number(metrics.get(key)):
            values[dataset, key] = float(metrics[key])
    for column, found in sorted((metrics.get("columnMetrics") or {}).items()):
        for key, value in sorted((found or {}).items()):
            if is_number(value):
                values[dataset, f"{column}.{key}"] = float(value)
            elif key == "quantiles" and isinstance(value, dict):
                for q, v in sorted(value.items()):
                    if is_number(v):
                        values[dataset, f"{column}.quantile.{q}"] = float(v)
    passed: dict[str, float] = {}  # an assertion repeated in one facet passes if all do
    for a in (facets.get("dataQualityAssertions") or {}).get("assertions") or []:
        key = "assertion." + str(a.get("assertion", ""))
        key += f".{a['column']}" if a.get("column") else ""
        passed[key] = min(passed.get(key, 1.0), 1.0 if a.get("success") else 0.0)
    values.update({(dataset, key): value for key, value in passed.items()})
