"""OpenLineage -> the graph: jobs, job runs with their states and times, parent runs,
the datasets read and written, and data-quality facets as measurements.

Reads run events from JSON files or a folder of them: what any OpenLineage producer
(Airflow, Spark, dbt, Flink, the Python client's file transport) writes, and what
``justify lineage receive`` appends. Every event is validated against the
OpenLineage schema. Imports are incremental: the graph remembers how many bytes of
each file it read, so the next import reads what was appended since, and re-derives
only the runs those new events belong to.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode

from justify._query import values
from justify.config import Config, Setting, load_config
from justify.errors import SourceUnavailable, UsageError
from justify.importers._orchestrator import run_import
from justify.importers._protocol import (
    EvidenceSelector,
    Importer,
    ImportOption,
    ImportRun,
    ImportSummary,
)
from justify.importers.openlineage._events import (
    Event,
    FileState,
    NotJson,
    digest,
    documents,
    event_files,
    is_run_event,
    problem,
)
from justify.importers.openlineage._receiver import (
    TOKEN_VARIABLE,
    LineageReceiver,
    is_loopback,
)
from justify.importers.openlineage._triples import FACET, LineageText, RunEvents
from justify.store import GraphStore
from justify.vocab import JF

__all__ = [
    "FACET",
    "TOKEN_VARIABLE",
    "LineageReceiver",
    "OpenLineageImporter",
    "import_openlineage",
    "lineage_receiver",
]

# What a run owns: deleted with it when its events are read again.
_OWNED = "prov:qualifiedUsage|jf:hasMeasurement"
_TYPES = (JF.Run, JF.Experiment, JF.Dataset, JF.SourceFile)


class OpenLineageImporter(Importer):
    """Run events of any OpenLineage producer (Airflow, Spark, dbt, the Python client)."""

    name = "openlineage"
    summary = "jobs, job runs, their datasets and data-quality facets, from OpenLineage events"
    description = """Reads OpenLineage run events (JSON lines, or one JSON document per file:
    what the Python client's file transport writes and `justify lineage receive`
    appends) from a file or a folder of them, each validated against the OpenLineage
    schema. A run facet or job facet `justify` with `requirements: [REQ-1, ...]` makes
    the runs evidence of those requirements. Incremental by default: only what was
    appended to the files since the last import is read; a file that was rewritten or
    removed makes the import read everything again."""
    examples = (
        "justify import openlineage --events lineage/",
        "justify import openlineage --events lineage/ --skip-invalid",
    )
    options = (
        ImportOption(
            "events",
            "A file of events or a folder of them (default: the 'openlineage_events' setting).",
            metavar="PATH",
        ),
        ImportOption(
            "skip_invalid",
            "Report events that are not valid OpenLineage and import the others "
            "(default: stop at the first, exit 2).",
            switch=True,
        ),
    )
    settings = (
        Setting(
            "openlineage_events",
            None,
            "OpenLineage events to import: a file or a folder of JSON / JSON-lines files.",
        ),
    )
    sync_order = 15  # after MLflow, before Git: the order changes nothing but the log
    selectors = (
        EvidenceSelector(
            "job_run",
            {"job": True, "namespace": False},
            """?filler a jf:Run ; jf:inExperiment ?ofJob ; prov:startedAtTime ?started .
            ?ofJob dcterms:title ?jobName ; jf:source ?jobNamespace .
            FILTER (STR(?jobName) = ?job && (!BOUND(?namespace) || STR(?jobNamespace) = ?namespace))
            FILTER NOT EXISTS { ?later jf:inExperiment ?ofJob ; prov:startedAtTime ?laterStart .
                                FILTER (?laterStart > ?started) }
            ?filler jf:runStatus "finished" .
            FILTER NOT EXISTS { ?filler jf:hasMeasurement ?check .
                                ?check jf:metricKey ?checkKey ; jf:value ?outcome .
                                FILTER (STRSTARTS(?checkKey, "assertion.") && ?outcome < 1) }""",
            description="the latest run of an OpenLineage job (by start), when it completed "
            "and all its data-quality assertions passed",
        ),
    )

    def skip_reason(self, config: Config) -> str | None:
        return None if config.get("openlineage_events") else "no 'openlineage_events' set"

    def locate(self, config: Config, options: Mapping[str, Any]) -> str:
        given = options.get("events") or config.get("openlineage_events")
        if not given:
            raise UsageError(
                "no OpenLineage events to read",
                hint="give --events PATH or set 'openlineage_events'",
            )
        path = config.path(str(given)) if not options.get("events") else Path(str(given))
        path = path.expanduser().resolve()
        if not path.exists():
            raise SourceUnavailable(
                f"{path}: no such file or folder",
                hint="give the file or folder the OpenLineage file transport writes to",
            )
        return str(path)

    def read(self, run: ImportRun) -> Iterator[bytes]:
        location = Path(run.location)
        files = event_files(location)
        previous = {} if run.full else _previous_files(run)
        reader = _Reader(run, location)
        offsets, reread = _plan(files, previous)
        if reread:
            run.warn(f"{reread}: the graph's OpenLineage events are read again from the start")
            run.delete(types=_TYPES, owned=_OWNED)
            offsets = {name: 0 for name, _ in files}
            previous = {}
        progress = run.progress("openlineage files", len(files))
        states: dict[str, FileState] = {}
        for name, path in files:
            if name in previous and offsets.get(name) is None:
                states[name] = previous[name]  # unchanged since the last import
            else:
                states[name] = reader.read(name, path, offsets.get(name))
            progress.advance()
        progress.done()
        runs = reader.runs
        touched = _existing_runs(run, runs) if previous else {}
        if touched:
            # New events of runs the graph holds: read their earlier events again, and
            # write those runs anew from all of them.
            again = _Reader(run, location, only=set(touched), quiet=True)
            for name, path in files:
                if name in previous and any(name in f for f in touched.values()):
                    again.read(name, path, 0, upto=previous[name].size)
            for rid, state in again.runs.items():
                runs[rid].events[:0] = state.events
                runs[rid].files |= state.files
            run.delete(subjects=[NamedNode(_run_iri(run, rid)) for rid in touched], owned=_OWNED)
        if not run.full:
            run.delete(types=(JF.SourceFile,))
        text = LineageText(run.minter, run.graph.value.rsplit("/", 1)[-1], run.requirements.ids)
        for name, file_state in states.items():
            text.source_file(name, file_state)
        for events in runs.values():
            text.run(events)
            if len(text.out) >= 50_000:
                yield text.out.take()
        for rid, ids in sorted(text.unknown.items()):
            listed = ", ".join(sorted(i[:8] for i in ids))
            run.warn(f"the '{FACET}' facet names unknown requirement '{rid}' (runs {listed})")
        new_runs = len(runs) - len(touched)
        run.items = _run_count(run) + new_runs if previous else len(runs)
        run.count("files", len(files))
        run.count("events", reader.events)
        run.count("runs", len(runs))
        run.count("new runs", new_runs)
        run.count("jobs", len(text.jobs))
        run.count("datasets", len(text.datasets))
        run.count("quality measurements", text.measurements)
        if reader.other:
            run.count("dataset and job events (not read)", reader.other)
        if reader.invalid:
            run.count("invalid events skipped", reader.invalid)
        yield text.out.take()


class _Reader:
    """Reads events files from an offset, validating each event, and groups the run
    events by run."""

    def __init__(
        self, run: ImportRun, location: Path, only: set[str] | None = None, quiet: bool = False
    ) -> None:
        self.run = run
        self.location = location
        self.only = only
        self.quiet = quiet  # events read again: reported when first read
        self.skip_invalid = bool(run.options.get("skip_invalid"))
        self.runs: dict[str, RunEvents] = {}
        self.events = self.other = self.invalid = 0

    def read(self, name: str, path: Path, offset: int | None, upto: int | None = None) -> FileState:
        """Read ``path`` from ``offset`` (None: nothing new) up to ``upto`` bytes; the
        state of the file as read."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceUnavailable(f"{path}: cannot be read ({exc.strerror})") from exc
        if upto is not None:
            data = data[:upto]
        if not data.endswith(b"\n") and upto is None:
            # A last line without its newline may be an event still being appended
            # (by `justify lineage receive` or a pipeline): it is read next time, when
            # it is whole. A file whose only document ends without one is whole.
            whole = data.rfind(b"\n") + 1
            if whole and _unfinished(data[whole:]):
                data = data[:whole]
        state = FileState(len(data), digest(data))
        if offset is None or offset >= len(data):
            return state
        first_line = data.count(b"\n", 0, offset) + 1
        try:
            text = data[offset:].decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, offset + exc.start) + 1
            raise UsageError(
                f"{path}:{line}: not UTF-8 text",
                hint="OpenLineage events are JSON, which is UTF-8",
            ) from None
        shown = self.location / name if self.location.is_dir() else self.location
        try:
            for line, data_ in documents(text, first_line):
                self._event(Event(str(shown), line, data_), name)
        except NotJson as exc:
            self._invalid(str(shown), exc.line, f"not JSON ({exc.why})")  # raises unless skipping
            # A document that is not JSON hides where the next one starts: the rest of
            # the file cannot be read.
            if not self.quiet:
                self.run.warn(f"{shown}: the rest of the file after line {exc.line} is not read")
        return state

    def _event(self, event: Event, name: str) -> None:
        why = problem(event.data)
        if why is not None:
            self._invalid(event.file, event.line, f"not a valid OpenLineage event: {why}")
            return
        if not is_run_event(event.data):
            self.other += 0 if self.quiet else 1
            return
        run_id = str(event.data["run"]["runId"])
        if self.only is not None and run_id not in self.only:
            return
        state = self.runs.setdefault(run_id, RunEvents(run_id))
        state.events.append(_slim(event.data))
        state.files.add(name)
        self.events += 1

    def _invalid(self, file: str, line: int, why: str) -> None:
        if self.quiet:
            return
        if not self.skip_invalid:
            raise UsageError(
                f"{file}:{line}: {why}",
                hint="fix or remove that event, or pass --skip-invalid to import the others; "
                "the graph keeps its last import",
            )
        self.invalid += 1
        self.run.warn(f"{file}:{line}: {why}; skipped")


