"""The shared store: any SPARQL 1.1 server, spoken to over the SPARQL 1.1 Protocol.

A server is shared with other data, so justify keeps a small registry graph on it
(``urn:justify:store``) naming its own graphs and a version token. Reads run over
exactly those graphs (``default-graph-uri`` / ``named-graph-uri``), which gives the
union-of-named-graphs semantics of the embedded store on any server.

Writes go into staging graphs, one per graph a write block touches; only when the
block ends does one update request move them over the real graphs and bump the
version. A write that fails or is killed half-way therefore leaves the published
graphs as they were (the staging graphs are not in the registry, so no reader sees
them; the next writer removes leftovers older than a day).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import requests
from pyoxigraph import (
    NamedNode,
    Quad,
    Triple,
)

from justify.errors import QueryError, StoreError
from justify.store._answers import (
    RDF_ACCEPT,
    _check_not_cut,
    _parse_triples,
    _query_form,
    _term,
)
from justify.store._http import ServerSettings, _Http
from justify.store.base import GraphStore, GraphWriter, MemoryStore, QueryResult
from justify.urls import strip_credentials

__all__ = ["REGISTRY", "STAGING_LOG", "STAGING_PREFIX", "ServerSettings", "SparqlStore"]

REGISTRY = NamedNode("urn:justify:store")
STAGING_PREFIX = "urn:justify:staging:"
STAGING_LOG = NamedNode("urn:justify:staging")
# Operational bookkeeping, not part of the ontology: which graphs are justify's.
_JF_GRAPH = "urn:justify:store#graph"
_JF_VERSION = "urn:justify:store#version"
_JF_STARTED = "urn:justify:store#started"
_STALE_STAGING_S = 24 * 3600


# Credentials come from the environment only, never from a file or a URL.
class SparqlStore(GraphStore):
    """A graph store on a SPARQL 1.1 Query / Update (and optional Graph Store) server."""

    def __init__(
        self,
        settings: ServerSettings,
        *,
        read_only: bool = False,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.read_only = read_only
        self.location = strip_credentials(settings.query_url)
        self.update_url = settings.update_url or settings.query_url
        self.http = _Http(settings, environ)

    # -- reading -----------------------------------------------------------------
    def _registry(self) -> tuple[list[str], str]:
        answer = self._select(
            f"SELECT ?g ?v WHERE {{ GRAPH <{REGISTRY.value}> {{ "
            f"{{ <{REGISTRY.value}> <{_JF_GRAPH}> ?g }} UNION "
            f"{{ <{REGISTRY.value}> <{_JF_VERSION}> ?v }} }} }}",
            dataset=None,
            what="read justify's graph registry",
        )
        graphs = sorted({r["g"]["value"] for r in answer["results"]["bindings"] if "g" in r})
        versions = [r["v"]["value"] for r in answer["results"]["bindings"] if "v" in r]
        return graphs, (versions[0] if versions else "empty")

    def graph_names(self) -> list[str]:
        return self._registry()[0]

    def version(self) -> str:
        return self._registry()[1]

    def graph_sizes(self) -> dict[str, int]:
        return {name: self._count(name) for name in self.graph_names()}

    def _count(self, name: str) -> int:
        answer = self._select(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {NamedNode(name)} {{ ?s ?p ?o }} }}",
            dataset=None,
            what="count a graph's triples",
        )
        rows = answer["results"]["bindings"]
        return int(rows[0]["n"]["value"]) if rows else 0

    def _select(self, sparql: str, *, dataset: list[str] | None, what: str) -> dict[str, Any]:
        response = self._post_query(sparql, dataset, "application/sparql-results+json", what)
        _check_not_cut(response, self.location)
        try:
            return response.json()  # type: ignore[no-any-return]
        except ValueError as exc:
            raise StoreError(
                f"the SPARQL server at {self.location} answered with something that is not "
                f"SPARQL JSON results ({response.headers.get('Content-Type')})",
                hint="check that the 'store' setting names the server's query endpoint",
            ) from exc

    def _post_query(
        self, sparql: str, dataset: list[str] | None, accept: str, what: str
    ) -> requests.Response:
        form: list[tuple[str, str]] = [("query", sparql)]
        if dataset is not None:
            # Exactly justify's graphs: their merge as the default graph, each also by name.
            for g in dataset or ["urn:justify:no-graph"]:
                form.append(("default-graph-uri", g))
            for g in dataset:
                form.append(("named-graph-uri", g))
        return self.http.send(
            self.settings.query_url,
            what=what,
            data=form,
            headers={"Accept": accept},
            query=True,
        )

    def query(
        self, sparql: str, *, max_rows: int | None = None, graphs: Sequence[str] | None = None
    ) -> QueryResult:
        form = _query_form(sparql)
        dataset = self.graph_names() if graphs is None else list(graphs)
        if form == "graph":
            response = self._post_query(sparql, dataset, RDF_ACCEPT, "run a query")
            _check_not_cut(response, self.location)
            triples = _parse_triples(response, self.location)
            more = max_rows is not None and len(triples) > max_rows
            return QueryResult(kind="graph", triples=triples[:max_rows], truncated=more)
        answer = self._select(sparql, dataset=dataset, what="run a query")
        if "boolean" in answer:
            return QueryResult(kind="ask", boolean=bool(answer["boolean"]))
        variables = list(answer["head"].get("vars", []))
        bindings = answer["results"]["bindings"]
        cut = bindings if max_rows is None else bindings[:max_rows]
        rows = [tuple(_term(b.get(v)) for v in variables) for b in cut]
        return QueryResult(
            kind="select", variables=variables, rows=rows, truncated=len(cut) < len(bindings)
        )

    def snapshot(self, graphs: Iterable[str]) -> MemoryStore:
        # Only the graphs asked for, each read whole (Graph Store Protocol or pages).
        copy = MemoryStore(f"{self.location} (in memory)")
        present = set(self.graph_names())
        for name in graphs:
            if name in present:
                graph = NamedNode(name)
                copy.store.bulk_extend(
                    Quad(t.subject, t.predicate, t.object, graph) for t in self._graph_triples(name)
                )
        return copy

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        names = [graph.value] if graph is not None else self.graph_names()
        for name in names:
            for t in self._graph_triples(name):
                yield Quad(t.subject, t.predicate, t.object, NamedNode(name))

    def _graph_triples(self, name: str) -> list[Triple]:
        if self.settings.graph_store_url:
            response = self.http.send(
                self.settings.graph_store_url,
                method="GET",
                params={"graph": name},
                headers={"Accept": RDF_ACCEPT},
                what=f"read the graph <{name}>",
                missing_ok=True,  # the protocol's answer for a graph with no triples
                failure_ok=True,
            )
            if response.status_code == 404:
                return []
            if response.status_code < 300:
                return _parse_triples(response, self.settings.graph_store_url)
            # Virtuoso writes no answer of some million triples ("the result vector is
            # too large": 2 M of bench_check's graph): the graph is read in pages.
        return self._paged_triples(name)

    def _paged_triples(self, name: str) -> list[Triple]:
        """A graph read in pages, in the server's own order, and counted: ORDER BY, which
        would fix the order, is refused by Virtuoso past a few thousand sorted rows, and
        costs a sort of the graph for every page elsewhere. An order that changed from
        one page to the next (or a write meanwhile) shows as missing triples, and stops
        the read instead of judging part of the graph."""
        graph = str(NamedNode(name))
        expected = self._count(name)
        found: dict[Triple, None] = {}
        page, offset = max(self.settings.batch_size, 10_000), 0
        while True:
            response = self._post_query(
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }} "
                f"LIMIT {page} OFFSET {offset}",
                None,
                RDF_ACCEPT,
                f"read the graph <{name}>",
            )
            _check_not_cut(response, self.location)
            got = _parse_triples(response, self.location)
            found.update(dict.fromkeys(got))
            offset += len(got)
            if len(got) < page:
                break
        if len(found) != expected:
            raise StoreError(
                f"the SPARQL server at {self.location} gave {len(found):,} of the "
                f"{expected:,} triples of <{name}> when read in pages: the graph changed "
                "while it was read, or the server's order changed from page to page",
                hint="run the command again once no import writes to the server",
            )
        return list(found)

    # -- writing -----------------------------------------------------------------
    @contextlib.contextmanager
    def write(self) -> Iterator[GraphWriter]:
        if self.read_only:
            raise StoreError(f"the store at {self.location} was opened read-only")
        published, _ = self._registry()
        writer = _SparqlWriter(self, set(published))
        writer.remove_stale_staging()
        try:
            yield writer
            writer.publish()
        except BaseException:
            writer.discard()
            raise

    def update(self, sparql: str, *, what: str) -> None:
        self.http.send(self.update_url, what=what, data={"update": sparql})

    def post_ntriples(self, graph: str, data: bytes, *, what: str) -> None:
        """Add N-Triples to one graph: by the Graph Store Protocol when configured."""
        if self.settings.graph_store_url:
            self.http.send(
                self.settings.graph_store_url,
                params={"graph": graph},
                data=data,
                headers={"Content-Type": "application/n-triples"},
                what=what,
            )
        else:
            text = data.decode("utf-8")
            self.update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{text}\n}} }}", what=what)


class _SparqlWriter(GraphWriter):
    """Collects a write block's changes in staging graphs and publishes them at once."""

    def __init__(self, store: SparqlStore, published: set[str]) -> None:
        self.store = store
        self.published = published
        self.token = f"{int(time.time())}-{uuid.uuid4().hex[:12]}"
        self.staging: dict[str, str] = {}  # graph -> its staging graph
        self.dropped: set[str] = set()

    def _stage(self, graph: str, *, empty: bool) -> str:
        staged = self.staging.get(graph)
        if staged is None:
            staged = f"{STAGING_PREFIX}{self.token}:{len(self.staging)}"
            self.staging[graph] = staged
            self.dropped.discard(graph)
            # Logged, so that a later writer can remove it if this one is killed.
            self.store.update(
                f"INSERT DATA {{ GRAPH <{STAGING_LOG.value}> {{ <{staged}> <{_JF_STARTED}> "
                f'"{int(time.time())}" }} }}',
                what="log a staging graph",
            )
            if graph in self.published and not empty:
                self.store.update(
                    f"COPY SILENT GRAPH <{graph}> TO GRAPH <{staged}>",
                    what=f"copy <{graph}> to a staging graph",
                )
        elif empty:
            self.store.update(f"CLEAR SILENT GRAPH <{staged}>", what="clear a staging graph")
        return staged

    def replace_graph(self, graph: NamedNode, triples: Iterable[Triple]) -> int:
        self._stage(graph.value, empty=True)
        return self.add(graph, triples)

    def add(self, graph: NamedNode, triples: Iterable[Triple]) -> int:
        staged = self._stage(graph.value, empty=False)
        count, lines = 0, []
        for t in triples:
            lines.append(f"{t.subject} {t.predicate} {t.object} .")
            count += 1
            if len(lines) >= self.store.settings.batch_size:
                self._send(staged, graph.value, lines)
                lines = []
        if lines:
            self._send(staged, graph.value, lines)
        return count

    def _send(self, staged: str, graph: str, lines: list[str]) -> None:
        data = ("\n".join(lines) + "\n").encode("utf-8")
        self.store.post_ntriples(staged, data, what=f"write triples of <{graph}>")

    def load_ntriples(self, graph: NamedNode, data: bytes) -> None:
        staged = self._stage(graph.value, empty=False)
        lines = data.splitlines()
        size = self.store.settings.batch_size
        for i in range(0, len(lines), size):
            chunk = b"\n".join(lines[i : i + size]) + b"\n"
            self.store.post_ntriples(staged, chunk, what=f"write triples of <{graph.value}>")

    def drop_graph(self, graph: NamedNode) -> None:
        staged = self.staging.pop(graph.value, None)
        if staged:
            self._drop_staging(staged)
        self.dropped.add(graph.value)

    def _update_graph(self, graph: NamedNode, build: Callable[[str], str]) -> None:
        # Inside a write block a graph is its staging copy: the update is written for it.
        staged = self._stage(graph.value, empty=False)
        self.store.update(build(str(NamedNode(staged))), what=f"update <{graph.value}>")

    def publish(self) -> None:
        if not self.staging and not self.dropped:
            return
        reg, log = REGISTRY.value, STAGING_LOG.value
        ops = []
        for graph, staged in self.staging.items():
            ops.append(f"DROP SILENT GRAPH <{graph}>")
            ops.append(f"MOVE SILENT GRAPH <{staged}> TO GRAPH <{graph}>")
            ops.append(f"INSERT DATA {{ GRAPH <{reg}> {{ <{reg}> <{_JF_GRAPH}> <{graph}> }} }}")
            ops.append(f"DELETE WHERE {{ GRAPH <{log}> {{ <{staged}> ?p ?o }} }}")
        for graph in self.dropped:
            ops.append(f"DROP SILENT GRAPH <{graph}>")
            ops.append(f"DELETE DATA {{ GRAPH <{reg}> {{ <{reg}> <{_JF_GRAPH}> <{graph}> }} }}")
        # Entry by entry, so that a writer publishing other graphs meanwhile is kept.
        ops.append(f"DELETE WHERE {{ GRAPH <{reg}> {{ <{reg}> <{_JF_VERSION}> ?v }} }}")
        version = json.dumps(self.token)
        ops.append(f"INSERT DATA {{ GRAPH <{reg}> {{ <{reg}> <{_JF_VERSION}> {version} }} }}")
        # One request: the server applies it as one transaction (SPARQL 1.1 Update).
        self.store.update(" ;\n".join(ops), what="publish the imported graphs")
        self.staging.clear()

    def discard(self) -> None:
        for staged in self.staging.values():
            with contextlib.suppress(StoreError, QueryError):
                self._drop_staging(staged)

    def _drop_staging(self, staged: str) -> None:
        self.store.update(
            f"DROP SILENT GRAPH <{staged}> ;\n"
            f"DELETE WHERE {{ GRAPH <{STAGING_LOG.value}> {{ <{staged}> ?p ?o }} }}",
            what="drop a staging graph",
        )

    def remove_stale_staging(self) -> None:
        """Drop staging graphs that killed writers left behind more than a day ago."""
        answer = self.store._select(
            f"SELECT ?g ?started WHERE {{ GRAPH <{STAGING_LOG.value}> "
            f"{{ ?g <{_JF_STARTED}> ?started }} }}",
            dataset=None,
            what="look for leftover staging graphs",
        )
        now = time.time()
        for row in answer["results"]["bindings"]:
            started = row["started"]["value"]
            if started.isdigit() and now - int(started) > _STALE_STAGING_S:
                self._drop_staging(row["g"]["value"])
