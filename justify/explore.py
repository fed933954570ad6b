"""What the explorer and the audit report show, read from the store.

Every function here only reads, and returns plain data (dictionaries, lists,
dataclasses) that can be pickled, so the Streamlit app can cache it with
``st.cache_data`` and the report can render it without Streamlit. Statuses come
from the latest recorded check (the ``check`` graph written by ``justify check``),
so reading never runs the check nor writes the derived graph.
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from justify.config import Config
from justify.errors import QueryError, StoreError
from justify.history import Change, history
from justify.iris import Minter
from justify.judgement import (
    CHECK_GRAPH,
    CriterionVerdict,
    Judgement,
    RequirementStatus,
    ShipVerdict,
    recorded,
)
from justify.query import query_kind, refuse_service, run_query, term, with_prefixes
from justify.store import GraphStore, QueryResult

Row = dict[str, str | None]
# Every status a requirement is shown with, worst first: what an auditor should look at
# before anything else. (Declared statuses are requirements.DECLARED_STATUSES.)
SHOWN_STATUSES = ("failing", "unjustified", "stale", "unchecked", "justified", "draft", "retired")
STATUS_ORDER = {status: i for i, status in enumerate(SHOWN_STATUSES)}
STATUS_COLOURS = {
    "justified": "#2e7d32",
    "failing": "#c62828",
    "unjustified": "#ef6c00",
    "stale": "#f9a825",
    "unchecked": "#6d4c41",
    "draft": "#757575",
    "retired": "#9e9e9e",
}
VERDICT_COLOURS = {
    "ship": "#2e7d32",
    "ship with warnings": "#f9a825",
    "do not ship": "#c62828",
}
SEVERITY_ORDER = {"violation": 0, "warning": 1, "info": 2}
SH = "http://www.w3.org/ns/shacl#"


def _rows(store: GraphStore, sparql: str) -> list[Row]:
    return run_query(store, sparql).values()


def store_version(store: GraphStore) -> str:
    """Changes whenever an import or a check writes: the key of the explorer's caches."""
    return store.version()


# -- overview ---------------------------------------------------------------------
@dataclass(frozen=True)
class SourceImport:
    kind: str
    location: str
    ended: str
    items: int
    graph: str


@dataclass(frozen=True)
class Problem:
    requirement: str
    status: str
    rule: str
    severity: str
    message: str
    priority: str


@dataclass
class Overview:
    requirements: list[Row]
    counts: dict[str, int]
    imports: list[SourceImport]
    last_check: str | None
    last_check_commit: str | None
    problems: list[Problem]
    data_newer_than_check: bool = False
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    by_model: dict[str, dict[str, int]] = field(default_factory=dict)
    models: list[ShipVerdict] = field(default_factory=list)


def judgement(store: GraphStore, base: str) -> Judgement | None:
    """The judgement of the latest recorded check (what CI saw), if any."""
    return recorded(store, base)


def requirements(store: GraphStore, base: str) -> list[Row]:
    """Every requirement with its metadata and the status of the latest check.

    ``status`` is the checked status; a requirement approved after the last check
    is ``unchecked``; drafts and retired ones keep their declared status."""
    check_graph = Minter(base).graph(CHECK_GRAPH).value
    rows = _rows(
        store,
        f"""SELECT ?r ?id ?title ?kind ?declared ?checked ?priority ?owner ?model ?file ?line
               ?parent WHERE {{
          ?r a jf:Requirement ; dcterms:identifier ?id ; jf:status ?declared .
          OPTIONAL {{ ?r dcterms:title ?title }} OPTIONAL {{ ?r jf:kind ?kind }}
          OPTIONAL {{ ?r jf:priority ?priority }} OPTIONAL {{ ?r jf:owner ?owner }}
          OPTIONAL {{ ?r jf:modelScope ?model }} OPTIONAL {{ ?r jf:sourceFile ?file }}
          OPTIONAL {{ ?r jf:sourceLine ?line }}
          OPTIONAL {{ ?r jf:parent ?p . ?p dcterms:identifier ?parent }}
          OPTIONAL {{ GRAPH {term(check_graph, iri=True)} {{ ?r jf:checkStatus ?checked }} }}
        }} ORDER BY ?id""",
    )
    out: dict[str, Row] = {}
    for row in rows:
        rid = row["id"] or ""
        if rid in out:  # several parents: keep them all
            parent = out[rid]["parent"]
            if row["parent"] and parent and row["parent"] not in parent.split(", "):
                out[rid]["parent"] = f"{parent}, {row['parent']}"
            continue
        declared = row["declared"] or "draft"
        status = declared if declared != "approved" else row["checked"] or "unchecked"
        out[rid] = {
            "id": rid,
            "iri": row["r"],
            "title": row["title"] or "",
            "status": status,
            "declared": declared,
            "kind": row["kind"] or "",
            "priority": row["priority"] or "",
            "owner": row["owner"] or "",
            "model": row["model"] or "",
            "parent": row["parent"] or "",
            "source": f"{row['file']}:{row['line']}" if row["file"] else "",
        }
    return list(out.values())


