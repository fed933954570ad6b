"""The overview: imports, the latest check, statuses, problems and model verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field

from justify._query import term
from justify.explore._common import SEVERITY_ORDER, SH, SHOWN_STATUSES, STATUS_ORDER, Row, _rows
from justify.iris import Minter
from justify.judgement import (
    CHECK_GRAPH,
    Judgement,
    ShipVerdict,
    recorded,
)
from justify.store import GraphStore


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


# -- models -----------------------------------------------------------------------
def models(store: GraphStore, base: str) -> list[ShipVerdict]:
    """Every registered model version with the ship verdict of the latest recorded
    check (the same policy as the check's exit code)."""
    found = judgement(store, base)
    return list(found.models) if found else []
