"""Reading a SPARQL server's answers: result forms, RDF payloads, terms, and values
written back in the form the embedded store gives them."""

from __future__ import annotations

import contextlib
import math
import re

import requests
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
    parse,
)

from justify.errors import QueryError, StoreError
from justify.store.base import Term

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
