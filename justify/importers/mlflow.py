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

import contextlib
import functools
import logging
import math
import os
import re
import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode

from justify.config import Config, Setting
from justify.errors import SourceUnavailable, UsageError
from justify.importers._orchestrator import run_import
from justify.importers._protocol import (
    Importer,
    ImportOption,
    ImportRun,
    ImportSummary,
    RequirementCatalogue,
)
from justify.iris import Minter
from justify.ntriples import (
    XSD_DATETIME,
    XSD_DOUBLE,
    XSD_INTEGER,
    Lines,
    Terms,
    literal,
    segment,
    typed,
)
from justify.progress import Progress
from justify.store import GraphStore
from justify.urls import MASK, is_secret_name, strip_credentials
from justify.vocab import DCTERMS, JF, MLS, PROV, RDF, RDFS

REQUIREMENTS_TAG = "justify.requirements"
GIT_COMMIT_TAG = "mlflow.source.git.commit"
GIT_BRANCH_TAG = "mlflow.source.git.branch"
GIT_REPO_TAG = "mlflow.source.git.repoURL"
PARENT_TAG = "mlflow.parentRunId"
CONTEXT_TAG = "mlflow.data.context"
# MLflow's run states in the words every source shares (the judgement reads these).
RUN_STATUSES = {
    "FINISHED": "finished",
    "FAILED": "failed",
    "KILLED": "killed",
    "RUNNING": "running",
    "SCHEDULED": "running",
}
PAGE_SIZE = 1000
HISTORY_THREADS = 8  # concurrent get_metric_history calls; a server answers them in parallel
# MLflow retries an unreachable server for minutes by default; fail in seconds
# unless the user set MLflow's own variables.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


@dataclass(frozen=True)
class MlflowImportSummary:
    """What an MLflow import read and wrote."""

    source: str
    graph: str
    full: bool
    experiments: int
    runs: int
    metrics: int
    datasets: int
    models: int
    registered_models: int
    versions: int
    added: int
    updated: int
    removed: int
    warnings: tuple[str, ...] = ()

    def __str__(self) -> str:
        mode = "full" if self.full else "incremental"
        return (
            f"mlflow {mode} import from {self.source}: {self.experiments} experiments, "
            f"{self.runs} runs read ({self.added} added, {self.updated} updated, "
            f"{self.removed} removed), {self.metrics} metrics, {self.datasets} datasets, "
            f"{self.models} logged models, {self.registered_models} registered models, "
            f"{self.versions} versions"
        )


# ------------------------------------------------------------------- reading


@contextlib.contextmanager
def _http_defaults() -> Iterator[None]:
    added = [k for k in HTTP_DEFAULTS if k not in os.environ]
    for key in added:
        os.environ[key] = HTTP_DEFAULTS[key]
    try:
        with quiet_mlflow():
            yield
    finally:
        for key in added:
            os.environ.pop(key, None)


@contextlib.contextmanager
def quiet_mlflow() -> Iterator[None]:
    """MLflow's INFO lines (creating tables, ...) are not the user's business here."""
    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _unavailable(uri: str, exc: BaseException) -> SourceUnavailable:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    code = str(getattr(exc, "error_code", ""))
    if code in ("UNAUTHENTICATED", "PERMISSION_DENIED") or re.search(r"\b40[13]\b", str(exc)):
        return SourceUnavailable(
            f"the MLflow server at {uri} refused the request ({text[:200]})",
            hint="check the credentials in MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD "
            "or MLFLOW_TRACKING_TOKEN, and that they may read these experiments",
        )
    return SourceUnavailable(
        f"cannot read MLflow at {uri}: {text[:300]}",
        hint="check that the tracking server is running and the URI is right "
        "(--tracking-uri, the 'mlflow_tracking_uri' setting or MLFLOW_TRACKING_URI); "
        "the graph keeps what the last import wrote",
    )