def last_check(store: GraphStore, base: str) -> tuple[str | None, str | None]:
    """When the latest recorded check ran, and on which commit."""
    graph = Minter(base).graph(CHECK_GRAPH).value
    rows = _rows(
        store,
        f"""SELECT ?time ?sha WHERE {{ GRAPH {term(graph, iri=True)} {{
            {term(graph, iri=True)} prov:wasGeneratedBy ?run . ?run prov:endedAtTime ?time .
            OPTIONAL {{ ?run jf:gitCommitSha ?sha }} }} }}""",
    )
    return (rows[0]["time"], rows[0]["sha"]) if rows else (None, None)


def imports(store: GraphStore) -> list[SourceImport]:
    rows = _rows(
        store,
        """SELECT ?kind ?location ?ended ?items ?graph WHERE {
          ?a a jf:Import ; jf:sourceKind ?kind ; jf:sourceLocation ?location ;
             prov:endedAtTime ?ended ; jf:importedInto ?graph .
          OPTIONAL { ?a jf:itemCount ?items } } ORDER BY ?kind ?location""",
    )
    return [
        SourceImport(
            r["kind"] or "",
            r["location"] or "",
            r["ended"] or "",
            int(r["items"] or 0),
            r["graph"] or "",
        )
        for r in rows
    ]


def check_results(store: GraphStore, base: str, focus: str | None = None) -> list[Row]:
    """Results of the latest recorded check, of one focus node or of all."""
    graph = Minter(base).graph(CHECK_GRAPH).value
    where = f"BIND({term(focus, iri=True)} AS ?focus)" if focus else ""
    rows = _rows(
        store,
        f"""PREFIX sh: <{SH}>
        SELECT ?focus ?rule ?severity ?message ?value WHERE {{ GRAPH {term(graph, iri=True)} {{
          {where}
          ?res a sh:ValidationResult ; sh:focusNode ?focus ; dcterms:identifier ?rule ;
               sh:resultSeverity ?sev ; sh:resultMessage ?message .
          OPTIONAL {{ ?res sh:value ?value }}
          BIND(LCASE(REPLACE(STR(?sev), "^.*#", "")) AS ?severity) }} }}""",
    )
    rows.sort(key=lambda r: (SEVERITY_ORDER.get(r["severity"] or "", 3), r["focus"] or ""))
    return rows


def overview(store: GraphStore, base: str) -> Overview:
    reqs = requirements(store, base)
    counts = {status: 0 for status in SHOWN_STATUSES}
    by_kind: dict[str, dict[str, int]] = {}
    by_model: dict[str, dict[str, int]] = {}
    for r in reqs:
        status = r["status"] or ""
        counts[status] = counts.get(status, 0) + 1
        kind = by_kind.setdefault(r["kind"] or "(none)", {})
        kind[status] = kind.get(status, 0) + 1
        model = by_model.setdefault(r["model"] or "(no model)", {})
        model[status] = model.get(status, 0) + 1
    when, sha = last_check(store, base)
    sources = imports(store)
    by_iri = {r["iri"]: r for r in reqs}
    priority = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    problems = [
        Problem(
            req["id"] or "",
            req["status"] or "",
            res["rule"] or "",
            res["severity"] or "",
            res["message"] or "",
            req["priority"] or "",
        )
        for res in check_results(store, base)
        if (req := by_iri.get(res["focus"])) is not None
    ]
    problems.sort(
        key=lambda p: (
            SEVERITY_ORDER.get(p.severity, 3),
            STATUS_ORDER.get(p.status, 9),
            priority.get(p.priority, 4),
            p.requirement,
        )
    )
    newer = when is not None and any(s.ended > when for s in sources)
    return Overview(
        reqs,
        counts,
        sources,
        when,
        sha,
        problems,
        newer or (when is None and bool(reqs)),
        by_kind,
        by_model,
        shown_models(models(store, base)),
    )


