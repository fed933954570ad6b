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
import logging
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple

from justify.config import Config, load_config
from justify.errors import SourceUnavailable, UsageError
from justify.iris import Minter
from justify.progress import Progress
from justify.provenance import datetime_literal, import_record, now
from justify.query import run_query
from justify.store import GraphStore, open_store
from justify.urls import strip_credentials
from justify.vocab import DCTERMS, JF, MLS, PROV, RDF, RDFS, XSD

REQUIREMENTS_TAG = "justify.requirements"
GIT_COMMIT_TAG = "mlflow.source.git.commit"
GIT_BRANCH_TAG = "mlflow.source.git.branch"
GIT_REPO_TAG = "mlflow.source.git.repoURL"
PARENT_TAG = "mlflow.parentRunId"
CONTEXT_TAG = "mlflow.data.context"
PAGE_SIZE = 1000
# MLflow retries an unreachable server for minutes by default; fail in seconds
# unless the user set MLflow's own variables.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
_URL_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@\"']+@")


@dataclass
class MlflowData:
    """Everything one import read from MLflow."""

    experiments: list[Any] = field(default_factory=list)
    runs: list[Any] = field(default_factory=list)
    deleted_run_ids: set[str] = field(default_factory=set)
    histories: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    logged_models: list[Any] = field(default_factory=list)
    registered_models: list[Any] = field(default_factory=list)
    versions: list[Any] = field(default_factory=list)


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
    uri = tracking_uri or config.mlflow_tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise UsageError(
            "no MLflow tracking URI is set",
            hint="give --tracking-uri, set 'mlflow_tracking_uri' in the configuration, "
            "or set MLFLOW_TRACKING_URI",
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
    return uri


class MlflowReader:
    """Reads one tracking source through MLflow's own client."""

    def __init__(self, uri: str, *, progress: bool = True) -> None:
        from mlflow import MlflowClient  # imported here: mlflow is slow to import

        self.uri = uri
        self.display = strip_credentials(uri)
        self.client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        self.progress = progress
        self.running: set[str] = set()  # run ids running at the last import

    def read(
        self,
        *,
        experiment_names: Sequence[str] = (),
        since_ms: int | None,
        history_keys: Callable[[Any], Iterable[str]],
    ) -> MlflowData:
        from mlflow.entities import ViewType

        data = MlflowData()
        try:
            with _http_defaults():
                data.experiments = list(
                    _pages(
                        self.client.search_experiments,
                        view_type=ViewType.ALL,
                        max_results=PAGE_SIZE,
                    )
                )
                if experiment_names:
                    known = {e.name: e for e in data.experiments}
                    missing = [n for n in experiment_names if n not in known]
                    if missing:
                        names = ", ".join(repr(m) for m in missing)
                        raise UsageError(
                            f"no experiment named {names} at {self.display}",
                            hint="experiments there: " + ", ".join(sorted(known)),
                        )
                    data.experiments = [known[n] for n in experiment_names]
                ids = [e.experiment_id for e in data.experiments]
                if ids:
                    data.runs = self._runs(ids, since_ms)
                    data.deleted_run_ids = {
                        r.info.run_id
                        for r in _pages(
                            self.client.search_runs,
                            experiment_ids=ids,
                            run_view_type=ViewType.DELETED_ONLY,
                            max_results=PAGE_SIZE,
                        )
                    }
                    data.logged_models = list(
                        _pages(
                            self.client.search_logged_models, experiment_ids=ids, max_results=100
                        )
                    )
                data.registered_models = list(
                    _pages(self.client.search_registered_models, max_results=100)
                )
                data.versions = list(
                    _pages(self.client.search_model_versions, max_results=PAGE_SIZE)
                )
                self._histories(data, history_keys)
        except (UsageError, SourceUnavailable):
            raise
        except Exception as exc:
            raise _unavailable(self.display, exc) from exc
        return data

    def _runs(self, ids: list[str], since_ms: int | None) -> list[Any]:
        from mlflow.entities import ViewType

        progress = Progress("mlflow runs", enabled=self.progress)
        filters = [""]
        if since_ms is not None:
            filters = [
                f"attributes.start_time > {since_ms}",
                f"attributes.end_time > {since_ms}",
                "attributes.status = 'RUNNING'",
            ]
            # Runs that were running at the last import may have ended with an
            # end time (a client's clock) before the watermark.
            running = sorted(self.running)
            for i in range(0, len(running), 100):
                quoted = ", ".join(f"'{r}'" for r in running[i : i + 100])
                filters.append(f"attributes.run_id IN ({quoted})")
        runs: dict[str, Any] = {}
        for filter_string in filters:
            for run in _pages(
                self.client.search_runs,
                experiment_ids=ids,
                filter_string=filter_string,
                run_view_type=ViewType.ACTIVE_ONLY,
                max_results=PAGE_SIZE,
            ):
                if run.info.run_id not in runs:
                    runs[run.info.run_id] = run
                    progress.advance()
        progress.done()
        return list(runs.values())

    def _histories(self, data: MlflowData, history_keys: Callable[[Any], Iterable[str]]) -> None:
        wanted = [(run.info.run_id, key) for run in data.runs for key in history_keys(run)]
        progress = Progress("metric histories", total=len(wanted), enabled=self.progress)
        for run_id, key in wanted:
            data.histories[(run_id, key)] = self.client.get_metric_history(run_id, key)
            progress.advance()
        progress.done()


# ---------------------------------------------------------------- requirements


@dataclass(frozen=True)
class RequirementIndex:
    """What the importer needs of the loaded requirements."""

    ids: frozenset[str]
    metrics: dict[str, frozenset[str]]  # requirement id -> criteria metric keys
    scopes: dict[str, tuple[str, str | None]]  # requirement id -> (model name, alias)


def requirement_index(store: GraphStore) -> RequirementIndex:
    rows = run_query(
        store,
        """SELECT ?id ?name ?alias ?metric WHERE {
             ?r a jf:Requirement ; dcterms:identifier ?id .
             OPTIONAL { ?r jf:scopeModelName ?name OPTIONAL { ?r jf:scopeAlias ?alias } }
             OPTIONAL { ?r jf:hasCriterion/jf:metricKey ?metric } }""",
    ).values()
    metrics: dict[str, set[str]] = {}
    scopes: dict[str, tuple[str, str | None]] = {}
    for row in rows:
        rid = row["id"] or ""
        metrics.setdefault(rid, set())
        if row["metric"]:
            metrics[rid].add(row["metric"])
        if row["name"]:
            scopes[rid] = (row["name"], row["alias"])
    return RequirementIndex(
        frozenset(metrics), {k: frozenset(v) for k, v in metrics.items()}, scopes
    )


def tagged_requirements(run: Any) -> list[str]:
    raw = run.data.tags.get(REQUIREMENTS_TAG, "")
    return [part.strip() for part in raw.split(",") if part.strip()]


def scoped_versions(
    index: RequirementIndex, registered: list[Any], versions: list[Any]
) -> tuple[dict[str, list[Any]], list[str]]:
    """Requirement id -> the model versions its model scope names; and warnings."""
    by_name: dict[str, dict[str, Any]] = {}
    for v in versions:
        by_name.setdefault(v.name, {})[str(v.version)] = v
    aliases = {m.name: {a: str(v) for a, v in (m.aliases or {}).items()} for m in registered}
    result: dict[str, list[Any]] = {}
    warnings = []
    for rid, (name, alias) in sorted(index.scopes.items()):
        found = by_name.get(name, {})
        if not found:
            warnings.append(f"{rid}: model scope '{name}' names no registered model here")
            continue
        if alias:
            number = aliases.get(name, {}).get(alias)
            if number is None or number not in found:
                warnings.append(f"{rid}: model '{name}' has no version with alias '{alias}'")
                continue
            result[rid] = [found[number]]
        else:
            result[rid] = [found[max(found, key=int)]]
    return result, warnings


# ------------------------------------------------------------------- triples


def _ms(ms: int | None) -> Literal | None:
    if ms is None:
        return None
    return datetime_literal(datetime.fromtimestamp(ms / 1000, UTC))


def _double(value: float) -> Literal:
    if math.isnan(value):
        text = "NaN"
    elif math.isinf(value):
        text = "INF" if value > 0 else "-INF"
    else:
        text = repr(float(value))
    return Literal(text, datatype=XSD.double)


def _integer(value: int) -> Literal:
    return Literal(str(int(value)), datatype=XSD.integer)


def clean_text(text: str) -> str:
    """Any URL inside ``text`` loses its credentials."""
    return _URL_CREDENTIALS.sub(r"\1", text)


class TripleBuilder:
    """Turns what was read into triples, with IRIs stable across imports."""

    def __init__(self, minter: Minter, source_id: str, index: RequirementIndex) -> None:
        self.minter = minter
        self.source_id = source_id
        self.index = index
        self.datasets: set[str] = set()
        self.metric_count = 0
        self.unknown: dict[str, set[str]] = {}

    def iri(self, *parts: str) -> NamedNode:
        return self.minter.iri("mlflow", self.source_id, *parts)

    def experiment(self, e: Any) -> Iterator[Triple]:
        node = self.iri("experiment", e.experiment_id)
        yield Triple(node, RDF.type, JF.Experiment)
        yield Triple(node, RDF.type, MLS.Experiment)
        yield Triple(node, RDF.type, PROV.Entity)
        yield Triple(node, JF.experimentId, Literal(e.experiment_id))
        yield Triple(node, DCTERMS.title, Literal(e.name))
        yield Triple(node, RDFS.label, Literal(f"experiment {e.name}"))
        yield Triple(node, JF.lifecycleStage, Literal(e.lifecycle_stage))
        yield from self._tags(node, e.tags or {})

    def _tags(self, owner: NamedNode, tags: dict[str, str]) -> Iterator[Triple]:
        for key, value in tags.items():
            t = NamedNode(f"{owner.value}/tag/{_seg(key)}")
            yield Triple(owner, JF.hasTag, t)
            yield Triple(t, RDF.type, JF.Tag)
            yield Triple(t, JF.key, Literal(key))
            yield Triple(t, JF.textValue, Literal(clean_text(str(value))))

    def _params(self, owner: NamedNode, params: dict[str, str]) -> Iterator[Triple]:
        for key, value in params.items():
            p = NamedNode(f"{owner.value}/param/{_seg(key)}")
            yield Triple(owner, JF.hasParameter, p)
            yield Triple(p, RDF.type, JF.ParameterSetting)
            yield Triple(p, JF.key, Literal(key))
            yield Triple(p, JF.textValue, Literal(clean_text(str(value))))

    def dataset(self, ds: Any) -> tuple[NamedNode, list[Triple]]:
        node = self.iri("dataset", ds.name, ds.digest)
        if node.value in self.datasets:
            return node, []
        self.datasets.add(node.value)
        triples = [
            Triple(node, RDF.type, JF.Dataset),
            Triple(node, RDF.type, MLS.Dataset),
            Triple(node, RDF.type, PROV.Entity),
            Triple(node, DCTERMS.title, Literal(ds.name)),
            Triple(node, RDFS.label, Literal(f"dataset {ds.name} ({ds.digest})")),
            Triple(node, JF.digest, Literal(ds.digest)),
        ]
        if getattr(ds, "source_type", None):
            triples.append(Triple(node, JF.sourceType, Literal(ds.source_type)))
        if getattr(ds, "source", None):
            triples.append(Triple(node, JF.source, Literal(clean_text(ds.source))))
        return node, triples

    def run(self, run: Any, histories: dict[tuple[str, str], list[Any]]) -> Iterator[Triple]:
        info, data = run.info, run.data
        node = self.iri("run", info.run_id)
        for t in (JF.Run, MLS.Run, PROV.Activity, JF.Evidence):
            yield Triple(node, RDF.type, t)
        yield Triple(node, JF.runId, Literal(info.run_id))
        name = info.run_name or info.run_id
        yield Triple(node, DCTERMS.title, Literal(name))
        yield Triple(node, RDFS.label, Literal(f"run {name} ({info.run_id[:8]})"))
        yield Triple(node, JF.runStatus, Literal(info.status))
        yield Triple(node, JF.lifecycleStage, Literal(info.lifecycle_stage))
        yield Triple(node, JF.inExperiment, self.iri("experiment", info.experiment_id))
        if info.user_id:
            yield Triple(node, JF.user, Literal(info.user_id))
        for predicate, ms in (
            (PROV.startedAtTime, info.start_time),
            (PROV.endedAtTime, info.end_time),
        ):
            value = _ms(ms)
            if value is not None:
                yield Triple(node, predicate, value)
        tags = data.tags
        if tags.get(PARENT_TAG):
            yield Triple(node, JF.parentRun, self.iri("run", tags[PARENT_TAG]))
        if tags.get(GIT_COMMIT_TAG):
            yield Triple(node, JF.gitCommitSha, Literal(tags[GIT_COMMIT_TAG]))
        if tags.get(GIT_BRANCH_TAG):
            yield Triple(node, JF.gitBranch, Literal(tags[GIT_BRANCH_TAG]))
        if tags.get(GIT_REPO_TAG):
            yield Triple(node, JF.remoteUrl, Literal(strip_credentials(tags[GIT_REPO_TAG])))
        for rid in tagged_requirements(run):
            yield Triple(node, JF.supports, self.minter.requirement(rid))
            if rid not in self.index.ids:
                self.unknown.setdefault(rid, set()).add(info.run_id)
        yield from self._tags(node, tags)
        yield from self._params(node, data.params)

        for n, dsi in enumerate(run.inputs.dataset_inputs if run.inputs else [], 1):
            ds_node, ds_triples = self.dataset(dsi.dataset)
            yield from ds_triples
            usage = NamedNode(f"{node.value}/input/{n}")
            yield Triple(node, JF.usedDataset, ds_node)
            yield Triple(node, PROV.qualifiedUsage, usage)
            yield Triple(usage, RDF.type, PROV.Usage)
            yield Triple(usage, PROV.entity, ds_node)
            for tag in dsi.tags or []:
                if tag.key == CONTEXT_TAG:
                    yield Triple(usage, JF.context, Literal(tag.value))

        for metric in _metric_objects(data):
            self.metric_count += 1
            m = NamedNode(f"{node.value}/metric/{_seg(metric.key)}")
            yield Triple(node, JF.hasMeasurement, m)
            yield from self._measurement(m, metric)
            for point in histories.get((info.run_id, metric.key), []):
                h = NamedNode(f"{m.value}/{int(point.step)}/{int(point.timestamp)}")
                yield Triple(m, JF.historyPoint, h)
                yield from self._measurement(h, point)

    def _measurement(self, m: NamedNode, metric: Any) -> Iterator[Triple]:
        yield Triple(m, RDF.type, JF.Measurement)
        yield Triple(m, JF.metricKey, Literal(metric.key))
        yield Triple(m, JF.value, _double(metric.value))
        yield Triple(m, JF.step, _integer(metric.step))
        stamp = _ms(metric.timestamp)
        if stamp is not None:
            yield Triple(m, JF.timestamp, stamp)

    def logged_model(
        self, model: Any, dataset_nodes: dict[tuple[str, str], NamedNode]
    ) -> Iterator[Triple]:
        node = self.iri("model", model.model_id)
        for t in (JF.Model, MLS.Model, PROV.Entity):
            yield Triple(node, RDF.type, t)
        yield Triple(node, JF.modelId, Literal(model.model_id))
        yield Triple(node, DCTERMS.title, Literal(model.name))
        yield Triple(node, RDFS.label, Literal(f"logged model {model.name} ({model.model_id})"))
        status = getattr(model.status, "name", None) or str(model.status)
        yield Triple(node, JF.modelStatus, Literal(status))
        if model.source_run_id:
            run = self.iri("run", model.source_run_id)
            yield Triple(node, JF.producedBy, run)
            yield Triple(node, PROV.wasGeneratedBy, run)
        yield from self._params(node, model.params or {})
        yield from self._tags(node, model.tags or {})
        for n, metric in enumerate(model.metrics or [], 1):
            m = NamedNode(f"{node.value}/metric/{n}")
            yield Triple(node, JF.hasMeasurement, m)
            yield from self._measurement(m, metric)
            if metric.dataset_name and metric.dataset_digest:
                ds = dataset_nodes.get((metric.dataset_name, metric.dataset_digest))
                ds = ds or self.iri("dataset", metric.dataset_name, metric.dataset_digest)
                yield Triple(m, JF.onDataset, ds)
                if model.source_run_id:
                    # The run's own measurement of this key was computed on that dataset.
                    run_m = self.iri("run", model.source_run_id, "metric", metric.key)
                    yield Triple(run_m, JF.onDataset, ds)

    def registered_model(self, model: Any) -> Iterator[Triple]:
        node = self.iri("registered-model", model.name)
        yield Triple(node, RDF.type, JF.RegisteredModel)
        yield Triple(node, RDF.type, PROV.Collection)
        yield Triple(node, DCTERMS.title, Literal(model.name))
        yield Triple(node, RDFS.label, Literal(f"registered model {model.name}"))
        yield from self._tags(node, model.tags or {})

    def version(self, v: Any, aliases: list[str], supports: list[str]) -> Iterator[Triple]:
        model = self.iri("registered-model", v.name)
        node = self.iri("registered-model", v.name, "version", str(v.version))
        for t in (JF.ModelVersion, MLS.Model, PROV.Entity, JF.Evidence):
            yield Triple(node, RDF.type, t)
        yield Triple(node, JF.versionOf, model)
        yield Triple(model, PROV.hadMember, node)
        yield Triple(node, JF.versionNumber, _integer(int(v.version)))
        label = f"{v.name} version {v.version}" + "".join(f" @{a}" for a in aliases)
        yield Triple(node, RDFS.label, Literal(label))
        yield Triple(node, JF.modelStatus, Literal(str(v.status)))
        for alias in aliases:
            yield Triple(node, JF.alias, Literal(alias))
        if v.run_id:
            run = self.iri("run", v.run_id)
            yield Triple(node, JF.producedBy, run)
            yield Triple(node, PROV.wasGeneratedBy, run)
        model_id = getattr(v, "model_id", None) or _model_id_from_source(v.source)
        if model_id:
            yield Triple(node, JF.loggedModel, self.iri("model", model_id))
        yield from self._tags(node, v.tags or {})
        for rid in supports:
            yield Triple(node, JF.supports, self.minter.requirement(rid))


def _seg(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="-._~@")


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


def source_graph(minter: Minter, display_uri: str) -> NamedNode:
    return minter.graph("mlflow", display_uri)


@dataclass(frozen=True)
class PreviousImport:
    """What the graph says about the last import of one source."""

    watermark_ms: int | None
    runs: frozenset[str]
    running: frozenset[str]


def _previous_import(store: GraphStore, graph: NamedNode) -> PreviousImport:
    mark = run_query(
        store,
        f"SELECT ?t WHERE {{ GRAPH <{graph.value}> {{ ?i a jf:Import ; jf:watermark ?t }} }}",
    ).values()
    runs = run_query(
        store,
        f"""SELECT ?id ?status WHERE {{ GRAPH <{graph.value}> {{
              ?r a jf:Run ; jf:runId ?id ; jf:runStatus ?status }} }}""",
    ).values()
    watermark = None
    if mark and mark[0]["t"]:
        moment = datetime.fromisoformat(mark[0]["t"].replace("Z", "+00:00"))
        watermark = round(moment.timestamp() * 1000)
    return PreviousImport(
        watermark,
        frozenset(r["id"] for r in runs if r["id"]),
        frozenset(r["id"] for r in runs if r["id"] and r["status"] == "RUNNING"),
    )


def _watermark(runs: Iterable[Any], previous: int | None) -> int | None:
    times = [t for r in runs for t in (r.info.start_time, r.info.end_time) if t]
    if previous is not None:
        times.append(previous)
    return max(times, default=None)


def _delete_runs(graph: NamedNode, run_iris: list[NamedNode]) -> Iterator[str]:
    """SPARQL updates removing what each run owns (in batches)."""
    for i in range(0, len(run_iris), 200):
        values = " ".join(f"<{r.value}>" for r in run_iris[i : i + 200])
        yield f"""
        PREFIX jf: <{JF.iri}> PREFIX prov: <{PROV.iri}>
        DELETE {{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }} WHERE {{
          VALUES ?run {{ {values} }}
          GRAPH <{graph.value}> {{
            ?run (jf:hasMeasurement/jf:historyPoint?|jf:hasParameter|jf:hasTag
                  |prov:qualifiedUsage)? ?s .
            ?s ?p ?o }} }}"""


def _delete_subjects_of_types(graph: NamedNode, types: Iterable[NamedNode]) -> str:
    """Remove logged models, registered models and versions, with what they own."""
    values = " ".join(f"<{t.value}>" for t in types)
    return f"""
    PREFIX jf: <{JF.iri}>
    DELETE {{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }} WHERE {{
      VALUES ?type {{ {values} }}
      GRAPH <{graph.value}> {{ ?x a ?type . ?x (jf:hasMeasurement|jf:hasParameter|jf:hasTag)? ?s .
                               ?s ?p ?o }} }}"""


def import_mlflow(
    *,
    tracking_uri: str | None = None,
    experiments: Sequence[str] = (),
    full: bool = False,
    config: Config | None = None,
    store: GraphStore | None = None,
    progress: bool = True,
) -> MlflowImportSummary:
    """Import one MLflow tracking source into its named graph.

    Incremental unless ``full`` or first import. Raises ``SourceUnavailable``
    (exit 3) when MLflow cannot be read; the graph then keeps its last import.
    """
    config = config or load_config()
    started = now()
    uri = resolve_tracking_uri(tracking_uri, config)
    display = strip_credentials(uri)
    store = store or open_store(config.store_location)
    minter = Minter(config.base_iri)
    graph = source_graph(minter, display)
    index = requirement_index(store)
    previous = _previous_import(store, graph)
    previous_runs = set(previous.runs)
    full = full or previous.watermark_ms is None or bool(experiments)

    def history_keys(run: Any) -> set[str]:
        keys: set[str] = set()
        for rid in tagged_requirements(run):
            keys |= index.metrics.get(rid, frozenset())
        return keys & set(run.data.metrics)

    reader = MlflowReader(uri, progress=progress)
    reader.running = set(previous.running)
    data = reader.read(
        experiment_names=experiments,
        since_ms=None if full else previous.watermark_ms,
        history_keys=history_keys,
    )
    scoped, warnings = scoped_versions(index, data.registered_models, data.versions)
    # Runs that produced a scoped version are evidence too: their criteria get histories.
    scoped_runs: dict[str, set[str]] = {}
    for rid, versions in scoped.items():
        for v in versions:
            scoped_runs.setdefault(v.run_id, set()).update(index.metrics.get(rid, frozenset()))
    extra = [
        (r.info.run_id, k)
        for r in data.runs
        for k in scoped_runs.get(r.info.run_id, set())
        if k in r.data.metrics and (r.info.run_id, k) not in data.histories
    ]
    if extra:
        try:
            with _http_defaults():
                for run_id, key in extra:
                    data.histories[(run_id, key)] = reader.client.get_metric_history(run_id, key)
        except Exception as exc:
            raise _unavailable(display, exc) from exc

    source_id = graph.value.rsplit("/", 1)[-1]
    builder = TripleBuilder(minter, source_id, index)
    triples: list[Triple] = []
    for e in data.experiments:
        triples.extend(builder.experiment(e))
    write_progress = Progress("graph", total=len(data.runs), enabled=progress)
    for run in data.runs:
        triples.extend(builder.run(run, data.histories))
        write_progress.advance()
    write_progress.done()
    dataset_nodes = {
        (d.dataset.name, d.dataset.digest): builder.iri("dataset", d.dataset.name, d.dataset.digest)
        for r in data.runs
        for d in (r.inputs.dataset_inputs if r.inputs else [])
    }
    for model in data.logged_models:
        triples.extend(builder.logged_model(model, dataset_nodes))
    aliases: dict[tuple[str, str], list[str]] = {}
    for m in data.registered_models:
        triples.extend(builder.registered_model(m))
        for alias, version in (m.aliases or {}).items():
            aliases.setdefault((m.name, str(version)), []).append(alias)
    supports: dict[tuple[str, str], list[str]] = {}
    for rid, versions in scoped.items():
        for v in versions:
            supports.setdefault((v.name, str(v.version)), []).append(rid)
    for v in data.versions:
        version_key = (v.name, str(v.version))
        triples.extend(
            builder.version(v, sorted(aliases.get(version_key, [])), supports.get(version_key, []))
        )
    for rid, run_ids in sorted(builder.unknown.items()):
        listed = ", ".join(sorted(r[:8] for r in run_ids))
        warnings.append(
            f"run tag '{REQUIREMENTS_TAG}' names unknown requirement '{rid}' (runs {listed})"
        )

    read_ids = {r.info.run_id for r in data.runs}
    removed_ids = previous_runs & data.deleted_run_ids if not full else previous_runs - read_ids
    triples.extend(
        import_record(
            minter,
            graph,
            kind="mlflow",
            location=display,
            started=started,
            items=len(read_ids | (previous_runs - removed_ids if not full else set())),
        )
    )
    watermark = _watermark(data.runs, None if full else previous.watermark_ms)
    if watermark is not None:
        stamp = _ms(watermark)
        assert stamp is not None
        triples.append(Triple(minter.import_activity(graph), JF.watermark, stamp))
    with store.write() as writer:
        if full:
            writer.replace_graph(graph, triples)
        else:
            stale = [
                builder.iri("run", r) for r in sorted((read_ids & previous_runs) | removed_ids)
            ]
            for update in _delete_runs(graph, stale):
                writer.update(update)
            # Read whole each time: experiments, models, the registry, the import record.
            owned = (JF.Experiment, JF.Model, JF.RegisteredModel, JF.ModelVersion, JF.Import)
            writer.update(_delete_subjects_of_types(graph, (*owned, JF.SourceGraph)))
            writer.add(graph, triples)
    return MlflowImportSummary(
        source=display,
        graph=graph.value,
        full=full,
        experiments=len(data.experiments),
        runs=len(data.runs),
        metrics=builder.metric_count,
        datasets=len(builder.datasets),
        models=len(data.logged_models),
        registered_models=len(data.registered_models),
        versions=len(data.versions),
        added=len(read_ids - previous_runs),
        updated=len(read_ids & previous_runs),
        removed=len(removed_ids),
        warnings=tuple(warnings),
    )