def _pages(call: Callable[..., Any], **kwargs: Any) -> Iterator[Any]:
    """Every item of a paged MLflow search: always follow the page token."""
    token = None
    while True:
        page = call(page_token=token, **kwargs)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def resolve_tracking_uri(tracking_uri: str | None, config: Config) -> str:
    uri = tracking_uri or config.get("mlflow_tracking_uri") or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise UsageError(
            "no MLflow tracking URI is set",
            hint="give --tracking-uri, set 'mlflow_tracking_uri' in the configuration, "
            "or set MLFLOW_TRACKING_URI",
        )
    display = strip_credentials(uri)
    try:
        scheme = urllib.parse.urlsplit(uri).scheme.lower().split("+", 1)[0]
    except ValueError as exc:
        raise UsageError(
            f"the MLflow tracking URI {display!r} is not a valid URL ({exc})", hint=_URI_HINT
        ) from exc
    if scheme == "":
        raise UsageError(
            f"the MLflow tracking URI {display!r} is not a URL (it has no scheme, and MLflow "
            "would take it for a file-store folder)",
            hint=_URI_HINT,
        )
    if scheme == "file":
        raise UsageError(
            f"the MLflow tracking URI {display!r} names a file store, which MLflow no longer "
            "serves and justify does not read",
            hint=_URI_HINT,
        )
    if scheme not in TRACKING_SCHEMES:
        raise UsageError(
            f"the MLflow tracking URI {display!r} has the unsupported scheme '{scheme}'",
            hint=_URI_HINT,
        )
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        path = path if path.is_absolute() or uri.startswith("sqlite:////") else config.root / path
        if not uri.startswith("sqlite:////"):
            uri = "sqlite:///" + str(path)
        if not path.is_file():
            raise SourceUnavailable(
                f"no MLflow database at {path} (from {strip_credentials(uri)})",
                hint="check the path; MLflow would silently create an empty database there",
            )
        _check_mlflow_database(path)
    return uri


TRACKING_SCHEMES = frozenset(
    ("sqlite", "http", "https", "postgresql", "mysql", "mssql", "databricks", "databricks-uc", "uc")
)
_URI_HINT = (
    "use a tracking server (http://HOST:PORT) or MLflow's database (sqlite:///mlflow.db, "
    "postgresql://...), via --tracking-uri, the 'mlflow_tracking_uri' setting or "
    "MLFLOW_TRACKING_URI"
)


def _check_mlflow_database(path: Path) -> None:
    """A source is only read: MLflow's client would create its tables inside any file it
    is given (an empty file, a typo'd path), so the file is looked at first, read-only."""
    try:
        connection = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = {row[0] for row in rows}
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise SourceUnavailable(
            f"{path} is not an SQLite database ({exc})",
            hint="point the tracking URI at the database MLflow writes (its --backend-store-uri)",
        ) from exc
    if not {"experiments", "runs"} <= tables:
        raise SourceUnavailable(
            f"{path} holds no MLflow tables; justify only reads tracking stores and will not "
            "let MLflow create them there",
            hint="check the path: it should be the database of an MLflow tracking store",
        )


