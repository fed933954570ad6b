"""Finding importers, and running one: the plumbing every importer shares.

The orchestrator decides full or incremental, opens the write block, streams
what the importer yields into the store (a full import) or applies its deletes
then its triples (an incremental one), writes the import record, and turns an
importer's failure into a message naming it. The graph keeps its previous import
when anything fails.
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from pyoxigraph import NamedNode, Triple

from justify._query import run_query, with_prefixes
from justify.config import Config, load_config
from justify.errors import JustifyError, SourceUnavailable, UsageError
from justify.importers._protocol import Importer, ImportRun, ImportSummary, RequirementCatalogue
from justify.iris import Minter
from justify.ntriples import Lines
from justify.provenance import datetime_literal, import_record, now
from justify.store import BackgroundLoader, GraphStore, open_store
from justify.vocab import JF

ENTRY_POINT_GROUP = "justify.importers"


@functools.cache
def _registry() -> tuple[dict[str, Importer], dict[str, str]]:
    """The importers that load, by name in ``justify sync`` order, and those that do
    not, with why: a broken plug-in must not break the other commands."""
    found: list[Importer] = []
    broken: dict[str, str] = {}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            importer = entry.load()()
        except Exception as exc:
            broken[entry.name] = f"{entry.value}: {type(exc).__name__}: {exc}"
            continue
        if not isinstance(importer, Importer) or importer.name != entry.name:
            broken[entry.name] = (
                f"{entry.value} is not a justify Importer named {entry.name!r} "
                "(subclass justify.importers.Importer and set name)"
            )
            continue
        found.append(importer)
    found.sort(key=lambda i: (i.sync_order, i.name))
    return {i.name: i for i in found}, broken


def registered_importers() -> dict[str, Importer]:
    """Every registered importer that loads, by name, in ``justify sync`` order."""
    return _registry()[0]


def broken_importers() -> dict[str, str]:
    """Registered importers that could not be loaded, and why."""
    return dict(_registry()[1])


def get_importer(name: str) -> Importer:
    found = registered_importers()
    if name not in found:
        why = broken_importers().get(name)
        if why:
            raise UsageError(f"importer '{name}' is installed but broken: {why}")
        raise UsageError(
            f"no importer named '{name}'",
            hint="installed importers: " + (", ".join(found) or "none"),
        )
    return found[name]


def run_import(
    name: str,
    *,
    full: bool = False,
    config: Config | None = None,
    store: GraphStore | None = None,
    progress: bool = True,
    **options: Any,
) -> ImportSummary:
    """Import one source with the importer registered as ``name``.

    Incremental unless ``full``, an option that reads only part of the source, or
    the first import. Raises ``JustifyError`` subclasses only; the graph then keeps
    its last import.
    """
    importer = get_importer(name)
    config = config or load_config()
    given = {o.name: options.get(o.name) for o in importer.options}
    unknown = set(options) - set(given)
    if unknown:
        raise UsageError(f"importer '{name}' has no option {', '.join(sorted(unknown))}")
    started = now()
    location = _guarded(name, lambda: importer.locate(config, given))
    store = store or open_store(config)
    minter = Minter(config.base_iri)
    graph = minter.graph(name, location)
    watermark, previous = _previous_import(store, graph)
    partial = any(o.forces_full and given.get(o.name) for o in importer.options)
    run = ImportRun(
        importer=name,
        config=config,
        options=given,
        location=location,
        graph=graph,
        store=store,
        full=full or not previous or partial,
        previous=previous,
        watermark=watermark,
        requirements=requirement_catalogue(store),
        progress=progress,
    )

    def record() -> bytes:
        lines = Lines()
        lines.add_terms(
            import_record(
                minter, graph, kind=name, location=location, started=started, items=run.items or 0
            )
        )
        if run.watermark is not None:
            activity = minter.import_activity(graph)
            lines.add_terms([Triple(activity, JF.watermark, datetime_literal(run.watermark))])
        return lines.take()

    if run.full:
        # Stream: what the importer yields is written while it reads on.
        with store.write() as writer:
            writer.replace_graph(graph, ())
            with BackgroundLoader(writer, graph) as loader:
                for chunk in _guarded_iter(name, importer.read(run)):
                    loader.put(chunk)
                loader.put(record())
    else:
        # Read everything first: the source is slow, and the write block holds the store.
        chunks = list(_guarded_iter(name, importer.read(run)))
        with store.write() as writer:
            for d in run.deletions:
                writer.delete_subjects(graph, subjects=d.subjects, types=d.types, owned=d.owned)
            writer.delete_subjects(graph, types=(JF.Import, JF.SourceGraph))
            writer.load_ntriples(graph, b"".join([*chunks, record()]))
    return ImportSummary(
        importer=name,
        source=location,
        graph=graph.value,
        full=run.full,
        counts=dict(run.counts),
        warnings=tuple(run.warnings),
    )


def _previous_import(store: GraphStore, graph: NamedNode) -> tuple[datetime | None, bool]:
    """The last import's watermark, and whether the graph holds an import at all."""
    rows = store.query(
        with_prefixes("SELECT ?t WHERE { ?i a jf:Import OPTIONAL { ?i jf:watermark ?t } }"),
        graphs=[graph.value],
    ).values()
    if not rows:
        return None, False
    mark = rows[0]["t"]
    return (datetime.fromisoformat(mark.replace("Z", "+00:00")) if mark else None), True


def requirement_catalogue(store: GraphStore) -> RequirementCatalogue:
    """The loaded requirements' ids, criteria metrics and model scopes."""
    rows = run_query(
        store,
        """SELECT ?id ?name ?alias ?metric WHERE {
             ?r a jf:Requirement ; dcterms:identifier ?id .
             OPTIONAL { ?r jf:scopeModelName ?name OPTIONAL { ?r jf:scopeAlias ?alias } }
             OPTIONAL { ?r jf:hasCriterion/jf:metricKey ?metric } }""",
    ).values()
    metrics: dict[str, set[str]] = {}
    scopes: dict[str, tuple[str, str | None]] = {}
    for row in rows:
        rid = row["id"] or ""
        metrics.setdefault(rid, set())
        if row["metric"]:
            metrics[rid].add(row["metric"])
        if row["name"]:
            scopes[rid] = (row["name"], row["alias"])
    return RequirementCatalogue(
        frozenset(metrics), {k: frozenset(v) for k, v in metrics.items()}, scopes
    )


def _failure(name: str, exc: BaseException) -> JustifyError:
    if isinstance(exc, JustifyError):
        return exc
    # A plug-in's own bug or an unexpected answer from its source: the graph keeps its
    # last import, and the message says whose code failed.
    return SourceUnavailable(
        f"importer '{name}' failed: {type(exc).__name__}: {exc}",
        hint="the graph keeps its last import; if this persists, report it to the "
        "importer's authors with the command you ran",
    )


def _guarded(name: str, call: Callable[[], str]) -> str:
    try:
        return call()
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        raise _failure(name, exc) from exc


def _guarded_iter(name: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    iterator = iter(chunks)
    while True:
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            raise _failure(name, exc) from exc
        if not isinstance(chunk, bytes):
            raise _failure(name, TypeError(f"read() yielded {type(chunk).__name__}, not bytes"))
        # Chunks are loaded joined together: each must end its last line.
        yield chunk if not chunk or chunk.endswith(b"\n") else chunk + b"\n"
