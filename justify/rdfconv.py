"""pyoxigraph terms -> rdflib terms, for the APIs that need rdflib (pySHACL).

Bulk data stays in Oxigraph; convert only what such an API must see.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from pathlib import Path

import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple, parse

from justify.errors import JustifyError
from justify.vocab import XSD

_XSD_STRING = XSD.string
_BOOLEAN = rdflib.XSD.boolean
_BOOLEAN_FORMS = frozenset({"true", "false", "1", "0"})


class _QuietIllTyped(logging.Filter):
    """rdflib logs a traceback for every literal whose lexical form does not fit its
    datatype ("abc"^^xsd:integer); such literals are data to judge, not errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to convert Literal lexical form")


logging.getLogger("rdflib.term").addFilter(_QuietIllTyped())


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
        # normalize=False: the lexical form stays the data's own ("2011-01-01" stays
        # that, not rdflib's "2011-01-01T00:00:00"), so both engines show the same value.
        datatype = rdflib.URIRef(term.datatype.value)
        if datatype == _BOOLEAN and term.value not in _BOOLEAN_FORMS:
            with warnings.catch_warnings():  # rdflib warns about "none"^^xsd:boolean
                warnings.simplefilter("ignore")
                return rdflib.Literal(term.value, datatype=datatype, normalize=False)
        return rdflib.Literal(term.value, datatype=datatype, normalize=False)
    raise TypeError(f"cannot convert {term!r} to rdflib")


def to_rdflib_graph(statements: Iterable[Triple | Quad]) -> rdflib.Graph:
    """Triples, or the triples of quads (graph names dropped), as one rdflib graph."""
    graph = rdflib.Graph()
    for s in statements:
        graph.add((to_rdflib(s.subject), to_rdflib(s.predicate), to_rdflib(s.object)))
    return graph


def from_rdflib(term: rdflib.term.Node) -> NamedNode | BlankNode | Literal:
    """One rdflib term as pyoxigraph's; blank nodes keep their ids, so that a shape
    that is a blank node in rdflib is the same node in the store's copy of the shapes."""
    if isinstance(term, rdflib.URIRef):
        return NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return Literal(str(term), language=term.language)
        if term.datatype is None:
            return Literal(str(term))
        return Literal(str(term), datatype=NamedNode(str(term.datatype)))
    raise TypeError(f"cannot convert {term!r} to pyoxigraph")


def parse_file(path: Path, fmt: RdfFormat, *, error: type[JustifyError], hint: str) -> list[Quad]:
    """The quads of an RDF file (IRIs resolved against the file's own URI); a syntax
    error is ``error``, naming the file and the line."""
    try:
        return list(parse(path=str(path), format=fmt, base_iri=path.resolve().as_uri()))
    except SyntaxError as exc:
        raise error(
            f"{path}:{exc.lineno or 1}: not valid {fmt.name}: {exc.msg}", hint=hint
        ) from exc
    except OSError as exc:
        raise error(f"{path}: cannot read the file: {exc.strerror or exc}") from exc


def graph_quads(graph: rdflib.Graph, name: NamedNode) -> list[Quad]:
    """An rdflib graph's triples as quads of the graph ``name``."""
    return [
        Quad(from_rdflib(s), from_rdflib(p), from_rdflib(o), name)  # type: ignore[arg-type]
        for s, p, o in graph
    ]
