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
import math
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
    parse,
)
from requests.auth import HTTPDigestAuth, _basic_auth_str

from justify.errors import QueryError, StoreError, UsageError
from justify.store.base import GraphStore, GraphWriter, MemoryStore, QueryResult, Term
from justify.urls import strip_credentials

REGISTRY = NamedNode("urn:justify:store")
STAGING_PREFIX = "urn:justify:staging:"
STAGING_LOG = NamedNode("urn:justify:staging")
# Operational bookkeeping, not part of the ontology: which graphs are justify's.
_JF_GRAPH = "urn:justify:store#graph"
_JF_VERSION = "urn:justify:store#version"
_JF_STARTED = "urn:justify:store#started"
_STALE_STAGING_S = 24 * 3600

# Credentials come from the environment only, never from a file or a URL.
ENV_USER = "JUSTIFY_STORE_USER"
ENV_PASSWORD = "JUSTIFY_STORE_PASSWORD"
ENV_TOKEN = "JUSTIFY_STORE_TOKEN"

_TRANSIENT = {429, 502, 503, 504}


@dataclass(frozen=True)
class ServerSettings:
    """Where a server answers and how hard justify may push it."""

    query_url: str
    update_url: str | None = None  # default: the query URL (most servers take both)
    graph_store_url: str | None = None  # SPARQL 1.1 Graph Store Protocol, for bulk I/O
    timeout: float = 120.0  # seconds one request may take
    batch_size: int = 20_000  # triples per write request
    retries: int = 3  # attempts after a transient failure (refused connection, 502-504)


class _ServerAuth(HTTPDigestAuth):
    """HTTP basic or digest, whichever the server asks for in its challenge.

    requests' digest handler answers a Digest challenge (Virtuoso's /sparql-auth
    sends one); a Basic challenge is answered here, and basic is then sent at once.
    """

    def __init__(self, username: str, password: str) -> None:
        super().__init__(username, password)
        self.basic = False

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.basic:
            r.headers["Authorization"] = _basic_auth_str(self.username, self.password)
            return r
        r = super().__call__(r)
        r.register_hook("response", self._answer_basic)
        return r

    def _answer_basic(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        challenge = r.headers.get("www-authenticate", "").lower()
        if r.status_code != 401 or not challenge.startswith("basic") or self.basic:
            return r
        self.basic = True
        r.content  # noqa: B018 - read the body so the connection can be reused
        r.close()
        again = r.request.copy()
        again.headers["Authorization"] = _basic_auth_str(self.username, self.password)
        answer = r.connection.send(again, **kwargs)
        answer.history.append(r)
        answer.request = again
        return answer


class _Http:
    """One session to the server: credentials, time limits, retries and error text."""

    def __init__(self, settings: ServerSettings, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        for url in (settings.query_url, settings.update_url, settings.graph_store_url):
            if url and strip_credentials(url) != url:
                raise UsageError(
                    f"the store URL {strip_credentials(url)} carries credentials",
                    hint=f"remove them from the URL and set {ENV_USER} and {ENV_PASSWORD} "
                    f"(or {ENV_TOKEN}) in the environment",
                )
        self.settings = settings
        self.session = requests.Session()
        self.auth: requests.auth.AuthBase | None = None
        if env.get(ENV_TOKEN):
            self.session.headers["Authorization"] = f"Bearer {env[ENV_TOKEN]}"
        elif env.get(ENV_USER):
            self.auth = _ServerAuth(env[ENV_USER], env.get(ENV_PASSWORD, ""))
        self.session.headers["User-Agent"] = "justify"

    def send(
        self,
        url: str,
        *,
        what: str,
        method: str = "POST",
        data: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        query: bool = False,
        missing_ok: bool = False,
    ) -> requests.Response:
        """One request, retried on transient failures; errors become StoreError or QueryError."""
        s = self.settings
        for attempt in range(s.retries + 1):
            try:
                response = self.session.request(
                    method,
                    url,
                    data=data,
                    params=params,
                    headers=headers,
                    timeout=s.timeout,
                    auth=self.auth,
                )
            except requests.Timeout as exc:
                raise StoreError(
                    f"the SPARQL server at {url} did not answer within {s.timeout:g} s ({what})",
                    hint="raise the store_timeout setting, or check the server's load",
                ) from exc
            except requests.RequestException as exc:
                if attempt < s.retries:
                    time.sleep(0.5 * 2**attempt)
                    continue
                raise StoreError(
                    f"cannot reach the SPARQL server at {url} ({what}): {_reason(exc)}",
                    hint="check that the server runs and that the 'store' setting names it",
                ) from exc
            if response.status_code in _TRANSIENT and attempt < s.retries:
                time.sleep(0.5 * 2**attempt)
                continue
            if not (missing_ok and response.status_code == 404):
                _raise_for(response, url, what, query=query)
            return response
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _reason(exc: Exception) -> str:
    text = str(exc)
    match = re.search(
        r"\[Errno -?\d+\] ([^'\")]+)|(Connection refused|Connection reset[^'\")]*)", text
    )
    if match:
        return (match.group(1) or match.group(2)).strip()
    return type(exc).__name__


def _raise_for(response: requests.Response, url: str, what: str, *, query: bool) -> None:
    code = response.status_code
    if code < 300:
        return
    body = " ".join(response.text.split())[:400]
    if code in (401, 403):
        raise StoreError(
            f"the SPARQL server at {url} refused the credentials (HTTP {code}) to {what}",
            hint=f"set {ENV_USER} and {ENV_PASSWORD}, or {ENV_TOKEN}, to an account "
            "allowed to read and update the store",
        )
    if code == 404:
        raise StoreError(
            f"no SPARQL endpoint at {url} (HTTP 404)",
            hint="check the store URL settings (store, store_update_url, store_graph_store_url)",
        )
    if query and code < 500:
        raise QueryError(f"the SPARQL server at {url} rejected the query (HTTP {code}): {body}")
    hint = "see the server's log; the store keeps its previous graphs"
    if "SR325" in body:  # Virtuoso: one transaction may not log more than this
        hint = (
            "the update is larger than the server takes in one transaction: raise "
            "TransactionAfterImageLimit in the [Parameters] of virtuoso.ini; "
            "the store keeps its previous graphs"
        )
    raise StoreError(
        f"the SPARQL server at {url} failed to {what} (HTTP {code}): {body}", hint=hint
    )


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
        sizes = {}
        for name in self.graph_names():
            answer = self._select(
                f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}",
                dataset=None,
                what="count a graph's triples",
            )
            rows = answer["results"]["bindings"]
            sizes[name] = int(rows[0]["n"]["value"]) if rows else 0
        return sizes

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
            )
            if response.status_code == 404:
                return []
            return _parse_triples(response, self.settings.graph_store_url)
        # Page through the graph: a server may cap how many rows one answer holds.
        triples: list[Triple] = []
        page = max(self.settings.batch_size, 10_000)
        while True:
            response = self._post_query(
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }} "
                f"ORDER BY ?s ?p ?o LIMIT {page} OFFSET {len(triples)}",
                None,
                RDF_ACCEPT,
                f"read the graph <{name}>",
            )
            got = _parse_triples(response, self.location)
            triples.extend(got)
            if len(got) < page:
                return triples

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


