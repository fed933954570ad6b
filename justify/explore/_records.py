"""Runs, commits and the neighbourhood of any node of the graph."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from justify._query import term, term_text, with_prefixes
from justify.explore._common import Row, _rows
from justify.store import GraphStore, QueryResult


# -- runs and commits
def runs(store: GraphStore, *, text: str = "", limit: int = 500) -> list[Row]:
    """Runs, newest first, with the requirements they support."""
    search = (
        "FILTER(CONTAINS(LCASE(CONCAT(?name, ' ', ?runId, ' ', COALESCE(?experiment, ''))), "
        f"{term(text.lower())}))"
        if text
        else ""
    )
    # Without a search, the newest runs are chosen first and only they are joined
    # with their names, experiments and requirements (6x faster on 30,000 runs).
    newest = (
        ""
        if text
        else f"""{{ SELECT ?run ?end WHERE {{ ?run a jf:Run .
              OPTIONAL {{ ?run prov:endedAtTime ?end }} }}
            ORDER BY DESC(?end) LIMIT {int(limit)} }}"""
    )
    return _rows(
        store,
        f"""SELECT ?run ?name ?runId ?status ?experiment ?end ?sha
               (GROUP_CONCAT(DISTINCT ?req; separator=", ") AS ?requirements) WHERE {{
          {newest}
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
    newest = (  # as for runs: the newest commits first, then their details
        ""
        if text
        else f"""{{ SELECT ?c ?time WHERE {{ ?c a jf:Commit .
              OPTIONAL {{ ?c prov:endedAtTime ?time }} }}
            ORDER BY DESC(?time) LIMIT {int(limit)} }}"""
    )
    return _rows(
        store,
        f"""SELECT ?sha ?title ?author ?time
               (GROUP_CONCAT(DISTINCT ?req; separator=", ") AS ?justifies) WHERE {{
          {newest}
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
    kinds: dict[str, str] = field(default_factory=dict)  # IRI -> its type, as jf:Commit

    def caption(self, iri: str) -> str:
        """A node's label with its type, so that two nodes labelled alike differ."""
        label, kind = self.nodes.get(iri, iri), self.kinds.get(iri)
        return f"{label} · {kind}" if kind else label


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
    return Neighbourhood(iri, labels, all_edges, literals, truncated, kinds_of(store, sorted(ids)))


def kinds_of(store: GraphStore, iris: list[str]) -> dict[str, str]:
    """Each node's type as a prefixed name; justify's own type first (a commit is a
    jf:Commit before it is a prov:Activity)."""
    values = " ".join(term(i, iri=True) for i in iris)
    answer = store_query(store, f"SELECT ?n ?t WHERE {{ VALUES ?n {{ {values} }} ?n a ?t }}")
    kinds: dict[str, list[str]] = {}
    for n, t in answer.rows:
        kinds.setdefault(getattr(n, "value", ""), []).append(term_text(t, compact=True))
    return {n: sorted(ts, key=lambda t: (not t.startswith("jf:"), t))[0] for n, ts in kinds.items()}


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