def _unfinished(tail: bytes) -> bool:
    """Whether the text after a file's last newline is not (yet) a JSON document."""
    try:
        json.loads(tail)
    except ValueError:
        return tail.lstrip()[:1] == b"{"  # the start of an event, cut short
    return False


def _slim(event: dict[str, Any]) -> dict[str, Any]:
    """What the graph takes from an event: the rest (SQL, column lineage, source code,
    environment...) need not stay in memory until the run is written."""
    run, job = event["run"], event["job"]
    return {
        "eventType": event.get("eventType"),
        "eventTime": event["eventTime"],
        "run": {"facets": _kept(run.get("facets"), ("parent", FACET))},
        "job": {
            "namespace": job.get("namespace"),
            "name": job.get("name"),
            "facets": _kept(job.get("facets"), (FACET,)),
        },
        "inputs": [_dataset(d) for d in event.get("inputs") or []],
        "outputs": [_dataset(d) for d in event.get("outputs") or []],
    }


_DATASET_FACETS = ("version", "schema", "dataQualityMetrics", "dataQualityAssertions")


def _dataset(ds: dict[str, Any]) -> dict[str, Any]:
    return {
        "namespace": ds.get("namespace"),
        "name": ds.get("name"),
        "facets": _kept(ds.get("facets"), _DATASET_FACETS),
        "inputFacets": _kept(ds.get("inputFacets"), _DATASET_FACETS),
        "outputFacets": _kept(ds.get("outputFacets"), _DATASET_FACETS),
    }


