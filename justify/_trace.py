"""``justify trace REQ-ID``: one requirement's justification as a tree.

A text renderer of the judgement: the status, the current evidence and each
criterion's verdict come from :mod:`justify.judgement` (the recorded judgement, or
one made in memory when the graph changed since); this module only adds what the
graph says about the supports (runs with their values, datasets, commits and
authors, model versions, attestations, sub-requirements) and never compares a
value itself. It never writes.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from pyoxigraph import Literal

from justify._query import iris, run_query, values
from justify.check_formats import criterion_line
from justify.config import Config, load_config
from justify.errors import UsageError
from justify.judgement import Judgement, RequirementStatus, current
from justify.store import GraphStore, open_store


@dataclass
class Node:
    """One line of the tree and the lines under it."""

    text: str
    children: list[Node] = field(default_factory=list)

    def add(self, text: str) -> Node:
        child = Node(text)
        self.children.append(child)
        return child

    def render(self, prefix: str = "", last: bool = True, root: bool = True) -> list[str]:
        lines = [self.text if root else f"{prefix}{'└─ ' if last else '├─ '}{self.text}"]
        inner = "" if root else prefix + ("   " if last else "│  ")
        for i, child in enumerate(self.children):
            lines.extend(child.render(inner, i == len(self.children) - 1, root=False))
        return lines


Row = dict[str, str | None]


def _rows(store: GraphStore, sparql: str) -> list[Row]:
    return run_query(store, sparql).values()


def trace(
    requirement: str, *, config: Config | None = None, store: GraphStore | None = None
) -> Node:
    """The justification tree of one requirement."""
    config = config or load_config()
    store = store or open_store(config)
    judgement = current(config=config, store=store)
    req = judgement.requirements.get(requirement)
    if req is None:
        close = difflib.get_close_matches(requirement, list(judgement.requirements), n=3)
        raise UsageError(
            f"no requirement with id '{requirement}' in the store",
            hint=(f"did you mean {', '.join(close)}? " if close else "")
            + "`justify query requirements` lists them",
        )
    return tree(judgement, req, store)


def tree(judgement: Judgement, req: RequirementStatus, store: GraphStore) -> Node:
    """Render one requirement of a judgement, with the supports the graph holds."""
    this = values("r", iris([req.iri]))
    (head,) = _rows(
        store,
        f"""SELECT ?statement ?strategy ?rationale ?domain WHERE {{ {this}
            OPTIONAL {{ ?r jf:statement ?statement }}
            OPTIONAL {{ ?r jf:justifiedBy ?j . ?j jf:strategy/rdfs:label ?strategy .
                        OPTIONAL {{ ?j jf:usageDomain ?domain }} }}
            OPTIONAL {{ ?r jf:rationale ?rationale }} }} LIMIT 1""",
    ) or [{"statement": None, "strategy": None, "rationale": None, "domain": None}]
    root = Node(f"{req.id}: {req.title}  [{req.status}]  {req.file}:{req.line}")
    if judgement.changed_since:
        root.add("note: the graph changed after the last recorded check; judged afresh")
    for label, key in (("statement", "statement"), ("rationale", "rationale"),
                       ("strategy", "strategy"), ("usage domain", "domain")):  # fmt: skip
        if head.get(key):
            root.add(f"{label}: {head[key]}")
    if req.criteria:
        node = root.add("criteria (judged on the current evidence)")
        for c in req.criteria:
            line = node.add(criterion_line(c))
            if c.verdict == "not met" and c.reason:
                line.add(c.reason)
    for note in _annotations(store, req):
        root.add(note)

    if req.evidence:
        runs = _rows(
            store,
            f"""SELECT ?run ?name ?id ?status ?end ?experiment WHERE {{
              {values("run", iris(req.evidence))}
              ?run dcterms:title ?name ; jf:runId ?id ; jf:runStatus ?status .
              OPTIONAL {{ ?run prov:endedAtTime ?end }}
              OPTIONAL {{ ?run jf:inExperiment/dcterms:title ?experiment }} }}
              ORDER BY DESC(?end) ?run""",
        )
        node = root.add("evidence runs (newest first)")
        for run in runs:
            mark = "  <- current evidence" if run["run"] == req.current_evidence else ""
            line = node.add(
                f"run {run['name']} ({(run['id'] or '')[:8]})  {run['status']}  "
                f"ended {run['end'] or '-'}  {_via(store, req, run['run'] or '')}{mark}"
            )
            _run_details(store, line, run["run"] or "", req, judgement)

    commits = _rows(
        store,
        f"""SELECT ?sha ?title ?author WHERE {{ {this}
        ?c jf:supports ?r ; a jf:Commit ; jf:gitCommitSha ?sha ; jf:messageTitle ?title ;
           jf:author/jf:personName ?author }} ORDER BY ?sha""",
    )
    if commits:
        node = root.add("commits (Justifies: trailer)")
        for k in commits:
            node.add(f'{(k["sha"] or "")[:8]} "{k["title"]}" by {k["author"]}')

    attestations = _rows(
        store,
        f"""SELECT ?by ?date ?statement WHERE {{ {this}
        ?r jf:hasAttestation ?a . ?a jf:attestedBy ?by ; dcterms:date ?date ;
        jf:statement ?statement }} ORDER BY DESC(?date)""",
    )
    if attestations:
        node = root.add("attestations")
        for a in attestations:
            node.add(f"{a['date']} {a['by']}: {a['statement']}")

    for pid in req.parents:
        parent = judgement.requirements.get(pid)
        root.add(
            f"parent: {pid} {parent.title if parent else ''} [{parent.status if parent else '?'}]"
        )
    for cid in req.children:
        child = judgement.requirements.get(cid)
        root.add(
            f"sub-requirement: {cid} {child.title if child else ''} "
            f"[{child.status if child else '?'}]"
        )

    if req.scoped_version:
        version = judgement.model(req.scoped_version)
        if version is not None:
            root.add(f"model scope: {version.label}, {version.verdict.upper()}")
    if req.last_changed_in:
        last = _rows(
            store,
            f"""SELECT ?sha ?title ?time WHERE {{ {values("c", iris([req.last_changed_in]))}
            ?c jf:gitCommitSha ?sha ; jf:messageTitle ?title ; prov:endedAtTime ?time }}""",
        )
        if last:
            k = last[0]
            root.add(f'last changed: {(k["sha"] or "")[:8]} "{k["title"]}" at {k["time"]}')

    mine = judgement.results_about(req.iri)
    node = root.add("checks" if mine else "checks: all rules pass")
    for r in mine:
        node.add(f"{r.severity} {r.rule}: {r.message}")
    return root


def _annotations(store: GraphStore, req: RequirementStatus) -> list[str]:
    rows = _rows(
        store,
        f"""SELECT ?key ?value WHERE {{ {values("r", iris([req.iri]))}
          ?r jf:hasAnnotation ?a . ?a jf:key ?key ; jf:textValue ?value }} ORDER BY ?key""",
    )
    return [f"annotation {r['key']}: {r['value']}" for r in rows]


# How each built-in source names the requirements a run is evidence of.
_LINKS = {
    "mlflow": "run tag",
    "openlineage": "justify facet",
    "dvc": "params or commit trailer",
}


def _via(store: GraphStore, req: RequirementStatus, run: str) -> str:
    """Every way a run is evidence: its tag, and/or the scoped model version it produced."""
    ways = []
    bound = values("run", iris([run])) + " " + values("r", iris([req.iri]))
    # The link is written by the run's own source: name it in that source's words.
    linked = run_query(
        store,
        f"""SELECT DISTINCT ?kind WHERE {{ {bound} GRAPH ?g {{ ?run jf:supports ?r }}
              OPTIONAL {{ ?import jf:importedInto ?g ; jf:sourceKind ?kind }} }}""",
    ).values()
    ways += sorted({_LINKS.get(str(row["kind"]), "its source's link") for row in linked})
    if req.scoped_version:
        produced = _rows(
            store,
            f"""SELECT ?label WHERE {{ {values("v", iris([req.scoped_version]))}
            {values("run", iris([run]))} ?v jf:producedBy ?run ; rdfs:label ?label }}""",
        )
        ways += [f"model {p['label']}" for p in produced]
    return "via " + " and ".join(ways) if ways else ""


def _run_details(
    store: GraphStore, node: Node, run: str, req: RequirementStatus, judgement: Judgement
) -> None:
    run_term = values("run", iris([run]))
    if run == req.current_evidence:
        for c in req.criteria:
            node.add(criterion_line(c))
    else:  # older runs: what they measured, not judged
        keys = sorted({c.metric for c in req.criteria})
        if keys:
            measured = _rows(
                store,
                f"""SELECT ?key ?value ?on WHERE {{ {run_term}
                {values("key", [Literal(k) for k in keys])}
                ?run jf:hasMeasurement ?m . ?m jf:metricKey ?key ; jf:value ?value .
                OPTIONAL {{ ?m jf:onDataset/dcterms:title ?on }} }} ORDER BY ?key ?on""",
            )
            for key in keys:
                found = [m for m in measured if m["key"] == key]
                text = ", ".join(
                    f"{m['value']}" + (f" on {m['on']}" if m["on"] else "") for m in found
                )
                node.add(f"{key} = {text} (not judged: not the current evidence)" if found
                         else f"{key}: not logged")  # fmt: skip
    datasets = _rows(
        store,
        f"""SELECT ?name ?context WHERE {{ {run_term} ?run prov:qualifiedUsage ?u .
        ?u prov:entity/dcterms:title ?name . OPTIONAL {{ ?u jf:context ?context }} }}
        ORDER BY ?name""",
    )
    if datasets:
        node.add(
            "datasets: "
            + ", ".join(
                f"{d['name']} ({d['context']})" if d["context"] else str(d["name"])
                for d in datasets
            )
        )
    commit = _rows(
        store,
        f"""SELECT ?sha ?title ?author WHERE {{ {run_term} ?run jf:onCommit ?c .
        ?c jf:gitCommitSha ?sha ; jf:messageTitle ?title ; jf:author/jf:personName ?author }}""",
    )
    if commit:
        k = commit[0]
        node.add(f'commit {(k["sha"] or "")[:8]} "{k["title"]}" by {k["author"]}')
    versions = _rows(
        store,
        f"""SELECT ?v WHERE {{ {run_term} ?v jf:producedBy ?run ; a jf:ModelVersion }}
        ORDER BY ?v""",
    )
    for v in versions:
        verdict = judgement.model(v["v"] or "")
        if verdict is not None:
            node.add(f"model {verdict.label}: {verdict.verdict.upper()}")