class MlflowReader:
    """Reads one tracking source through MLflow's own client; every call is guarded
    so that MLflow, HTTP and SQL errors become ``SourceUnavailable`` naming the URI."""

    def __init__(self, uri: str, *, progress: bool = True) -> None:
        from mlflow import MlflowClient  # imported here: mlflow is slow to import

        self.uri = uri
        self.display = strip_credentials(uri)
        self.client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        self.progress = progress

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        try:
            with _http_defaults():
                yield
        except (UsageError, SourceUnavailable):
            raise
        except Exception as exc:  # MLflow, HTTP and SQL errors alike
            raise _unavailable(self.display, exc) from exc

    def experiments(self, names: Sequence[str]) -> list[Any]:
        from mlflow.entities import ViewType

        with self.guard():
            found = list(
                _pages(
                    self.client.search_experiments, view_type=ViewType.ALL, max_results=PAGE_SIZE
                )
            )
        if not names:
            return found
        known = {e.name: e for e in found}
        missing = [n for n in names if n not in known]
        if missing:
            listed = ", ".join(repr(m) for m in missing)
            raise UsageError(
                f"no experiment named {listed} at {self.display}",
                hint="experiments there: " + ", ".join(sorted(known)),
            )
        return [known[n] for n in names]

    def runs(
        self,
        ids: list[str],
        *,
        since_ms: int | None,
        running: Iterable[str],
    ) -> Iterator[list[Any]]:
        """Every active run (or, incrementally, every changed one), a page at a time."""
        from mlflow.entities import ViewType

        filters = [""]
        if since_ms is not None:
            filters = [
                f"attributes.start_time > {since_ms}",
                f"attributes.end_time > {since_ms}",
                "attributes.status = 'RUNNING'",
            ]
            # Runs that were running at the last import may have ended with an
            # end time (a client's clock) before the watermark.
            pending = sorted(running)
            for i in range(0, len(pending), 100):
                quoted = ", ".join(f"'{r}'" for r in pending[i : i + 100])
                filters.append(f"attributes.run_id IN ({quoted})")
        seen: set[str] = set()
        progress = Progress("mlflow runs", enabled=self.progress)
        with self.guard():
            for filter_string in filters:
                token = None
                while True:
                    page = self.client.search_runs(
                        ids,
                        filter_string=filter_string,
                        run_view_type=ViewType.ACTIVE_ONLY,
                        max_results=PAGE_SIZE,
                        page_token=token,
                    )
                    fresh = [r for r in page if r.info.run_id not in seen]
                    seen.update(r.info.run_id for r in fresh)
                    if fresh:
                        yield fresh
                        progress.advance(len(fresh))
                    token = page.token
                    if not token:
                        break
        progress.done()

    def deleted_run_ids(self, ids: list[str]) -> set[str]:
        from mlflow.entities import ViewType

        with self.guard():
            return {
                r.info.run_id
                for r in _pages(
                    self.client.search_runs,
                    experiment_ids=ids,
                    run_view_type=ViewType.DELETED_ONLY,
                    max_results=PAGE_SIZE,
                )
            }

    def logged_models(self, ids: list[str]) -> list[Any]:
        if not ids:
            return []
        with self.guard():
            return list(
                _pages(self.client.search_logged_models, experiment_ids=ids, max_results=100)
            )

    def registry(self) -> tuple[list[Any], list[Any]]:
        with self.guard():
            models = list(_pages(self.client.search_registered_models, max_results=100))
            versions = list(_pages(self.client.search_model_versions, max_results=PAGE_SIZE))
        return models, versions

    def histories(self, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], list[Any]]:
        """One call per run and key (MLflow has no bulk call): a few at a time."""
        progress = Progress("metric histories", total=len(wanted), enabled=self.progress)
        result = {}
        with self.guard(), ThreadPoolExecutor(max_workers=HISTORY_THREADS) as pool:
            calls = {
                pool.submit(self.client.get_metric_history, run_id, key): (run_id, key)
                for run_id, key in wanted
            }
            for done in as_completed(calls):
                result[calls[done]] = done.result()
                progress.advance()
        progress.done()
        return result


# ---------------------------------------------------------------- requirements


def tagged_requirements(run: Any) -> list[str]:
    raw = run.data.tags.get(REQUIREMENTS_TAG, "")
    return [part.strip() for part in raw.split(",") if part.strip()]


def versions_of_scoped_models(
    index: RequirementCatalogue, versions: list[Any]
) -> dict[str, list[Any]]:
    """Requirement id -> every version of the model its scope names. Which one the scope
    resolves to is the judgement's decision, at check time; the importer only needs to
    know whose metric histories are worth fetching."""
    names = {rid: name for rid, (name, _) in index.scopes.items()}
    result: dict[str, list[Any]] = {}
    for v in versions:
        for rid, name in names.items():
            if v.name == name:
                result.setdefault(rid, []).append(v)
    return result


# ------------------------------------------------------------------- triples

J = Terms(JF)
P = Terms(PROV)
TYPE = f"<{RDF.type.value}>"
TITLE = f"<{DCTERMS.title.value}>"
LABEL = f"<{RDFS.label.value}>"
MLS_RUN, MLS_EXPERIMENT = f"<{MLS.Run.value}>", f"<{MLS.Experiment.value}>"
MLS_MODEL, MLS_DATASET = f"<{MLS.Model.value}>", f"<{MLS.Dataset.value}>"


