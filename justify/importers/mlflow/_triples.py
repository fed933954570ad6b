"""What was read from MLflow, as N-Triples lines with IRIs stable across imports."""

from __future__ import annotations

import functools
import time
from typing import Any

from justify.importers._protocol import (
    RequirementCatalogue,
)
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
    literal,
    segment,
    typed,
)
from justify.urls import MASK, is_secret_name, strip_credentials
from justify.vocab import MLS

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

MLS_RUN, MLS_EXPERIMENT = f"<{MLS.Run.value}>", f"<{MLS.Experiment.value}>"
MLS_MODEL, MLS_DATASET = f"<{MLS.Model.value}>", f"<{MLS.Dataset.value}>"


@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def _time(ms: int) -> str:
    # Formatted by hand: a datetime per metric costs more than the rest of its triples.
    seconds, millis = divmod(int(ms), 1000)
    return f'"{_second(seconds)}.{millis:03d}Z"^^{XSD_DATETIME}'


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
        self._pairs(node, "tag", J.hasTag, e.tags or {})

    # The classes of tags, parameters and measurements are not written: the ranges of
    # jf:hasTag, jf:hasParameter, jf:hasMeasurement and jf:historyPoint give them, and
    # they were a sixth of a run's triples.
    def _pairs(self, owner: str, kind: str, link: str, pairs: dict[str, Any]) -> None:
        stem, raw = owner[:-1] + "/" + kind + "/", self.out.raw
        for key, value in pairs.items():
            node = stem + segment(key) + ">"
            raw(
                f"{owner} {link} {node} .\n"
                f"{node} {J.key} {literal(key)} .\n"
                f"{node} {J.textValue} {literal(MASK if is_secret_name(key) else str(value))} .\n"
            )

    def _measurement(self, node: str, metric: Any) -> None:
        text = (
            f"{node} {J.metricKey} {literal(metric.key)} .\n"
            f"{node} {J.value} {double(metric.value)} .\n"
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
        self._pairs(node, "tag", J.hasTag, tags)
        self._pairs(node, "param", J.hasParameter, data.params)
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
        self._pairs(node, "param", J.hasParameter, model.params or {})
        self._pairs(node, "tag", J.hasTag, model.tags or {})
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
        self._pairs(node, "tag", J.hasTag, model.tags or {})

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
        self._pairs(node, "tag", J.hasTag, v.tags or {})


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