def shown_models(verdicts: list[ShipVerdict]) -> list[ShipVerdict]:
    """The versions an auditor asks about first: those holding an alias, and the latest
    version of each model."""
    latest: dict[str, ShipVerdict] = {}
    for v in verdicts:
        if v.model not in latest or v.version > latest[v.model].version:
            latest[v.model] = v
    return [v for v in verdicts if v.aliases or latest.get(v.model) is v]


# -- one requirement --------------------------------------------------------------
@dataclass
class RequirementView:
    """What an auditor sees of one requirement: the judgement of it (status, current
    evidence, criterion verdicts, results) and what the graph says of its supports."""

    head: Row
    criteria: list[CriterionVerdict]
    runs: list[dict[str, Any]]
    current: list[str]
    commits: list[Row]
    attestations: list[Row]
    family: list[Row]
    results: list[Row]
    changes: list[Change]
    versions: list[ShipVerdict]
    metric_history: dict[str, list[Row]] = field(default_factory=dict)
    annotations: list[Row] = field(default_factory=list)
    judged: RequirementStatus | None = None
    stale_commit: Row | None = None


def find_requirement(store: GraphStore, rid: str) -> Row | None:
    rows = _rows(
        store,
        f"""SELECT ?r ?id ?title ?statement ?rationale ?kind ?declared ?priority ?owner ?model
                  ?file ?line ?strategy ?domain WHERE {{
          ?r a jf:Requirement ; dcterms:identifier {term(rid)} ; dcterms:identifier ?id ;
             jf:status ?declared .
          OPTIONAL {{ ?r dcterms:title ?title }} OPTIONAL {{ ?r jf:statement ?statement }}
          OPTIONAL {{ ?r jf:rationale ?rationale }} OPTIONAL {{ ?r jf:kind ?kind }}
          OPTIONAL {{ ?r jf:priority ?priority }} OPTIONAL {{ ?r jf:owner ?owner }}
          OPTIONAL {{ ?r jf:modelScope ?model }} OPTIONAL {{ ?r jf:sourceFile ?file }}
          OPTIONAL {{ ?r jf:sourceLine ?line }}
          OPTIONAL {{ ?r jf:justifiedBy ?j . ?j jf:strategy/rdfs:label ?strategy .
                      OPTIONAL {{ ?j jf:usageDomain ?domain }} }}
        }} LIMIT 1""",
    )
    return rows[0] if rows else None