@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def _time(ms: int) -> str:
    # Formatted by hand: a datetime per metric costs more than the rest of its triples.
    seconds, millis = divmod(int(ms), 1000)
    return f'"{_second(seconds)}.{millis:03d}Z"^^{XSD_DATETIME}'


def _double(value: float) -> str:
    if math.isnan(value):
        return typed("NaN", XSD_DOUBLE)
    if math.isinf(value):
        return typed("INF" if value > 0 else "-INF", XSD_DOUBLE)
    return typed(repr(float(value)), XSD_DOUBLE)


def _integer(value: int) -> str:
    return typed(str(int(value)), XSD_INTEGER)


class GraphText:
    """Writes what was read as N-Triples lines, with IRIs stable across imports."""

    def __init__(self, minter: Minter, source_id: str, index: RequirementCatalogue) -> None:
        self.minter = minter
        self.base = f"{minter.base}mlflow/{source_id}/"
        self.index = index
        self.out = Lines()
        self.datasets: set[str] = set()
        self.metric_count = 0
        self.unknown: dict[str, set[str]] = {}
        self.dataset_values: dict[str, tuple[Any, str, str]] = {}

    def iri(self, *parts: str) -> str:
        return "<" + self.base + "/".join(segment(p) for p in parts) + ">"

    def requirement(self, rid: str) -> str:
        return f"<{self.minter.requirement(rid).value}>"

    def experiment(self, e: Any) -> None:
        add, node = self.out.add, self.iri("experiment", e.experiment_id)
        for t in (J.Experiment, MLS_EXPERIMENT, P.Entity):
            add(node, TYPE, t)
        add(node, J.experimentId, literal(e.experiment_id))
        add(node, TITLE, literal(e.name))
        add(node, LABEL, literal(f"experiment {e.name}"))
        add(node, J.lifecycleStage, literal(e.lifecycle_stage))
        self._pairs(node, "tag", J.hasTag, J.Tag, e.tags or {})

    def _pairs(self, owner: str, kind: str, link: str, cls: str, pairs: dict[str, Any]) -> None:
        stem, raw = owner[:-1] + "/" + kind + "/", self.out.raw
        for key, value in pairs.items():
            node = stem + segment(key) + ">"
            raw(
                f"{owner} {link} {node} .\n{node} {TYPE} {cls} .\n"
                f"{node} {J.key} {literal(key)} .\n"
                f"{node} {J.textValue} {literal(MASK if is_secret_name(key) else str(value))} .\n"
            )

    def _measurement(self, node: str, metric: Any) -> None:
        text = (
            f"{node} {TYPE} {J.Measurement} .\n"
            f"{node} {J.metricKey} {literal(metric.key)} .\n"
            f"{node} {J.value} {_double(metric.value)} .\n"
            f'{node} {J.step} "{int(metric.step)}"^^{XSD_INTEGER} .\n'
        )
        if metric.timestamp is not None:
            text += f"{node} {J.timestamp} {_time(metric.timestamp)} .\n"
        self.out.raw(text)

    def _dataset(self, ds: Any) -> str:
        node = self.iri("dataset", ds.name, ds.digest)
        if node not in self.datasets:
            self.datasets.add(node)
            add = self.out.add
            for t in (J.Dataset, MLS_DATASET, P.Entity):
                add(node, TYPE, t)
            add(node, TITLE, literal(ds.name))
            add(node, LABEL, literal(f"dataset {ds.name} ({ds.digest})"))
            add(node, J.digest, literal(ds.digest))
            if getattr(ds, "source_type", None):
                add(node, J.sourceType, literal(ds.source_type))
            if getattr(ds, "source", None):
                add(node, J.source, literal(ds.source))
        return node

    def run(self, run: Any) -> None:
        info, data, add = run.info, run.data, self.out.add
        node = self.iri("run", info.run_id)
        for t in (J.Run, MLS_RUN, P.Activity, J.Evidence):
            add(node, TYPE, t)
        name = info.run_name or info.run_id
        add(node, J.runId, literal(info.run_id))
        add(node, TITLE, literal(name))
        add(node, LABEL, literal(f"run {name} ({info.run_id[:8]})"))
        add(node, J.runStatus, literal(RUN_STATUSES.get(str(info.status), "running")))
        add(node, J.lifecycleStage, literal(info.lifecycle_stage))
        add(node, J.inExperiment, self.iri("experiment", info.experiment_id))
        if info.user_id:
            add(node, J.user, literal(info.user_id))
        if info.start_time:
            add(node, P.startedAtTime, _time(info.start_time))
        if info.end_time:
            add(node, P.endedAtTime, _time(info.end_time))
        tags = data.tags
        if tags.get(PARENT_TAG):
            add(node, J.parentRun, self.iri("run", tags[PARENT_TAG]))
        if tags.get(GIT_COMMIT_TAG):
            sha = tags[GIT_COMMIT_TAG]
            add(node, J.gitCommitSha, literal(sha))
            # Commit IRIs depend on the sha alone, so the Git graph joins here.
            add(node, J.onCommit, f"<{self.minter.base}commit/{segment(sha)}>")
        if tags.get(GIT_BRANCH_TAG):
            add(node, J.gitBranch, literal(tags[GIT_BRANCH_TAG]))
        if tags.get(GIT_REPO_TAG):
            add(node, J.remoteUrl, literal(strip_credentials(tags[GIT_REPO_TAG])))
        for rid in tagged_requirements(run):
            add(node, J.supports, self.requirement(rid))
            if rid not in self.index.ids:
                self.unknown.setdefault(rid, set()).add(info.run_id)
        self._pairs(node, "tag", J.hasTag, J.Tag, tags)
        self._pairs(node, "param", J.hasParameter, J.ParameterSetting, data.params)
        for n, dsi in enumerate(run.inputs.dataset_inputs if run.inputs else [], 1):
            dataset = self._dataset(dsi.dataset)
            usage = f"{node[:-1]}/input/{n}>"
            add(node, J.usedDataset, dataset)
            add(node, P.qualifiedUsage, usage)
            add(usage, TYPE, P.Usage)
            add(usage, P.entity, dataset)
            for tag in dsi.tags or []:
                if tag.key == CONTEXT_TAG:
                    add(usage, J.context, literal(tag.value))
        stem = node[:-1] + "/metric/"
        for metric in _metric_objects(data):
            self.metric_count += 1
            m = stem + segment(metric.key) + ">"
            add(node, J.hasMeasurement, m)
            self._measurement(m, metric)

    def history(self, run_id: str, key: str, points: list[Any]) -> None:
        m = self.iri("run", run_id, "metric", key)
        for point in points:
            h = f"{m[:-1]}/{int(point.step)}/{int(point.timestamp)}>"
            self.out.add(m, J.historyPoint, h)
            self._measurement(h, point)

    def logged_model(self, model: Any) -> None:
        add, node = self.out.add, self.iri("model", model.model_id)
        for t in (J.Model, MLS_MODEL, P.Entity):
            add(node, TYPE, t)
        add(node, J.modelId, literal(model.model_id))
        add(node, TITLE, literal(model.name))
        add(node, LABEL, literal(f"logged model {model.name} ({model.model_id})"))
        status = getattr(model.status, "name", None) or str(model.status)
        add(node, J.modelStatus, literal(status))
        run = self.iri("run", model.source_run_id) if model.source_run_id else None
        if run:
            add(node, J.producedBy, run)
            add(node, P.wasGeneratedBy, run)
        self._pairs(node, "param", J.hasParameter, J.ParameterSetting, model.params or {})
        self._pairs(node, "tag", J.hasTag, J.Tag, model.tags or {})
        for n, metric in enumerate(model.metrics or [], 1):
            m = f"{node[:-1]}/metric/{n}>"
            add(node, J.hasMeasurement, m)
            self._measurement(m, metric)
            if metric.dataset_name and metric.dataset_digest:
                dataset = self.iri("dataset", metric.dataset_name, metric.dataset_digest)
                add(m, J.onDataset, dataset)
                run_id = getattr(metric, "run_id", None) or model.source_run_id
                if run_id:
                    self.dataset_value(run_id, metric, dataset)

    def dataset_value(self, run_id: str, metric: Any, dataset: str) -> None:
        """MLflow 3 records which dataset a value was computed on only on the logged
        model; the run keeps the last value of the key, whatever its dataset. So each
        (key, dataset) gets a measurement of its own on the run, beside the run's
        latest value: a criterion naming a dataset is judged on that one."""
        digest = metric.dataset_name + "/" + (metric.dataset_digest or "")
        m = self.iri("run", run_id, "metric", metric.key, "dataset", digest)
        previous = self.dataset_values.get(m)
        order = (metric.timestamp or 0, metric.step or 0)
        if previous is None or (previous[0].timestamp or 0, previous[0].step or 0) <= order:
            self.dataset_values[m] = (metric, self.iri("run", run_id), dataset)

    def flush_dataset_values(self) -> None:
        """Write the latest value of each (run, key, dataset)."""
        for m, (metric, run, dataset) in sorted(self.dataset_values.items()):
            self.out.add(run, J.hasMeasurement, m)
            self.out.add(m, J.onDataset, dataset)
            self._measurement(m, metric)
        self.dataset_values.clear()

    def registered_model(self, model: Any) -> None:
        add, node = self.out.add, self.iri("registered-model", model.name)
        add(node, TYPE, J.RegisteredModel)
        add(node, TYPE, P.Collection)
        add(node, TITLE, literal(model.name))
        add(node, LABEL, literal(f"registered model {model.name}"))
        self._pairs(node, "tag", J.hasTag, J.Tag, model.tags or {})

    def version(self, v: Any, aliases: list[str]) -> None:
        add = self.out.add
        model = self.iri("registered-model", v.name)
        node = self.iri("registered-model", v.name, "version", str(v.version))
        for t in (J.ModelVersion, MLS_MODEL, P.Entity, J.Evidence):
            add(node, TYPE, t)
        add(node, J.versionOf, model)
        add(model, P.hadMember, node)
        add(node, J.versionNumber, _integer(int(v.version)))
        label = f"{v.name} version {v.version}" + "".join(f" @{a}" for a in aliases)
        add(node, LABEL, literal(label))
        add(node, J.modelStatus, literal(str(v.status)))
        for alias in aliases:
            add(node, J.alias, literal(alias))
        if v.run_id:
            run = self.iri("run", v.run_id)
            add(node, J.producedBy, run)
            add(node, P.wasGeneratedBy, run)
        model_id = getattr(v, "model_id", None) or _model_id_from_source(v.source)
        if model_id:
            add(node, J.loggedModel, self.iri("model", model_id))
        self._pairs(node, "tag", J.hasTag, J.Tag, v.tags or {})


