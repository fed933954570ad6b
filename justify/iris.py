"""Instance IRIs and named-graph names.

Every IRI derives from the source's own identity (requirement id, run id,
commit sha, model name and version) under the configured base IRI, so that a
re-import produces the same IRIs and replaces rather than duplicates.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from pyoxigraph import NamedNode

# The graphs the judgement owns (it writes them; no importer does), by name.
DERIVED_GRAPH = "derived"
CHECK_GRAPH = "check"
HISTORY_GRAPH = "history"
JUDGEMENT_GRAPHS = (DERIVED_GRAPH, CHECK_GRAPH, HISTORY_GRAPH)


def judgement_graphs(base_iri: str) -> tuple[str, ...]:
    """The IRIs of the graphs the judgement owns, in a project with this base IRI."""
    minter = Minter(base_iri)
    return tuple(minter.graph(name).value for name in JUDGEMENT_GRAPHS)


def _segment(value: str) -> str:
    # Keep ids readable in IRIs while escaping anything an IRI cannot hold.
    return quote(value, safe="-._~@")


class Minter:
    """Mints the instance IRIs of one project from its base IRI."""

    def __init__(self, base_iri: str) -> None:
        self.base = base_iri

    def iri(self, *segments: str) -> NamedNode:
        return NamedNode(self.base + "/".join(_segment(s) for s in segments))

    # -- requirements -----------------------------------------------------------
    def requirement(self, req_id: str) -> NamedNode:
        return self.iri("requirement", req_id)

    def criterion(self, req_id: str, position: int) -> NamedNode:
        return self.iri("requirement", req_id, "criterion", str(position))

    def justification(self, req_id: str) -> NamedNode:
        return self.iri("requirement", req_id, "justification")

    def strategy(self, req_id: str) -> NamedNode:
        return self.iri("requirement", req_id, "strategy")

    def annotation(self, owner: NamedNode, key: str) -> NamedNode:
        return NamedNode(owner.value + "/annotation/" + _segment(key))

    # -- graphs -----------------------------------------------------------------
    def graph(self, kind: str, location: str | None = None) -> NamedNode:
        """The named graph one source owns: one per kind, or per kind and location."""
        if location is None:
            return self.iri("graph", kind)
        digest = hashlib.sha256(location.encode("utf-8")).hexdigest()[:12]
        return self.iri("graph", kind, digest)

    def import_activity(self, graph: NamedNode) -> NamedNode:
        return NamedNode(graph.value + "/import")