def requirement_view(store: GraphStore, base: str, rid: str) -> RequirementView | None:
    """All an auditor needs about one requirement, or None for an unknown id."""
    head = find_requirement(store, rid)
    if head is None:
        return None
    iri = term(head["r"] or "", iri=True)
    judged_all = judgement(store, base)
    judged = judged_all.requirements.get(rid) if judged_all else None
    statuses = {r["id"]: r["status"] for r in requirements_by_ids(store, base, [rid])}
    head["status"] = statuses.get(rid) or head["declared"]
    head["changedSha"] = head["changedTitle"] = head["changedTime"] = None
    if judged is not None and judged.last_changed_in:
        changed = _rows(
            store,
            f"""SELECT ?sha ?title ?time WHERE {{ {term(judged.last_changed_in, iri=True)}
              jf:gitCommitSha ?sha ; jf:messageTitle ?title ; prov:endedAtTime ?time }}""",
        )
        if changed:
            head["changedSha"] = changed[0]["sha"]
            head["changedTitle"] = changed[0]["title"]
            head["changedTime"] = changed[0]["time"]
    criteria = list(judged.criteria) if judged else []
    evidence = list(judged.evidence) if judged else []
    keys = sorted({c.metric for c in criteria})
    runs: dict[str, dict[str, Any]] = {}
    if evidence:
        listed = " ".join(term(e, iri=True) for e in evidence)
        run_rows = _rows(
            store,
            f"""SELECT ?run ?name ?runId ?status ?start ?end ?sha ?experiment WHERE {{
              VALUES ?run {{ {listed} }}
              ?run a jf:Run ; jf:runId ?runId ; jf:runStatus ?status .
              OPTIONAL {{ ?run dcterms:title ?name }} OPTIONAL {{ ?run prov:startedAtTime ?start }}
              OPTIONAL {{ ?run prov:endedAtTime ?end }} OPTIONAL {{ ?run jf:gitCommitSha ?sha }}
              OPTIONAL {{ ?run jf:inExperiment/dcterms:title ?experiment }}
            }} ORDER BY DESC(?end)""",
        )
        for r in run_rows:
            runs.setdefault(r["run"] or "", {**r, "metrics": {}, "via": _via(judged, r)})
        if keys:
            measured = _rows(
                store,
                f"""SELECT ?run ?key ?value WHERE {{
                  VALUES ?run {{ {listed} }} VALUES ?key {{ {" ".join(term(k) for k in keys)} }}
                  ?run jf:hasMeasurement ?m . ?m jf:metricKey ?key ; jf:value ?value .
                  FILTER NOT EXISTS {{ ?m jf:onDataset ?dataset }} }}""",
            )
            for m in measured:
                if m["run"] in runs:
                    runs[m["run"] or ""]["metrics"][m["key"] or ""] = _number(m["value"])
    current = [judged.current_evidence] if judged and judged.current_evidence else []
    commits = _rows(
        store,
        f"""SELECT ?c ?sha ?title ?author ?time WHERE {{ ?c jf:supports {iri} ; a jf:Commit ;
          jf:gitCommitSha ?sha ; jf:messageTitle ?title .
          OPTIONAL {{ ?c jf:author/jf:personName ?author }}
          OPTIONAL {{ ?c prov:endedAtTime ?time }} }} ORDER BY DESC(?time)""",
    )
    attestations = _rows(
        store,
        f"""SELECT ?by ?date ?statement ?link WHERE {{ {iri} jf:hasAttestation ?a .
          ?a jf:attestedBy ?by ; dcterms:date ?date ; jf:statement ?statement .
          OPTIONAL {{ ?a jf:link ?link }} }} ORDER BY DESC(?date)""",
    )
    family = _rows(
        store,
        f"""SELECT ?relation ?id ?title WHERE {{
          {{ {iri} jf:parent ?o . BIND("parent" AS ?relation) }}
          UNION {{ ?o jf:parent {iri} . BIND("sub-requirement" AS ?relation) }}
          ?o dcterms:identifier ?id . OPTIONAL {{ ?o dcterms:title ?title }}
        }} ORDER BY ?relation ?id""",
    )
    others = {
        r["id"]: r["status"]
        for r in requirements_by_ids(store, base, [f["id"] or "" for f in family])
    }
    for f in family:
        f["status"] = others.get(f["id"], "")
    annotations = _rows(
        store,
        f"""SELECT ?key ?value WHERE {{ {iri} jf:hasAnnotation ?a . ?a jf:key ?key ;
          jf:textValue ?value }} ORDER BY ?key""",
    )
    versions = []
    if judged_all is not None and judged is not None:
        versions = [
            m for m in judged_all.models if any(rid == applied for applied, _ in m.requirements)
        ]
    results = [
        {"rule": r.rule, "severity": r.severity, "message": r.message, "value": r.value}
        for r in (judged_all.results_about(judged.iri) if judged_all and judged else [])
    ]
    stale = None
    if any(r["rule"] == "JF-STALE" for r in results) and head["changedSha"]:
        stale = {"sha": head["changedSha"], "title": head["changedTitle"]}
    view = RequirementView(
        head=head,
        criteria=criteria,
        runs=list(runs.values()),
        current=current,
        commits=commits,
        attestations=attestations,
        family=family,
        results=results,
        changes=history(rid, store=store, base=base),
        versions=versions,
        annotations=annotations,
        judged=judged,
        stale_commit=stale,
    )
    for evidence_run in current:
        for key in keys:
            points = _rows(
                store,
                f"""SELECT ?step ?value ?time WHERE {{
                  {term(evidence_run, iri=True)} jf:hasMeasurement ?m .
                  ?m jf:metricKey {term(key)} ; jf:historyPoint ?p .
                  ?p jf:step ?step ; jf:value ?value . OPTIONAL {{ ?p jf:timestamp ?time }}
                }} ORDER BY ?step""",
            )
            if points:
                view.metric_history[key] = points
    return view


def _number(text: str | None) -> float:
    try:
        return float(text or "nan")
    except ValueError:
        return float("nan")


def _via(judged: RequirementStatus | None, run: Row) -> str:
    if judged is not None and run["run"] == judged.current_evidence:
        return "current evidence"
    return "evidence"


