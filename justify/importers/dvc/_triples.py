"""A DVC revision (a commit of the pipeline, or an experiment) as one evidence run."""

from __future__ import annotations

import json
from typing import Any

from justify.importers.dvc._repo import (
    DEFAULT_PARAMS,
    Artifact,
    Revision,
    flatten,
    lock,
    parse,
    pipeline,
    requirement_ids,
)
from justify.iris import Minter
from justify.ntriples import (
    LABEL,
    TITLE,
    TYPE,
    XSD_DATETIME,
    J,
    Lines,
    P,
    double,
    is_number,
    literal,
    segment,
    typed,
)

REQUIREMENTS_PARAM = "justify.requirements"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


class DvcText:
    """Writes each revision's run with its params, metrics and datasets."""

    def __init__(self, minter: Minter, graph_key: str, repo_name: str, known: frozenset[str]):
        self.minter = minter
        self.known = known
        self.out = Lines()
        self.unknown: dict[str, set[str]] = {}
        self.datasets: set[str] = set()
        self.pipeline = self.iri("pipeline", graph_key)
        self.out.add(self.pipeline, TYPE, J.Experiment)
        self.out.add(self.pipeline, TITLE, literal(repo_name))
        self.out.add(self.pipeline, LABEL, literal(f"DVC pipeline {repo_name}"))
        self.params = self.metrics = 0

    def iri(self, *parts: str) -> str:
        return "<" + self.minter.base + "dvc/" + "/".join(segment(p) for p in parts) + ">"

    def run_iri(self, sha: str) -> str:
        return self.iri("run", sha)

    def dataset(self, artifact: Artifact) -> str:
        node = self.iri("dataset", artifact.path, artifact.digest)
        if node not in self.datasets:
            self.datasets.add(node)
            add = self.out.add
            add(node, TYPE, J.Dataset)
            add(node, TYPE, P.Entity)
            add(node, TITLE, literal(artifact.path))
            add(node, LABEL, literal(f"dataset {artifact.path} ({artifact.digest[:8]})"))
            if artifact.digest:
                add(node, J.digest, literal(artifact.digest))
            add(node, J.source, literal("dvc"))
        return node

    def run(self, revision: Revision) -> None:
        node, add = self.run_iri(revision.sha), self.out.add
        for t in (J.Run, P.Activity, J.Evidence):
            add(node, TYPE, t)
        add(node, J.runId, literal(revision.sha))
        if revision.experiment:
            add(node, TITLE, literal(revision.experiment))
            add(node, LABEL, literal(f"DVC experiment {revision.experiment} ({revision.sha[:8]})"))
        else:
            add(node, TITLE, literal(f"{revision.title} ({revision.sha[:8]})"))
            add(node, LABEL, literal(f"DVC run at commit {revision.sha[:8]}"))
        add(node, J.runStatus, literal("finished"))
        add(node, P.startedAtTime, typed(revision.time, XSD_DATETIME))
        add(node, P.endedAtTime, typed(revision.time, XSD_DATETIME))
        add(node, J.inExperiment, self.pipeline)
        commit = revision.baseline or revision.sha
        # Commit IRIs depend on the sha alone: the Git graph joins here.
        add(node, J.onCommit, f"<{self.minter.base}commit/{segment(commit)}>")
        add(node, J.gitCommitSha, literal(commit))
        requirements = set(revision.trailers)
        spec = revision.pipeline or pipeline(revision)
        stem = node[:-1]
        for path in spec.params:
            data = parse(revision, path)
            for key, value in flatten(data):
                if key == REQUIREMENTS_PARAM:
                    requirements.update(requirement_ids(value))
                shown = key if path == DEFAULT_PARAMS else f"{path}:{key}"
                p = f"{stem}/param/{segment(shown)}>"
                add(node, J.hasParameter, p)
                add(p, J.key, literal(shown))
                add(p, J.textValue, literal(_text(value)))
                self.params += 1
        deps, outs, commands = lock(revision)
        for name, command in sorted(commands.items()):
            t = f"{stem}/tag/{segment('dvc.stage.' + name + '.cmd')}>"
            add(node, J.hasTag, t)
            add(t, J.key, literal(f"dvc.stage.{name}.cmd"))
            add(t, J.textValue, literal(command))
        used: dict[str, str] = {}
        for n, dep in enumerate(deps, 1):
            dataset = self.dataset(dep)
            used.setdefault(dep.path, dataset)
            add(node, J.usedDataset, dataset)
            usage = f"{stem}/input/{n}>"
            add(node, P.qualifiedUsage, usage)
            add(usage, TYPE, P.Usage)
            add(usage, P.entity, dataset)
            add(usage, J.context, literal(dep.stage))
        for out in outs:
            add(self.dataset(out), P.wasGeneratedBy, node)
        # A metric is computed by the stage whose outputs hold its file: it is also
        # recorded on each of that stage's deps and outs, so that a criterion with
        # `dataset: PATH` finds it.
        producer = {out.path: out.stage for out in outs}
        keys: dict[str, str] = {}
        for path in spec.metrics:
            for key, value in flatten(parse(revision, path)):
                if not is_number(value):
                    continue
                key = key if key not in keys else f"{path}:{key}"
                keys[key] = path
                m = f"{stem}/metric/{segment(key)}>"
                add(node, J.hasMeasurement, m)
                add(m, J.metricKey, literal(key))
                add(m, J.value, double(float(value)))
                self.metrics += 1
                stage = producer.get(path)
                for artifact in [*deps, *outs]:
                    if stage is None or artifact.stage != stage or artifact.path == path:
                        continue
                    on = self.dataset(artifact)
                    d = f"{stem}/metric/{segment(key)}/on/{segment(artifact.path)}>"
                    add(node, J.hasMeasurement, d)
                    add(d, J.metricKey, literal(key))
                    add(d, J.value, double(float(value)))
                    add(d, J.onDataset, on)
        for rid in sorted(requirements):
            add(node, J.supports, f"<{self.minter.requirement(rid).value}>")
            if rid not in self.known:
                self.unknown.setdefault(rid, set()).add(revision.sha)
