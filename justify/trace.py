"""``justify trace REQ-ID``: one requirement's justification as a tree.

Conclusion (the requirement), strategy, criteria, then the supports: runs
(newest first, the current evidence marked) with the criteria metrics measured,
datasets, commit and author, model versions and aliases; commits with a
``Justifies:`` trailer; attestations; sub-requirements; and the check results.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

from justify.check import check
from justify.config import Config, load_config
from justify.errors import UsageError
from justify.query import run_query
from justify.store import GraphStore, open_store

COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


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


def _q(store: GraphStore, sparql: str, rid: str) -> list[dict[str, str | None]]:
    text = sparql.replace("$ID", '"' + rid.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return run_query(store, text).values()


def trace(
    requirement: str, *, config: Config | None = None, store: GraphStore | None = None
) -> Node:
    """The justification tree of one requirement."""
    config = config or load_config()
    store = store or open_store(config)
    head = _q(
        store,
        """SELECT ?r ?title ?statement ?status ?kind ?file ?line ?strategy ?rationale
        WHERE { ?r a jf:Requirement ; dcterms:identifier $ID ; dcterms:title ?title ;
                   jf:status ?status ; jf:kind ?kind ; jf:sourceFile ?file ; jf:sourceLine ?line .
                OPTIONAL { ?r jf:statement ?statement }
                OPTIONAL { ?r jf:justifiedBy/jf:strategy/rdfs:label ?strategy }
                OPTIONAL { ?r jf:rationale ?rationale } }""",
        requirement,
    )
    if not head:
        known = [
            r["id"] or ""
            for r in run_query(
                store, "SELECT ?id WHERE { ?r a jf:Requirement ; dcterms:identifier ?id }"
            ).values()
        ]
        close = difflib.get_close_matches(requirement, known, n=3)
        raise UsageError(
            f"no requirement with id '{requirement}' in the store",
            hint=(f"did you mean {', '.join(close)}? " if close else "")
            + "`justify query requirements` lists them",
        )
    h = head[0]
    report = check(config=config, store=store)
    status = report.statuses.get(requirement, h["status"] or "")
    root = Node(f"{requirement}: {h['title']}  [{status}]  {h['file']}:{h['line']}")
    if h["statement"]:
        root.add(f"statement: {h['statement']}")
    if h["rationale"]:
        root.add(f"rationale: {h['rationale']}")
    if h["strategy"]:
        root.add(f"strategy: {h['strategy']}")

    criteria = _q(
        store,
        """SELECT ?key ?op ?threshold ?dataset ?label WHERE {
        ?r dcterms:identifier $ID ; jf:hasCriterion ?c . ?c jf:metricKey ?key ;
        jf:comparator ?op ; jf:threshold ?threshold ; rdfs:label ?label .
        OPTIONAL { ?c jf:datasetRef ?dataset } } ORDER BY ?key""",
        requirement,
    )
    if criteria:
        node = root.add("criteria")
        for c in criteria:
            node.add(c["label"] or "")

    runs = _q(
        store,
        """SELECT DISTINCT ?run ?name ?id ?status ?end ?via WHERE {
        ?r dcterms:identifier $ID .
        { ?run jf:supports ?r . BIND("run tag" AS ?via) }
        UNION { ?v jf:supports ?r ; jf:producedBy ?run . ?v rdfs:label ?vl .
                BIND(CONCAT("model ", ?vl) AS ?via) }
        ?run a jf:Run ; dcterms:title ?name ; jf:runId ?id ; jf:runStatus ?status .
        OPTIONAL { ?run prov:endedAtTime ?end } } ORDER BY DESC(?end)""",
        requirement,
    )
    if runs:
        node = root.add("evidence runs (newest first)")
        current_marked = False
        vias: dict[str, list[str]] = {}  # a run may support it both ways
        for run in runs:
            vias.setdefault(run["run"] or "", []).append(run["via"] or "")
        seen: set[str] = set()
        for run in runs:
            if run["run"] in seen:
                continue
            seen.add(run["run"] or "")
            run["via"] = " and ".join(sorted(set(vias[run["run"] or ""])))
            mark = ""
            if run["status"] == "FINISHED" and not current_marked:
                mark, current_marked = "  <- current evidence", True
            line = node.add(
                f"run {run['name']} ({(run['id'] or '')[:8]})  {run['status']}  "
                f"ended {run['end'] or '-'}  via {run['via']}{mark}"
            )
            _run_details(store, line, run["run"] or "", criteria)

    commits = _q(
        store,
        """SELECT ?sha ?title ?author WHERE { ?r dcterms:identifier $ID .
        ?c jf:supports ?r ; a jf:Commit ; jf:gitCommitSha ?sha ; jf:messageTitle ?title ;
           jf:author/jf:personName ?author }""",
        requirement,
    )
    if commits:
        node = root.add("commits (Justifies: trailer)")
        for c in commits:
            node.add(f'{(c["sha"] or "")[:8]} "{c["title"]}" by {c["author"]}')

    attestations = _q(
        store,
        """SELECT ?by ?date ?statement WHERE { ?r dcterms:identifier $ID ;
        jf:hasAttestation ?a . ?a jf:attestedBy ?by ; dcterms:date ?date ;
        jf:statement ?statement } ORDER BY DESC(?date)""",
        requirement,
    )
    if attestations:
        node = root.add("attestations")
        for a in attestations:
            node.add(f"{a['date']} {a['by']}: {a['statement']}")

    family = _q(
        store,
        """SELECT ?relation ?other ?title WHERE { ?r dcterms:identifier $ID .
        { ?r jf:parent ?o . BIND("parent" AS ?relation) }
        UNION { ?o jf:parent ?r . BIND("sub-requirement" AS ?relation) }
        ?o dcterms:identifier ?other ; dcterms:title ?title } ORDER BY ?relation ?other""",
        requirement,
    )
    for f in family:
        other = f["other"] or ""
        root.add(f"{f['relation']}: {other} {f['title']} [{report.statuses.get(other, '?')}]")

    last = _q(
        store,
        """SELECT ?sha ?title ?time WHERE { ?r dcterms:identifier $ID ;
        jf:lastChangedIn ?c . ?c jf:gitCommitSha ?sha ; jf:messageTitle ?title ;
        prov:endedAtTime ?time }""",
        requirement,
    )
    if last:
        c = last[0]
        root.add(f'last changed: {(c["sha"] or "")[:8]} "{c["title"]}" at {c["time"]}')

    mine = [r for r in report.results if r.focus == h["r"]]
    node = root.add("checks" if mine else "checks: all rules pass")
    for r in mine:
        node.add(f"{r.severity} {r.rule}: {r.message}")
    return root


def _run_details(
    store: GraphStore, node: Node, run: str, criteria: list[dict[str, str | None]]
) -> None:
    for c in criteria:
        rows = run_query(
            store,
            f"""SELECT ?value WHERE {{ <{run}> jf:hasMeasurement ?m .
            ?m jf:metricKey "{c["key"]}" ; jf:value ?value }}""",
        ).values()
        if not rows:
            node.add(f"{c['key']}: not logged")
            continue
        value = float(rows[0]["value"] or "nan")
        ok = COMPARE[c["op"] or ">="](value, float(c["threshold"] or "nan"))
        node.add(
            f"{c['key']} = {value:g}  {'meets' if ok else 'MISSES'} "
            f"{c['op']} {float(c['threshold'] or 0):g}"
        )
    datasets = run_query(
        store,
        f"""SELECT ?name ?context WHERE {{ <{run}> prov:qualifiedUsage ?u .
        ?u prov:entity/dcterms:title ?name . OPTIONAL {{ ?u jf:context ?context }} }}
        ORDER BY ?name""",
    ).values()
    if datasets:
        node.add(
            "datasets: "
            + ", ".join(
                f"{d['name']} ({d['context']})" if d["context"] else str(d["name"])
                for d in datasets
            )
        )
    commit = run_query(
        store,
        f"""SELECT ?sha ?title ?author WHERE {{ <{run}> jf:onCommit ?c .
        ?c jf:gitCommitSha ?sha ; jf:messageTitle ?title ; jf:author/jf:personName ?author }}""",
    ).values()
    if commit:
        c = commit[0]
        node.add(f'commit {(c["sha"] or "")[:8]} "{c["title"]}" by {c["author"]}')
    versions = run_query(
        store,
        f"""SELECT ?label WHERE {{ ?v jf:producedBy <{run}> ;
        a jf:ModelVersion ; rdfs:label ?label }}""",
    ).values()
    for v in versions:
        node.add(f"model {v['label']}")