def requirements_by_ids(store: GraphStore, base: str, ids: list[str]) -> list[Row]:
    """The rows of ``requirements()`` for a few ids, without reading them all."""
    if not ids:
        return []
    check_graph = Minter(base).graph(CHECK_GRAPH).value
    values = " ".join(term(i) for i in ids)
    rows = _rows(
        store,
        f"""SELECT ?id ?declared ?checked WHERE {{ VALUES ?id {{ {values} }}
          ?r dcterms:identifier ?id ; a jf:Requirement ; jf:status ?declared .
          OPTIONAL {{ GRAPH {term(check_graph, iri=True)} {{ ?r jf:checkStatus ?checked }} }} }}""",
    )
    return [
        {
            "id": r["id"],
            "status": r["declared"]
            if r["declared"] != "approved"
            else (r["checked"] or "unchecked"),
        }
        for r in rows
    ]


# What each colour of the diagram means; the legend prints exactly this.
DIAGRAM_LEGEND = {
    "#2e7d32": "green: holds (justified, criterion met, run meets every criterion it is judged on)",
    "#c62828": "red: fails (failing requirement, criterion not met, run misses a criterion)",
    "#ef6c00": "orange: unjustified or stale",
    "#757575": "grey: draft, retired, or not judged (older runs, no evidence)",
}
_NODE_COLOURS = {
    "justified": "#2e7d32",
    "failing": "#c62828",
    "unjustified": "#ef6c00",
    "stale": "#ef6c00",
    "unchecked": "#757575",
    "draft": "#757575",
    "retired": "#757575",
}
_CRITERION_COLOURS = {"met": "#2e7d32", "not met": "#c62828", "no evidence": "#ef6c00"}


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def justification_dot(view: RequirementView) -> str:
    """The justification diagram in Graphviz DOT, drawn from the judgement:
    conclusion <- strategy <- supports, coloured as DIAGRAM_LEGEND says."""
    head = view.head

    def node(name: str, label: str, colour: str, shape: str = "box") -> str:
        text = "\\n".join(_dot_text(part) for part in label.split("\n"))
        return (
            f'  "{name}" [label="{text}", shape={shape}, style="rounded,filled", '
            f'fillcolor="{colour}", fontcolor="white"];'
        )

    status = head.get("status") or ""
    lines = [
        "digraph justification {",
        '  rankdir=BT; node [fontname=Helvetica, fontsize=11]; edge [color="#555555"];',
        node(
            "conclusion",
            f"{head['id']}: {head['title']}\n[{status}]",
            _NODE_COLOURS.get(status, "#757575"),
        ),
    ]
    strategy = head.get("strategy") or "evidence meets the acceptance criteria"
    lines.append(node("strategy", f"strategy: {strategy}", "#37474f", "parallelogram"))
    lines.append('  "strategy" -> "conclusion";')
    for i, c in enumerate(view.criteria):
        label = f"criterion: {c.label}\n{c.verdict}" + (
            f" ({c.metric} = {c.value})" if c.value is not None else ""
        )
        lines.append(node(f"c{i}", label, _CRITERION_COLOURS.get(c.verdict, "#757575"), "note"))
        lines.append(f'  "c{i}" -> "strategy";')
    commits: dict[str, str] = {}  # one node per commit

    def commit_node(sha: str, title: str | None) -> str:
        if sha not in commits:
            commits[sha] = f"k{len(commits)}"
            text = f"commit {sha[:8]}" + (f"\n{title}" if title else "")
            lines.append(node(commits[sha], text, "#5d4037"))
        return commits[sha]

    current = set(view.current)
    missed = any(c.verdict == "not met" for c in view.criteria)
    for i, run in enumerate(view.runs[:8]):
        if run["run"] in current:
            colour = "#c62828" if missed else "#2e7d32"
            label = f"run {run['name'] or run['runId'][:8]}\n{run['status']} (current evidence)"
        else:
            colour = "#757575"
            label = f"run {run['name'] or run['runId'][:8]}\n{run['status']} (not judged)"
        lines.append(node(f"r{i}", label, colour, "ellipse"))
        lines.append(f'  "r{i}" -> "strategy";')
        if run.get("sha"):
            lines.append(f'  "{commit_node(str(run["sha"]), None)}" -> "r{i}" [style=dashed];')
    if len(view.runs) > 8:
        lines.append(node("more", f"… {len(view.runs) - 8} older runs", "#9e9e9e", "plaintext"))
        lines.append('  "more" -> "strategy" [style=dotted];')
    for k in view.commits:
        name = commit_node(str(k["sha"]), k["title"])
        lines.append(f'  "{name}" -> "strategy" [label="Justifies"];')
    if view.stale_commit is not None:
        name = commit_node(str(view.stale_commit["sha"]), view.stale_commit["title"])
        lines.append(f'  "{name}" -> "conclusion" [style=dashed, color="#ef6c00", '
                     'label="changed it after its evidence"];')  # fmt: skip
    for i, a in enumerate(view.attestations):
        lines.append(node(f"a{i}", f"attestation by {a['by']}\n{a['date']}", "#6a1b9a"))
        lines.append(f'  "a{i}" -> "strategy";')
    for i, f in enumerate(view.family):
        colour = _NODE_COLOURS.get(f.get("status") or "", "#757575")
        label = f"{f['id']}: {f['title'] or ''}\n[{f.get('status')}]"
        lines.append(node(f"f{i}", label, colour))
        if f["relation"] == "sub-requirement":
            lines.append(f'  "f{i}" -> "strategy";')
        else:
            lines.append(f'  "conclusion" -> "f{i}" [style=dashed, label="supports"];')
    lines.append("}")
    return "\n".join(lines)


