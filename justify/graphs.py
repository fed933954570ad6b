"""``justify status`` and ``justify export``: what the store holds, and a copy of it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from pyoxigraph import NamedNode

from justify._query import run_query
from justify.config import Config, load_config
from justify.errors import UsageError
from justify.iris import JUDGEMENT_GRAPHS, Minter
from justify.store import EmbeddedStore, GraphStore, is_server_location, open_store

_IMPORTS = """
SELECT ?g ?kind ?location ?ended ?version ?items WHERE {
  GRAPH ?g {
    ?import a jf:Import ; jf:importedInto ?g ; jf:sourceKind ?kind ;
            jf:sourceLocation ?location ; prov:endedAtTime ?ended .
    OPTIONAL { ?import jf:toolVersion ?version }
    OPTIONAL { ?import jf:itemCount ?items }
  }
}
"""


@dataclass(frozen=True)
class GraphStatus:
    """One named graph: its size and its last import."""

    graph: str
    triples: int
    kind: str | None = None
    location: str | None = None
    imported_at: str | None = None
    tool_version: str | None = None
    items: int | None = None


def status(*, config: Config | None = None, store: GraphStore | None = None) -> list[GraphStatus]:
    """Every named graph with its triple count and when and from what it was imported."""
    config = config or load_config()
    store = store or open_store(config)
    sizes = store.graph_sizes()
    imports = {row["g"]: row for row in run_query(store, _IMPORTS).values()}
    # The graphs the judgement writes, named after what they hold.
    minter = Minter(config.base_iri)
    own = {minter.graph(name).value: f"judgement ({name})" for name in JUDGEMENT_GRAPHS}
    result = []
    for graph, count in sizes.items():
        info = imports.get(graph, {"kind": own.get(graph)})
        items = info.get("items")
        result.append(
            GraphStatus(
                graph=graph,
                triples=count,
                kind=info.get("kind"),
                location=info.get("location"),
                imported_at=info.get("ended"),
                tool_version=info.get("version"),
                items=int(items) if items else None,
            )
        )
    return result


def graph_iri(name: str, *, config: Config, store: GraphStore) -> NamedNode:
    """A graph given as an IRI, or by a short name such as ``requirements``."""
    graphs = store.graph_names()
    if name in graphs:
        return NamedNode(name)
    matches = [g for g in graphs if g.startswith(config.base_iri + "graph/" + name)]
    if len(matches) == 1:
        return NamedNode(matches[0])
    known = ", ".join(graphs) or "none yet"
    if not matches:
        raise UsageError(f"no graph named '{name}' in the store", hint=f"graphs: {known}")
    raise UsageError(f"'{name}' names several graphs", hint=f"give one IRI of: {known}")


def export(
    fmt: str = "turtle",
    *,
    graph: str | None = None,
    output: str | Path | None = None,
    config: Config | None = None,
    store: GraphStore | None = None,
) -> int:
    """Write the union of all graphs, or one graph, to ``output`` (standard output if None).

    Returns the number of statements written. The file is only replaced once the
    serialisation is complete.
    """
    config = config or load_config()
    store = store or open_store(config)
    target = graph_iri(graph, config=config, store=store) if graph else None
    if output is None:
        count = store.export(sys.stdout.buffer, fmt, graph=target)
        sys.stdout.buffer.flush()
        return count
    path = Path(output)
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as handle:
            count = store.export(handle, fmt, graph=target)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(
            f"{path}: cannot write the export: {exc.strerror or exc}",
            hint="choose a writable file with -o",
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


@dataclass(frozen=True)
class CopySummary:
    """What ``justify store copy`` moved."""

    source: str
    target: str
    graphs: dict[str, int]  # graph -> triples copied
    dropped: list[str]  # graphs the target had and the source has not


def copy_store(
    source: str,
    target: str,
    *,
    config: Config | None = None,
    echo: Callable[[str], None] | None = None,
) -> CopySummary:
    """Make the store at ``target`` hold exactly the graphs of the store at ``source``.

    Either side is a folder (embedded store) or a SPARQL server URL; server settings
    (update and Graph Store URLs, time limit, batch size) come from the configuration
    for whichever side is a server. All graphs land in one write block: a failure
    leaves the target as it was.
    """
    config = config or load_config()
    say = echo or (lambda _text: None)
    stores = []
    for location in (source, target):
        if not location.startswith(("http://", "https://")):
            location = str(config.path(location))
        stores.append(open_store(replace(config, store=location)))
    src, dst = stores
    if src.location == dst.location:
        raise UsageError(f"{source} and {target} are the same store", hint="name two stores")
    names = src.graph_names()
    if not names:
        raise UsageError(
            f"the store at {src.location} is empty; nothing to copy",
            hint="check the source location (a folder or a server's query URL)",
        )
    old = set(dst.graph_names())
    copied: dict[str, int] = {}
    with dst.write() as writer:
        for name in names:
            say(f"copying <{name}> ...")
            graph = NamedNode(name)
            copied[name] = writer.replace_graph(graph, (q.triple for q in src.quads(graph)))
        dropped = sorted(old - set(names))
        for name in dropped:
            writer.drop_graph(NamedNode(name))
    return CopySummary(src.location, dst.location, copied, dropped)


def repair_store(*, config: Config | None = None) -> str:
    """Point a damaged embedded store at its newest complete generation again; return
    that generation's name. A SPARQL server keeps its own transactions."""
    config = config or load_config()
    if is_server_location(config.store_location):
        raise UsageError(
            f"{config.store_location} is a SPARQL server; repair applies to an embedded store",
            hint="a server keeps its own transactions",
        )
    return EmbeddedStore(config.store_location).repair()
