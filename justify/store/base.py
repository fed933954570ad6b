"""The interface every store backend implements, and the in-memory store.

Every source owns one named graph. Writers work inside ``store.write()``; what
they write becomes visible to readers only when the block ends without error,
all at once. A failed or killed import therefore leaves the previous graphs as
they were.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import queue
import shutil
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
    serialize,
)

from justify import choices
from justify.errors import QueryError, UsageError
from justify.vocab import PREFIXES

Term = object  # a pyoxigraph NamedNode, BlankNode, Literal or Triple

EXPORT_FORMATS: dict[str, RdfFormat] = dict(
    zip(
        choices.EXPORT_FORMATS,
        (
            RdfFormat.TURTLE,
            RdfFormat.N_TRIPLES,
            RdfFormat.N_QUADS,
            RdfFormat.TRIG,
            RdfFormat.JSON_LD,
        ),
        strict=True,
    )
)


@dataclass
class QueryResult:
    """The answer to a SPARQL query: rows (SELECT), a boolean (ASK) or triples."""

    kind: Literal["select", "ask", "graph"]
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[Triple] = field(default_factory=list)
    truncated: bool = False  # more rows or triples than ``max_rows`` asked for

    def values(self) -> list[dict[str, str | None]]:
        """Rows as plain dictionaries of lexical values, for scripts and tests."""
        return [
            {
                v: (getattr(t, "value", None) if t is not None else None)
                for v, t in zip(self.variables, row, strict=True)
            }
            for row in self.rows
        ]


class GraphWriter(ABC):
    """What a writer may do inside ``GraphStore.write()``."""

    @abstractmethod
    def replace_graph(self, graph: NamedNode, triples: Iterable[Triple]) -> int:
        """Replace everything in ``graph`` by ``triples``; return how many were written."""

    @abstractmethod
    def add(self, graph: NamedNode, triples: Iterable[Triple]) -> int:
        """Add ``triples`` to ``graph`` in bulk; return how many were written."""

    @abstractmethod
    def drop_graph(self, graph: NamedNode) -> None:
        """Remove ``graph`` and all its triples."""

    def delete_subjects(
        self,
        graph: NamedNode,
        *,
        subjects: Sequence[NamedNode] = (),
        types: Sequence[NamedNode] = (),
        owned: str = "",
    ) -> None:
        """Delete from ``graph`` some subjects, with every triple of theirs and of the
        nodes they own: the ``subjects`` given, or every subject of one of ``types``;
        ``owned`` is a SPARQL property path (justify's prefixes) from a subject to what
        hangs off it (its measurements, parameters...). Incremental imports remove
        what changed this way, whatever the backend."""
        reach = f"?x ({owned})? ?s ." if owned else "BIND(?x AS ?s)"
        prefixes = " ".join(f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items())
        picks = [f"VALUES ?type {{ {' '.join(map(str, types))} }} ?x a ?type ."] if types else []
        picks += [
            f"VALUES ?x {{ {' '.join(map(str, subjects[i : i + 500]))} }}"
            for i in range(0, len(subjects), 500)
        ]
        for pick in picks:

            def update(g: str, pick: str = pick) -> str:
                return (
                    f"{prefixes} DELETE {{ GRAPH {g} {{ ?s ?p ?o }} }} "
                    f"WHERE {{ GRAPH {g} {{ {pick} {reach} ?s ?p ?o }} }}"
                )

            self._update_graph(graph, update)

    @abstractmethod
    def _update_graph(self, graph: NamedNode, build: Callable[[str], str]) -> None:
        """Run the SPARQL update ``build`` writes for one graph, given the term by which
        this backend addresses that graph inside the write block."""

    @abstractmethod
    def load_ntriples(self, graph: NamedNode, data: bytes) -> None:
        """Add N-Triples text to ``graph`` in bulk (the fast path for large imports)."""


class GraphStore(ABC):
    """The interface the rest of justify uses; backends: embedded, SPARQL server."""

    location: str

    @abstractmethod
    def write(self) -> contextlib.AbstractContextManager[GraphWriter]:
        """A write block: all of it becomes visible at its end, or none of it on error."""

    @abstractmethod
    def query(
        self, sparql: str, *, max_rows: int | None = None, graphs: Sequence[str] | None = None
    ) -> QueryResult:
        """Run a SPARQL query over the union of all named graphs (at most ``max_rows``),
        or over the union of ``graphs`` only (the query then sees nothing else)."""

    def version(self) -> str:
        """A token that changes whenever a write block publishes (a cache key)."""
        return json.dumps(self.graph_sizes(), sort_keys=True)

    def data_token(self, kept_apart: Iterable[str]) -> str | None:
        """A token for the content of every graph but ``kept_apart``: two reads give the
        same token only if none of those graphs changed in between (a judgement's
        fingerprint, without counting millions of triples after each import); None
        when the store keeps none, and the sizes of the graphs must do."""
        return None

    @abstractmethod
    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        """Every quad, or those of one named graph."""

    @abstractmethod
    def graph_sizes(self) -> dict[str, int]:
        """Each named graph's IRI with its triple count."""

    def graph_names(self) -> list[str]:
        """The IRIs of the named graphs (cheaper than their sizes)."""
        return list(self.graph_sizes())

    def export(self, output: BinaryIO, fmt: str, *, graph: NamedNode | None = None) -> int:
        """Serialise one graph, or all of them, to ``output``; return the statement count.

        Triple formats (turtle, ntriples) given no graph get the union of all graphs.
        """
        rdf_format = EXPORT_FORMATS.get(fmt)
        if rdf_format is None:
            raise UsageError(
                f"unknown export format {fmt!r}",
                hint="use one of: " + ", ".join(EXPORT_FORMATS),
            )
        if graph is not None and graph.value not in self.graph_names():
            raise UsageError(
                f"no graph named <{graph.value}> in the store at {self.location}",
                hint="`justify status` lists the graphs",
            )
        quads = self.quads(graph)
        statements: list[Quad] | list[Triple]
        if graph is not None or not rdf_format.supports_datasets:
            # A union of triples: the same triple from two graphs is written once.
            statements = list(dict.fromkeys(q.triple for q in quads))
        else:
            statements = list(quads)
        prefixes = PREFIXES if rdf_format in (RdfFormat.TURTLE, RdfFormat.TRIG) else None
        serialize(statements, output, format=rdf_format, prefixes=prefixes)
        return len(statements)

    def close(self) -> None:  # noqa: B027 - optional for backends
        """Release what the backend holds open."""

    def snapshot(self, graphs: Iterable[str]) -> MemoryStore:
        """An in-memory copy of the named graphs given, for work that must not write
        (the judgement derives and validates in such a copy)."""
        copy = MemoryStore(f"{self.location} (in memory)")
        wanted = set(graphs)
        copy.store.bulk_extend(
            q
            for q in self.quads()
            if isinstance(q.graph_name, NamedNode) and q.graph_name.value in wanted
        )
        return copy


class _MemoryWriter(GraphWriter):
    """Writes straight into an in-memory store (it has no readers to protect)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def replace_graph(self, graph: NamedNode, triples: Iterable[Triple]) -> int:
        self.drop_graph(graph)
        return self.add(graph, triples)

    def add(self, graph: NamedNode, triples: Iterable[Triple]) -> int:
        quads = [Quad(t.subject, t.predicate, t.object, graph) for t in triples]
        self._store.bulk_extend(quads)
        return len(quads)

    def drop_graph(self, graph: NamedNode) -> None:
        if self._store.contains_named_graph(graph):
            self._store.remove_graph(graph)

    def _update_graph(self, graph: NamedNode, build: Callable[[str], str]) -> None:
        self._store.update(build(str(graph)))

    def load_ntriples(self, graph: NamedNode, data: bytes) -> None:
        self._store.bulk_load(data, format=RdfFormat.N_TRIPLES, to_graph=graph)


class MemoryStore(GraphStore):
    """A private, writable store nobody else reads: the judgement's workspace, and
    tests'. In memory, or (``folder``) in a scratch folder that ``close`` removes."""

    def __init__(self, location: str = "memory", *, folder: Path | None = None) -> None:
        self.location = location
        self.folder = folder
        self.store = Store(str(folder)) if folder is not None else Store()

    def close(self) -> None:
        if self.folder is not None:
            del self.store
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    @contextlib.contextmanager
    def write(self) -> Iterator[GraphWriter]:
        yield _MemoryWriter(self.store)

    def query(
        self, sparql: str, *, max_rows: int | None = None, graphs: Sequence[str] | None = None
    ) -> QueryResult:
        try:
            answer = query_graphs(self.store, sparql, graphs)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc
        return to_result(answer, max_rows)

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        if graph is None:
            return (q for q in self.store if not isinstance(q.graph_name, DefaultGraph))
        return iter(self.store.quads_for_pattern(None, None, None, graph))

    def graph_sizes(self) -> dict[str, int]:
        return {
            g.value: count_graph(self.store, g.value)
            for g in self.store.named_graphs()
            if isinstance(g, NamedNode)
        }


class BackgroundLoader:
    """Loads chunks of N-Triples into one graph on a second thread.

    The caller goes on reading its source while the store writes (Oxigraph
    releases the GIL while loading). Chunks that queue up while a load runs are
    loaded together, up to ``batch_bytes``: each load of an on-disk store leaves
    files behind, so fewer and larger loads cost less to write and to compact.
    Errors of either side end the write block.
    """

    def __init__(
        self,
        writer: GraphWriter,
        graph: NamedNode,
        *,
        depth: int = 8,
        batch_bytes: int = 3_000_000,
    ) -> None:
        self.writer = writer
        self.graph = graph
        self.batch_bytes = batch_bytes
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="justify-loader", daemon=True)

    def _work(self) -> None:
        done = False
        while not done:
            first = self.queue.get()
            if first is None:
                return
            batch, size = [first], len(first)
            while size < self.batch_bytes:
                try:
                    more = self.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    done = True
                    break
                batch.append(more)
                size += len(more)
            if self.error is None:
                try:
                    self.writer.load_ntriples(self.graph, b"".join(batch))
                except BaseException as exc:  # handed to the caller in put() or close()
                    self.error = exc

    def put(self, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        if data:
            self.queue.put(data)

    def __enter__(self) -> BackgroundLoader:
        self.thread.start()
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        self.queue.put(None)
        self.thread.join()
        if exc is None and self.error is not None:
            raise self.error


def query_graphs(
    store: Store, sparql: str, graphs: Sequence[str] | None
) -> QuerySolutions | QueryBoolean | QueryTriples:
    """Query all named graphs as one default graph, or only ``graphs``."""
    if graphs is None:
        return store.query(sparql, use_default_graph_as_union=True)
    default: list[NamedNode | BlankNode | DefaultGraph] = [NamedNode(g) for g in graphs]
    named: list[NamedNode | BlankNode] = [NamedNode(g) for g in graphs]
    return store.query(sparql, default_graph=default, named_graphs=named)


def to_result(
    answer: QuerySolutions | QueryBoolean | QueryTriples, max_rows: int | None = None
) -> QueryResult:
    if isinstance(answer, QueryBoolean):
        return QueryResult(kind="ask", boolean=bool(answer))
    # Read one more than asked for, to know whether there were more.
    cap = None if max_rows is None else max_rows + 1
    if isinstance(answer, QueryTriples):
        triples = list(itertools.islice(answer, cap))
        more = cap is not None and len(triples) == cap
        return QueryResult(kind="graph", triples=triples[:max_rows], truncated=more)
    variables = [v.value for v in answer.variables]
    rows = [tuple(s[v] for v in variables) for s in itertools.islice(answer, cap)]
    more = cap is not None and len(rows) == cap
    return QueryResult(kind="select", variables=variables, rows=rows[:max_rows], truncated=more)


def count_graph(store: Store, name: str) -> int:
    answer = store.query(f"SELECT (COUNT(*) AS ?n) {{ GRAPH {NamedNode(name)} {{ ?s ?p ?o }} }}")
    return int(next(iter(answer))[0].value)  # type: ignore[arg-type]