# -- models -----------------------------------------------------------------------
def models(store: GraphStore, base: str) -> list[ShipVerdict]:
    """Every registered model version with the ship verdict of the latest recorded
    check (the same policy as the check's exit code)."""
    found = judgement(store, base)
    return list(found.models) if found else []


# -- runs and commits -------------------------------------------------------------
def runs(store: GraphStore, *, text: str = "", limit: int = 500) -> list[Row]:
    """Runs, newest first, with the requirements they support."""
    search = (
        "FILTER(CONTAINS(LCASE(CONCAT(?name, ' ', ?runId, ' ', COALESCE(?experiment, ''))), "
        f"{term(text.lower())}))"
        if text
        else ""
    )
    return _rows(
        store,
        f"""SELECT ?run ?name ?runId ?status ?experiment ?end ?sha
               (GROUP_CONCAT(DISTINCT ?req; separator=", ") AS ?requirements) WHERE {{
          ?run a jf:Run ; jf:runId ?runId ; jf:runStatus ?status .
          OPTIONAL {{ ?run dcterms:title ?name0 }} BIND(COALESCE(?name0, ?runId) AS ?name)
          OPTIONAL {{ ?run jf:inExperiment/dcterms:title ?experiment }}
          OPTIONAL {{ ?run prov:endedAtTime ?end }} OPTIONAL {{ ?run jf:gitCommitSha ?sha }}
          OPTIONAL {{ ?run jf:supports|jf:evidenceOf ?q . ?q dcterms:identifier ?req }}
          {search}
        }} GROUP BY ?run ?name ?runId ?status ?experiment ?end ?sha
        ORDER BY DESC(?end) LIMIT {int(limit)}""",
    )


@dataclass
class RunView:
    head: Row
    params: list[Row]
    metrics: list[Row]
    tags: list[Row]
    datasets: list[Row]
    requirements: list[Row]
    versions: list[Row]


def find_run(store: GraphStore, run_id: str) -> str | None:
    rows = _rows(store, f"SELECT ?run WHERE {{ ?run a jf:Run ; jf:runId {term(run_id)} }}")
    return rows[0]["run"] if rows else None


def run_view(store: GraphStore, run_id: str) -> RunView | None:
    iri = find_run(store, run_id)
    if iri is None:
        return None
    r = term(iri, iri=True)
    head = _rows(
        store,
        f"""SELECT ?name ?runId ?status ?start ?end ?experiment ?user ?sha ?commit WHERE {{
          {r} jf:runId ?runId ; jf:runStatus ?status .
          OPTIONAL {{ {r} dcterms:title ?name }} OPTIONAL {{ {r} prov:startedAtTime ?start }}
          OPTIONAL {{ {r} prov:endedAtTime ?end }} OPTIONAL {{ {r} jf:user ?user }}
          OPTIONAL {{ {r} jf:inExperiment/dcterms:title ?experiment }}
          OPTIONAL {{ {r} jf:gitCommitSha ?sha }} OPTIONAL {{ {r} jf:onCommit ?commit }}
        }} LIMIT 1""",
    )[0]
    head["run"] = iri
    return RunView(
        head=head,
        params=_rows(
            store,
            f"""SELECT ?key ?value WHERE {{ {r} jf:hasParameter ?p . ?p jf:key ?key ;
            jf:textValue ?value }} ORDER BY ?key""",
        ),
        metrics=_rows(
            store,
            f"""SELECT ?key ?value ?step ?dataset WHERE {{ {r} jf:hasMeasurement ?m .
            ?m jf:metricKey ?key ; jf:value ?value . OPTIONAL {{ ?m jf:step ?step }}
            OPTIONAL {{ ?m jf:onDataset/dcterms:title ?dataset }} }} ORDER BY ?key""",
        ),
        tags=_rows(
            store,
            f"""SELECT ?key ?value WHERE {{ {r} jf:hasTag ?t . ?t jf:key ?key ;
            jf:textValue ?value }} ORDER BY ?key""",
        ),
        datasets=_rows(
            store,
            f"""SELECT ?name ?digest ?context WHERE {{ {r} prov:qualifiedUsage ?u .
            ?u prov:entity ?d . ?d dcterms:title ?name . OPTIONAL {{ ?d jf:digest ?digest }}
            OPTIONAL {{ ?u jf:context ?context }} }} ORDER BY ?name""",
        ),
        requirements=_rows(
            store,
            f"""SELECT DISTINCT ?id ?title WHERE {{
            {r} jf:supports|jf:evidenceOf ?q .  # tagged, or evidence by the last check
            ?q a jf:Requirement ; dcterms:identifier ?id . OPTIONAL {{ ?q dcterms:title ?title }}
            }} ORDER BY ?id""",
        ),
        versions=_rows(
            store,
            f"""SELECT ?label ?alias WHERE {{ ?v jf:producedBy {r} ; a jf:ModelVersion ;
            rdfs:label ?label . OPTIONAL {{ ?v jf:alias ?alias }} }}""",
        ),
    )