def _kept(facets: Any, keep: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(facets, dict):
        return {}
    return {k: facets[k] for k in keep if k in facets}


def _plan(
    files: list[tuple[str, Path]], previous: Mapping[str, FileState]
) -> tuple[dict[str, int | None], str | None]:
    """Where to start reading each file (None: nothing new), or why everything must be
    read again (a file was removed, shortened or rewritten)."""
    offsets: dict[str, int | None] = {}
    present = {name for name, _ in files}
    for name in sorted(set(previous) - present):
        return offsets, f"{name} was removed since the last import"
    for name, path in files:
        before = previous.get(name)
        if before is None:
            offsets[name] = 0
            continue
        size = path.stat().st_size
        if size < before.size:
            return offsets, f"{name} is shorter than at the last import"
        with path.open("rb") as f:
            if digest(f.read(before.size)) != before.digest:
                return offsets, f"{name} was rewritten since the last import"
        offsets[name] = before.size if size > before.size else None
    return offsets, None


def _previous_files(run: ImportRun) -> dict[str, FileState]:
    rows = run.query(
        "SELECT ?path ?size ?hash WHERE { ?f a jf:SourceFile ; jf:path ?path ; "
        "jf:byteCount ?size ; jf:contentHash ?hash }"
    ).values()
    return {
        str(r["path"]): FileState(int(str(r["size"])), str(r["hash"])) for r in rows if r["path"]
    }


def _existing_runs(run: ImportRun, run_ids: Iterable[str]) -> dict[str, set[str]]:
    """Which of these runs the graph holds, with the files their events came from."""
    nodes = [NamedNode(_run_iri(run, rid)) for rid in sorted(run_ids)]
    found: dict[str, set[str]] = {}
    for i in range(0, len(nodes), 500):
        rows = run.query(
            f"SELECT ?id ?path WHERE {{ {values('r', nodes[i : i + 500])} "
            "?r a jf:Run ; jf:runId ?id OPTIONAL { ?r jf:readFrom/jf:path ?path } }"
        ).values()
        for r in rows:
            paths = found.setdefault(str(r["id"]), set())
            if r["path"]:
                paths.add(str(r["path"]))
    return found


def _run_count(run: ImportRun) -> int:
    rows = run.query("SELECT (COUNT(?r) AS ?n) WHERE { ?r a jf:Run }").values()
    return int(str(rows[0]["n"])) if rows else 0


def _run_iri(run: ImportRun, run_id: str) -> str:
    return run.minter.iri("openlineage", "run", run_id).value


def import_openlineage(
    *,
    events: str | Path | None = None,
    skip_invalid: bool = False,
    full: bool = False,
    config: Config | None = None,
    store: GraphStore | None = None,
    progress: bool = True,
) -> ImportSummary:
    """Import OpenLineage run events from a file or folder into their named graph.

    Incremental unless ``full`` or first import: only what was appended to the files
    since the last import is read. An invalid event stops the import (``UsageError``
    naming file and line; the graph keeps its last import) unless ``skip_invalid``.
    """
    return run_import(
        "openlineage",
        full=full,
        config=config,
        store=store,
        progress=progress,
        events=str(events) if events is not None else None,
        skip_invalid=skip_invalid,
    )


def lineage_receiver(
    *,
    events: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 5055,
    config: Config | None = None,
    log: Callable[[str], None] = print,
) -> LineageReceiver:
    """An HTTP endpoint for OpenLineage's HTTP transport that appends valid events to
    ``events`` (default: the 'openlineage_events' setting), ready to ``serve()``.

    The bearer token it requires, if any, comes from ``JUSTIFY_LINEAGE_TOKEN`` only.
    """
    config = config or load_config()
    given = events or config.get("openlineage_events")
    if not given:
        raise UsageError(
            "no folder to append OpenLineage events to",
            hint="give --events FOLDER or set 'openlineage_events'",
        )
    target = (Path(given) if events else config.path(str(given))).expanduser().resolve()
    token = os.environ.get(TOKEN_VARIABLE) or None
    if token is None and not is_loopback(host):
        raise UsageError(
            f"refusing to accept events on {host} without a token",
            hint=f"set {TOKEN_VARIABLE} (pipelines send it as a bearer token), or listen on "
            "127.0.0.1",
        )
    return LineageReceiver(target, host=host, port=port, token=token, log=log)