def _metric_objects(data: Any) -> list[Any]:
    # RunData keeps the full Metric objects (step, timestamp) beside its key->value dict.
    objects = getattr(data, "_metric_objs", None)
    if objects is not None:
        return list(objects)
    from mlflow.entities import Metric

    return [Metric(k, v, 0, 0) for k, v in data.metrics.items()]


def _model_id_from_source(source: str | None) -> str | None:
    if source and source.startswith("models:/m-"):
        return source.removeprefix("models:/").split("/", 1)[0]
    return None


# ------------------------------------------------------------------- import

# What a run owns in the graph (removed with it), and what a model, registered model or
# version owns, as SPARQL property paths from the subject.
RUN_OWNS = "jf:hasMeasurement/jf:historyPoint?|jf:hasParameter|jf:hasTag|prov:qualifiedUsage"
MODEL_OWNS = "jf:hasMeasurement|jf:hasParameter|jf:hasTag"
# Read whole by every import.
REREAD = (JF.Experiment, JF.Model, JF.RegisteredModel, JF.ModelVersion)


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
            for r in page:
                text.run(r)
                seen.append(
                    _Seen(
                        r.info.run_id,
                        tuple(t for t in (r.info.start_time, r.info.end_time) if t),
                        tuple(tagged_requirements(r)),
                        frozenset(r.data.metrics),
                    )
                )
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
            run.watermark = datetime.fromtimestamp(max(times) / 1000, UTC)
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