def commits(store: GraphStore, *, text: str = "", limit: int = 500) -> list[Row]:
    """Commits, newest first, with the requirements their trailers justify."""
    search = (
        "FILTER(CONTAINS(LCASE(CONCAT(?sha, ' ', ?title, ' ', COALESCE(?author, ''))), "
        f"{term(text.lower())}))"
        if text
        else ""
    )
    return _rows(
        store,
        f"""SELECT ?sha ?title ?author ?time
               (GROUP_CONCAT(DISTINCT ?req; separator=", ") AS ?justifies) WHERE {{
          ?c a jf:Commit ; jf:gitCommitSha ?sha ; jf:messageTitle ?title .
          OPTIONAL {{ ?c jf:author/jf:personName ?author }}
          OPTIONAL {{ ?c prov:endedAtTime ?time }}
          OPTIONAL {{ ?c jf:supports/dcterms:identifier ?req }}
          {search}
        }} GROUP BY ?sha ?title ?author ?time ORDER BY DESC(?time) LIMIT {int(limit)}""",
    )


@dataclass
class CommitView:
    head: Row
    files: list[Row]
    justifies: list[Row]
    changed: list[Row]
    runs: list[Row]


def commit_view(store: GraphStore, sha: str) -> CommitView | None:
    if not re.fullmatch(r"[0-9a-fA-F]{4,64}", sha):
        return None
    rows = _rows(
        store,
        f"""SELECT ?c ?sha ?title ?body ?author ?email ?time WHERE {{
          ?c a jf:Commit ; jf:gitCommitSha ?sha ; jf:messageTitle ?title .
          FILTER(STRSTARTS(?sha, {term(sha.lower())}))
          OPTIONAL {{ ?c jf:messageBody ?body }} OPTIONAL {{ ?c prov:endedAtTime ?time }}
          OPTIONAL {{ ?c jf:author ?a . ?a jf:personName ?author .
                      OPTIONAL {{ ?a jf:email ?email }} }}
        }} LIMIT 1""",
    )
    if not rows:
        return None
    head = rows[0]
    c = term(head["c"] or "", iri=True)
    return CommitView(
        head=head,
        files=_rows(
            store,
            f"""SELECT ?path ?change WHERE {{ {c} jf:hasFileChange ?f . ?f jf:path ?path .
            OPTIONAL {{ ?f jf:changeType ?change }} }} ORDER BY ?path""",
        ),
        justifies=_rows(
            store,
            f"""SELECT ?id ?title WHERE {{ {c} jf:supports ?q . ?q dcterms:identifier ?id .
            OPTIONAL {{ ?q dcterms:title ?title }} }} ORDER BY ?id""",
        ),
        changed=_rows(
            store,
            f"""SELECT ?id ?title WHERE {{ ?q jf:lastChangedIn {c} ; dcterms:identifier ?id .
            OPTIONAL {{ ?q dcterms:title ?title }} }} ORDER BY ?id""",
        ),
        runs=_rows(
            store,
            f"""SELECT ?runId ?name ?status WHERE {{ ?run jf:onCommit {c} ; jf:runId ?runId ;
            jf:runStatus ?status . OPTIONAL {{ ?run dcterms:title ?name }} }} ORDER BY ?name""",
        ),
    )


