"""One requirement as an auditor sees it: its judgement and its supports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from justify._elicit import (
    Elicitation,
    PatternConformance,
    conformance,
    derived_about,
    derived_patterns,
    elicitations,
)
from justify._history import Change, history
from justify._query import term
from justify.explore._common import Row, _rows
from justify.explore._overview import judgement
from justify.iris import Minter
from justify.judgement import (
    CHECK_GRAPH,
    CriterionVerdict,
    JudgedValue,
    Judgement,
    RequirementStatus,
    ShipVerdict,
    evidence_values,
)
from justify.store import GraphStore


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
    # Every value of a criterion's metric in the evidence runs (run, key, value, dataset),
    # per dataset where recorded so: what the plots draw...
    measurements: list[Row] = field(default_factory=list)
    # ... and the judgement's verdict on the values it judges, run by run.
    values: list[JudgedValue] = field(default_factory=list)
    # The slots of its justification pattern and what fills them (None: no pattern).
    pattern: Elicitation | None = None


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


def requirement_view(
    store: GraphStore,
    base: str,
    rid: str,
    judged_all: Judgement | None = None,
    patterns: Mapping[str, Elicitation] | None = None,
) -> RequirementView | None:
    """All an auditor needs about one requirement, or None for an unknown id. It renders
    ``judged_all`` (the report's judgement), by default the last recorded check."""
    head = find_requirement(store, rid)
    if head is None:
        return None
    iri = term(head["r"] or "", iri=True)
    if judged_all is None:
        judged_all = judgement(store, base)
    judged = judged_all.requirements.get(rid) if judged_all else None
    head["status"] = _statuses(store, base, [rid], judged_all).get(rid) or head["declared"]
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
    measurements: list[Row] = []  # of the criteria's metrics in the evidence runs
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
                # The keys as a filter, not a second VALUES: Oxigraph then starts from
                # the runs (10 ms) instead of every measurement of the key (1.6 s).
                f"""SELECT ?run ?key ?value ?dataset WHERE {{
                  VALUES ?run {{ {listed} }}
                  ?run jf:hasMeasurement ?m . ?m jf:metricKey ?key ; jf:value ?value .
                  FILTER (?key IN ({", ".join(term(k) for k in keys)}))
                  OPTIONAL {{ ?m jf:onDataset ?d . ?d dcterms:title ?dataset }} }}""",
            )
            for m in measured:
                if m["run"] not in runs:
                    continue
                column = m["key"] or ""
                if m["dataset"]:
                    column = f"{column} ({m['dataset']})"
                runs[m["run"] or ""]["metrics"][column] = _number(m["value"])
                measurements.append(m)
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
        f"""SELECT ?a ?by ?date ?statement ?link WHERE {{ {iri} jf:hasAttestation ?a .
          ?a jf:attestedBy ?by ; dcterms:date ?date ; jf:statement ?statement .
          OPTIONAL {{ ?a jf:link ?link }} }} ORDER BY DESC(?date)""",
    )
    family = _rows(
        store,
        f"""SELECT ?relation ?o ?id ?title WHERE {{
          {{ {iri} jf:parent ?o . BIND("parent" AS ?relation) }}
          UNION {{ ?o jf:parent {iri} . BIND("sub-requirement" AS ?relation) }}
          ?o dcterms:identifier ?id . OPTIONAL {{ ?o dcterms:title ?title }}
        }} ORDER BY ?relation ?id""",
    )
    others = _statuses(store, base, [f["id"] or "" for f in family], judged_all)
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
        measurements=measurements,
        values=evidence_values(store, judged) if judged is not None else [],
        pattern=_pattern(store, base, rid, judged_all) if patterns is None else patterns.get(rid),
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


def _statuses(
    store: GraphStore, base: str, ids: list[str], judged_all: Judgement | None
) -> dict[str | None, str | None]:
    judged = judged_all.requirements if judged_all is not None else {}
    # Only what the judgement does not cover is read from the recorded statuses.
    rest = [rid for rid in ids if rid not in judged]
    shown = {r["id"]: r["status"] for r in requirements_by_ids(store, base, rest)}
    return {**shown, **{rid: judged[rid].status for rid in ids if rid in judged}}


def _number(text: str | None) -> float:
    try:
        return float(text or "nan")
    except ValueError:
        return float("nan")


def _via(judged: RequirementStatus | None, run: Row) -> str:
    if judged is not None and run["run"] == judged.current_evidence:
        return "current evidence"
    return "evidence"


def _pattern(
    store: GraphStore, base: str, rid: str, judged_all: Judgement | None
) -> Elicitation | None:
    """One requirement's slots (a renderer of many passes ``patterns`` to
    :func:`requirement_view` instead, made once with :func:`patterns_of`)."""
    if judged_all is None or rid not in judged_all.requirements:
        return None
    derived = judged_all.derived or derived_about(store, base, rid)
    (found,) = elicitations(judged_all, derived, base, [rid])
    return found if found.pattern is not None else None


def patterns_of(store: GraphStore, base: str, judged: Judgement) -> dict[str, Elicitation]:
    """Every requirement's slots at once, for renderers of every requirement (the
    derived links indexed once, not once per requirement)."""
    derived = judged.derived or derived_patterns(store, base)
    return {e.requirement: e for e in elicitations(judged, derived, base) if e.pattern}


def pattern_conformance(store: GraphStore, base: str) -> list[PatternConformance]:
    """Per justification pattern, the requirements that follow it as the latest
    recorded check found them: complete or not, and which slots are most often empty."""
    judged = judgement(store, base)
    if judged is None:
        return []
    return conformance(patterns_of(store, base, judged).values())


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
