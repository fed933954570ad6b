"""MLflow -> the graph: experiments, runs, metrics, datasets, logged models and the
model registry, with the links that make runs evidence of requirements.

Reading and writing are separate phases: everything is read from MLflow first,
so a tracking server that fails mid-import leaves the store untouched. One
named graph per tracking source; a full import replaces it, an incremental one
re-reads the runs started or ended since the last import (plus the running
ones), drops deleted runs, and re-reads the registry and logged models, which
MLflow offers no way to ask for "changed since".
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pyoxigraph import NamedNode

from justify.config import Config, Setting
from justify.importers._orchestrator import run_import
from justify.importers._protocol import Importer, ImportOption, ImportRun, ImportSummary
from justify.importers.mlflow._reader import MlflowReader, quiet_mlflow, resolve_tracking_uri
from justify.importers.mlflow._triples import (
    REQUIREMENTS_TAG,
    GraphText,
    tagged_requirements,
    versions_of_scoped_models,
)
from justify.store import GraphStore
from justify.urls import strip_credentials
from justify.vocab import JF

__all__ = ["REQUIREMENTS_TAG", "MlflowImporter", "import_mlflow", "quiet_mlflow"]

# ------------------------------------------------------------------- import

# What a run owns in the graph (removed with it), and what a model, registered model or
# version owns, as SPARQL property paths from the subject.
RUN_OWNS = "jf:hasMeasurement/jf:historyPoint?|jf:hasParameter|jf:hasTag|prov:qualifiedUsage"
MODEL_OWNS = "jf:hasMeasurement|jf:hasParameter|jf:hasTag"
# Read whole by every import.
REREAD = (JF.Experiment, JF.Model, JF.RegisteredModel, JF.ModelVersion)
# Runs handed to the store at once: Oxigraph's bulk loader holds what one call gets
# in memory, so small chunks keep the peak low while the next runs are read.
_RUNS_PER_CHUNK = 50


@dataclass(frozen=True)
class _Seen:
    """What the rest of an import needs of a run once its triples are written."""

    run_id: str
    times: tuple[int, ...]
    requirements: tuple[str, ...]
    metric_keys: frozenset[str]


class MlflowImporter(Importer):
    """Experiments, runs, metrics, datasets, logged models and the model registry."""

    name = "mlflow"
    summary = (
        "experiments, runs, metrics, datasets, logged models and the registry of one "
        "tracking source"
    )
    description = """Incremental by default: runs started or ended since the last import, running
    runs, deleted runs, and the whole registry. A run tagged
    justify.requirements=REQ-1,REQ-2 is evidence of those requirements; a
    requirement's model scope (model: name@alias) makes the run behind that
    version evidence too."""
    examples = (
        "justify import mlflow --tracking-uri sqlite:///mlflow.db",
        "justify import mlflow --tracking-uri http://127.0.0.1:5000 --full",
        "MLFLOW_TRACKING_TOKEN=... justify import mlflow --tracking-uri https://mlflow.example.com",
    )
    options = (
        ImportOption(
            "tracking_uri",
            "MLflow tracking URI (default: 'mlflow_tracking_uri' setting, then "
            "MLFLOW_TRACKING_URI). Credentials come from MLflow's own variables.",
            metavar="URI",
        ),
        ImportOption(
            "experiments",
            "Import only this experiment (repeatable); implies a full import.",
            metavar="NAME",
            multiple=True,
            forces_full=True,
            flag="--experiment",
        ),
    )
    settings = (
        Setting(
            "mlflow_tracking_uri",
            None,
            "MLflow tracking URI; when unset, MLflow's own MLFLOW_TRACKING_URI is used.",
        ),
    )
    sync_order = 10  # before Git, whose import does not depend on it, by habit

    def skip_reason(self, config: Config) -> str | None:
        if config.get("mlflow_tracking_uri") or os.environ.get("MLFLOW_TRACKING_URI"):
            return None
        return "no tracking URI: set 'mlflow_tracking_uri' or MLFLOW_TRACKING_URI"

    def locate(self, config: Config, options: Mapping[str, Any]) -> str:
        return strip_credentials(resolve_tracking_uri(options.get("tracking_uri"), config))

    def read(self, run: ImportRun) -> Iterator[bytes]:
        uri = resolve_tracking_uri(run.options.get("tracking_uri"), run.config)
        index = run.requirements
        before, running = _previous_runs(run)
        since_ms = None
        if not run.full and run.previous_watermark is not None:
            since_ms = round(run.previous_watermark.timestamp() * 1000)
        reader = MlflowReader(uri, progress=run.show_progress)
        chosen = reader.experiments(run.options.get("experiments") or ())
        ids = [e.experiment_id for e in chosen]
        text = GraphText(run.minter, run.graph.value.rsplit("/", 1)[-1], index)
        seen: list[_Seen] = []
        for page in reader.runs(ids, since_ms=since_ms, running=running) if ids else ():
            for n, r in enumerate(page, 1):
                text.run(r)
                seen.append(
                    _Seen(
                        r.info.run_id,
                        tuple(t for t in (r.info.start_time, r.info.end_time) if t),
                        tuple(tagged_requirements(r)),
                        frozenset(r.data.metrics),
                    )
                )
                if n % _RUNS_PER_CHUNK == 0:
                    yield text.out.take()
            yield text.out.take()

        deleted = reader.deleted_run_ids(ids) if ids and not run.full else set()
        models = reader.logged_models(ids)
        registered, versions = reader.registry()
        scoped = versions_of_scoped_models(index, versions)
        # Evidence runs get the full history of the metrics their requirements name.
        wanted: dict[str, set[str]] = {}
        for rid, found in scoped.items():
            for v in found:
                wanted.setdefault(v.run_id, set()).update(index.metrics.get(rid, ()))
        for s in seen:
            for rid in s.requirements:
                wanted.setdefault(s.run_id, set()).update(index.metrics.get(rid, ()))
        pairs = [
            (s.run_id, k) for s in seen for k in sorted(wanted.get(s.run_id, set()) & s.metric_keys)
        ]
        for (run_id, key), points in reader.histories(pairs).items():
            text.history(run_id, key, points)
        for e in chosen:
            text.experiment(e)
        for model in models:
            text.logged_model(model)
        text.flush_dataset_values()
        aliases: dict[tuple[str, str], list[str]] = {}
        for m in registered:
            text.registered_model(m)
            for alias, number in (m.aliases or {}).items():
                aliases.setdefault((m.name, str(number)), []).append(alias)
        for v in versions:
            text.version(v, sorted(aliases.get((v.name, str(v.version)), [])))
        for rid, run_ids in sorted(text.unknown.items()):
            listed = ", ".join(sorted(r[:8] for r in run_ids))
            run.warn(
                f"run tag '{REQUIREMENTS_TAG}' names unknown requirement '{rid}' (runs {listed})"
            )

        read_ids = {s.run_id for s in seen}
        removed = before - read_ids if run.full else before & deleted
        if not run.full:
            stale = sorted(read_ids & before | removed)
            run.delete(
                subjects=[NamedNode(text.iri("run", r)[1:-1]) for r in stale], owned=RUN_OWNS
            )
            run.delete(types=REREAD, owned=MODEL_OWNS)
        run.items = len(read_ids | (set() if run.full else before - removed))
        times = [t for s in seen for t in s.times]
        if since_ms is not None:
            times.append(since_ms)
        if times:
            latest = max(times)  # whole milliseconds: a float division could lose one
            run.watermark = datetime.fromtimestamp(latest // 1000, UTC).replace(
                microsecond=latest % 1000 * 1000
            )
        run.count("experiments", len(chosen))
        run.count("runs", len(seen))
        run.count("added", len(read_ids - before))
        run.count("updated", len(read_ids & before))
        run.count("removed", len(removed))
        run.count("metrics", text.metric_count)
        run.count("datasets", len(text.datasets))
        run.count("logged models", len(models))
        run.count("registered models", len(registered))
        run.count("versions", len(versions))
        yield text.out.take()


def _previous_runs(run: ImportRun) -> tuple[frozenset[str], frozenset[str]]:
    """The runs the graph holds, and those of them that were running."""
    rows = run.query(
        "SELECT ?id ?status WHERE { ?r a jf:Run ; jf:runId ?id ; jf:runStatus ?status }"
    )
    found = rows.values()
    return (
        frozenset(r["id"] for r in found if r["id"]),
        frozenset(r["id"] for r in found if r["id"] and r["status"] == "running"),
    )


def import_mlflow(
    *,
    tracking_uri: str | None = None,
    experiments: Sequence[str] = (),
    full: bool = False,
    config: Config | None = None,
    store: GraphStore | None = None,
    progress: bool = True,
) -> ImportSummary:
    """Import one MLflow tracking source into its named graph.

    Incremental unless ``full`` or first import. Raises ``SourceUnavailable``
    (exit 3) when MLflow cannot be read; the graph then keeps its last import.
    """
    return run_import(
        "mlflow",
        full=full,
        config=config,
        store=store,
        progress=progress,
        tracking_uri=tracking_uri,
        experiments=tuple(experiments),
    )