# -- graph neighbourhood ----------------------------------------------------------
@dataclass
class Neighbourhood:
    centre: str
    nodes: dict[str, str]  # IRI -> label
    edges: list[tuple[str, str, str]]  # subject, predicate, object (IRIs)
    literals: list[tuple[str, str]]  # predicate, value of the centre
    truncated: bool


def neighbourhood(store: GraphStore, iri: str, *, limit: int = 40) -> Neighbourhood:
    """The nodes one link away from ``iri`` (both directions), at most ``limit`` of each."""
    node = term(iri, iri=True)
    out = store_query(
        store,
        f"SELECT ?p ?o WHERE {{ {node} ?p ?o }} LIMIT {limit * 4}",
    )
    inc = store_query(store, f"SELECT ?s ?p WHERE {{ ?s ?p {node} }} LIMIT {limit + 1}")
    edges: list[tuple[str, str, str]] = []
    literals: list[tuple[str, str]] = []
    for p, o in out.rows:
        pv, ov = getattr(p, "value", ""), getattr(o, "value", "")
        if type(o).__name__ == "NamedNode":
            edges.append((iri, pv, ov))
        else:
            literals.append((pv, ov))
    outgoing = edges[:limit]
    incoming = [
        (getattr(s, "value", ""), getattr(p, "value", ""), iri)
        for s, p in inc.rows
        if type(s).__name__ == "NamedNode"
    ][:limit]
    truncated = len(edges) > limit or len(inc.rows) > limit
    all_edges = outgoing + incoming
    ids = {iri} | {e[0] for e in all_edges} | {e[2] for e in all_edges}
    labels = labels_of(store, sorted(ids))
    return Neighbourhood(iri, labels, all_edges, literals, truncated)


def labels_of(store: GraphStore, iris: list[str]) -> dict[str, str]:
    values = " ".join(term(i, iri=True) for i in iris)
    rows = _rows(
        store,
        f"""SELECT ?n (SAMPLE(?l) AS ?label) WHERE {{ VALUES ?n {{ {values} }}
          OPTIONAL {{ ?n dcterms:identifier ?id }} OPTIONAL {{ ?n rdfs:label ?lab }}
          OPTIONAL {{ ?n dcterms:title ?title }}
          BIND(COALESCE(?id, ?title, ?lab, REPLACE(STR(?n), "^.*[/#]", "")) AS ?l)
        }} GROUP BY ?n""",
    )
    found = {r["n"] or "": r["label"] or "" for r in rows}
    return {i: found.get(i) or i.rsplit("/", 1)[-1] for i in iris}


def store_query(store: GraphStore, sparql: str) -> QueryResult:
    """A query with the standard prefixes, whose terms are kept (not only their values)."""
    return store.query(with_prefixes(sparql))


# -- the SPARQL console -----------------------------------------------------------
def console_query(config: Config, sparql: str, *, row_limit: int, time_limit: float) -> QueryResult:
    """Run an analyst's query read-only, with a row limit and a time limit.

    An update or a SERVICE pattern is refused before anything runs. The query runs in
    a child process (``justify.console_worker``) on a read-only handle of the store;
    past the time limit the child is killed, so an abandoned query costs nothing."""
    if query_kind(sparql) == "update":
        raise QueryError(
            "the console only reads: this is a SPARQL Update",
            hint="change the graph through its sources and `justify sync`; "
            "use SELECT, ASK, CONSTRUCT or DESCRIBE here",
        )
    refuse_service(sparql, "the console's query")
    request = pickle.dumps((config, with_prefixes(sparql), row_limit))
    child = subprocess.Popen(
        [sys.executable, "-m", "justify.console_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = child.communicate(request, timeout=time_limit)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise QueryError(
            f"the query did not finish within {time_limit:g} s (the console's time limit); "
            "it was stopped",
            hint="narrow it with more selective patterns or a LIMIT, or raise console_time_limit",
        ) from None
    finally:
        if child.poll() is None:  # the session ended while waiting (Streamlit stops it)
            child.kill()
            child.wait()
    if child.returncode != 0 or not out:
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no answer"]
        raise QueryError(f"the query failed: {last[0][:300]}")
    answer = pickle.loads(out)
    if answer[0] == "ok":
        result: QueryResult = answer[1]
        return result
    _, kind, message, hint = answer
    raise (StoreError if kind == "StoreError" else QueryError)(message, hint=hint)
