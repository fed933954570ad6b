"""The record each import writes into its own graph: which source, when, by which
version. ``justify status`` reads these back; they are replaced with the graph."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from pyoxigraph import Literal, NamedNode, Triple

from justify import __version__
from justify.iris import Minter
from justify.vocab import JF, PROV, RDF, RDFS, XSD


def now() -> datetime:
    return datetime.now(UTC)


def datetime_literal(moment: datetime) -> Literal:
    return Literal(
        moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        datatype=XSD.dateTime,
    )


def import_record(
    minter: Minter,
    graph: NamedNode,
    *,
    kind: str,
    location: str,
    started: datetime,
    items: int,
) -> Iterator[Triple]:
    """Triples describing one import into ``graph`` (``location`` holds no credentials)."""
    activity = minter.import_activity(graph)
    yield Triple(graph, RDF.type, JF.SourceGraph)
    yield Triple(graph, RDF.type, PROV.Entity)
    yield Triple(graph, RDFS.label, Literal(f"{kind} graph"))
    yield Triple(activity, RDF.type, JF.Import)
    yield Triple(activity, RDF.type, PROV.Activity)
    yield Triple(activity, RDFS.label, Literal(f"import of {kind} from {location}"))
    yield Triple(activity, JF.importedInto, graph)
    yield Triple(activity, PROV.generated, graph)
    yield Triple(activity, JF.sourceKind, Literal(kind))
    yield Triple(activity, JF.sourceLocation, Literal(location))
    yield Triple(activity, JF.toolVersion, Literal(__version__))
    yield Triple(activity, JF.itemCount, Literal(str(items), datatype=XSD.integer))
    yield Triple(activity, PROV.startedAtTime, datetime_literal(started))
    yield Triple(activity, PROV.endedAtTime, datetime_literal(now()))