# ----------------------------------------------------------------- helpers

_PROBE = Store()


def _query_form(sparql: str) -> str:
    """'select', 'ask' or 'graph', read by parsing the query (a syntax error is ours to
    report, the same way on every server)."""
    try:
        answer = _PROBE.query(sparql)
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error: {exc}") from exc
    if isinstance(answer, QueryBoolean):
        return "ask"
    if isinstance(answer, QueryTriples):
        return "graph"
    return "select"


def _check_not_cut(response: requests.Response, location: str) -> None:
    # Virtuoso cuts answers at ResultSetMaxRows and says so in this header.
    cap = response.headers.get("X-SPARQL-MaxRows")
    if cap:
        raise StoreError(
            f"the SPARQL server at {location} cut an answer at {cap} rows",
            hint="raise the server's result limit (Virtuoso: ResultSetMaxRows in the "
            "[SPARQL] section of virtuoso.ini); justify needs whole answers",
        )


# Turtle first: Virtuoso writes doubles with all their digits only in Turtle (in
# N-Triples, RDF/XML and result sets it rounds them to 6 significant digits), but
# as bare numerals, which Turtle reads as xsd:decimal. justify writes no decimals
# (metrics and thresholds are doubles), so a decimal in Turtle is such a double.
RDF_ACCEPT = "text/turtle, application/n-triples;q=0.9, application/rdf+xml;q=0.5"
_XSD_DOUBLE = NamedNode("http://www.w3.org/2001/XMLSchema#double")
_XSD_DECIMAL = NamedNode("http://www.w3.org/2001/XMLSchema#decimal")


def _parse_triples(response: requests.Response, url: str) -> list[Triple]:
    kind = response.headers.get("Content-Type", "").split(";")[0].strip()
    fmt = {
        "text/turtle": RdfFormat.TURTLE,
        "application/rdf+xml": RdfFormat.RDF_XML,
    }.get(kind, RdfFormat.N_TRIPLES)
    try:
        doubles = {_XSD_DOUBLE, _XSD_DECIMAL} if fmt == RdfFormat.TURTLE else {_XSD_DOUBLE}
        return [_canonical(q.triple, doubles) for q in parse(response.content, format=fmt)]
    except SyntaxError as exc:
        raise StoreError(
            f"the SPARQL server at {url} sent RDF justify cannot read ({kind}): {exc}"
        ) from exc


def _canonical(t: Triple, doubles: set[NamedNode]) -> Triple:
    o = t.object
    if isinstance(o, Literal):
        same = _canonical_literal(o, doubles)
        if same is not o:
            return Triple(t.subject, t.predicate, same)
    return t


def _canonical_literal(o: Literal, doubles: set[NamedNode]) -> Literal:
    """Numbers and times back in the shortest form that keeps their value, as the
    importers write them: servers print them their own way (0.13218399999999999594
    for 0.132184, 10:00:31.580Z for 10:00:31.58Z)."""
    if o.datatype in doubles:
        with contextlib.suppress(ValueError):
            value = float(o.value)
            if math.isfinite(value):
                return Literal(repr(value), datatype=_XSD_DOUBLE)
    elif o.datatype == _XSD_DATETIME and (m := _FRACTION.match(o.value)):
        fraction = m.group(2).rstrip("0")
        trimmed = m.group(1) + ("." + fraction if fraction else "") + (m.group(3) or "")
        if trimmed != o.value:
            return Literal(trimmed, datatype=_XSD_DATETIME)
    return o


_XSD_DATETIME = NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
_FRACTION = re.compile(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(Z|[+-]\d{2}:\d{2})?$")


def _term(binding: dict[str, str] | None) -> Term | None:
    if binding is None:
        return None
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return NamedNode(value)
    if kind == "bnode":
        return BlankNode(value)
    lang = binding.get("xml:lang")
    if lang:
        return Literal(value, language=lang)
    datatype = binding.get("datatype")
    if not datatype:
        return Literal(value)
    return _canonical_literal(Literal(value, datatype=NamedNode(datatype)), set())
