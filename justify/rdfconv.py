"""pyoxigraph terms -> rdflib terms, for the APIs that need rdflib (pySHACL).

Bulk data stays in Oxigraph; convert only what such an API must see.
"""

from __future__ import annotations

from collections.abc import Iterable

import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from justify.vocab import XSD

_XSD_STRING = XSD.string


def to_rdflib(term: object) -> rdflib.term.Node:
    """One term; ``xsd:string`` literals become plain literals, as in RDF 1.1."""
    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        if term.datatype == _XSD_STRING:
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    raise TypeError(f"cannot convert {term!r} to rdflib")


def to_rdflib_graph(statements: Iterable[Triple | Quad]) -> rdflib.Graph:
    """Triples, or the triples of quads (graph names dropped), as one rdflib graph."""
    graph = rdflib.Graph()
    for s in statements:
        graph.add((to_rdflib(s.subject), to_rdflib(s.predicate), to_rdflib(s.object)))
    return graph
