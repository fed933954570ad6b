"""The reference engine: pySHACL applies the rules and validates, on an rdflib copy."""

from __future__ import annotations

import functools
import re
from typing import Any

import pyoxigraph
import rdflib
from pyshacl import validate
from rdflib.namespace import RDF, SH

from justify.errors import ShapeError
from justify.rdfconv import to_rdflib_graph
from justify.shacl._shapes import JFS, SEVERITIES, CheckResult, _sorted
from justify.store import GraphStore


def run_pyshacl(
    workspace: GraphStore, shapes: rdflib.Graph, derived: pyoxigraph.NamedNode
) -> list[CheckResult]:
    """The reference: pySHACL derives (SHACL rules) and validates by itself, on the
    graph without what the fast engine derived."""
    data = to_rdflib_graph(q for q in workspace.quads() if q.graph_name != derived)
    return _pyshacl_results(data, shapes, shapes, advanced=True)


_PREFIX_LINE = re.compile(r"\s*PREFIX\s", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def _translated(text: str, base: str | None, namespaces: tuple[tuple[str, Any], ...]) -> Any:
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    return translateQuery(parseQuery(text), base, dict(namespaces) or None)


@functools.cache
def _parse_each_query_once() -> None:
    """pySHACL hands rdflib the same SPARQL text of a constraint again and again, and
    rdflib parses it every time: pyparsing took 80% of a reference check. rdflib can
    run a translated query any number of times (that is what ``prepareQuery`` is for),
    so its processor is given the translation of each text, made once per process."""
    from rdflib.plugins.sparql.processor import SPARQLProcessor

    parse_every_time = SPARQLProcessor.query

    def query(
        self: SPARQLProcessor,
        strOrQuery: Any,
        initBindings: Any = None,
        initNs: Any = None,
        base: str | None = None,
        DEBUG: bool = False,
    ) -> Any:
        if isinstance(strOrQuery, str):
            # pySHACL writes the PREFIX lines in set order, which varies from call
            # to call: in sorted order, one text is one key.
            lines = strOrQuery.split("\n")
            cut = next((i for i, line in enumerate(lines) if not _PREFIX_LINE.match(line)), 0)
            text = "\n".join(sorted(lines[:cut]) + lines[cut:])
            strOrQuery = _translated(text, base, tuple(sorted((initNs or {}).items())))
        return parse_every_time(self, strOrQuery, initBindings, initNs, base, DEBUG)

    SPARQLProcessor.query = query  # type: ignore[method-assign]


def _pyshacl_results(
    data: rdflib.Graph, shapes: rdflib.Graph, all_shapes: rdflib.Graph, *, advanced: bool
) -> list[CheckResult]:
    _parse_each_query_once()
    try:
        _, report, _ = validate(
            data, shacl_graph=shapes, inference="none", abort_on_first=False, advanced=advanced
        )
    except Exception as exc:  # pySHACL rejects a shape with its own error types
        raise ShapeError(
            f"pySHACL cannot run the shapes: {exc}",
            hint="fix the shape it names (see the SHACL specification), or run --engine fast",
        ) from exc
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        shape = report.value(node, SH.sourceShape)
        rule = all_shapes.value(shape, JFS.ruleId)
        owner = shape
        if rule is None:  # a property shape: the rule id sits on its node shape
            parent = all_shapes.value(None, SH.property, shape)
            rule = all_shapes.value(parent, JFS.ruleId) if parent is not None else None
            owner = parent if parent is not None else shape
        value = report.value(node, SH.value)
        path = report.value(node, SH.resultPath)
        results.append(
            CheckResult(
                rule=str(rule or shape),
                focus=str(report.value(node, SH.focusNode)),
                severity=SEVERITIES.get(report.value(node, SH.resultSeverity), "violation"),
                message=str(report.value(node, SH.resultMessage) or ""),
                value=str(value) if value is not None else None,
                path=str(path) if isinstance(path, rdflib.URIRef) else None,
                shape=str(owner) if isinstance(owner, rdflib.URIRef) else None,
                value_is_iri=isinstance(value, rdflib.URIRef),
            )
        )
    return _sorted(results)
