"""The reference engine: pySHACL applies the rules and validates, on an rdflib copy."""

from __future__ import annotations

import functools
import re
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, SH

from justify.errors import ShapeError
from justify.rdfconv import to_rdflib_graph
from justify.shacl._messages import choose, default_message
from justify.shacl._shapes import JFS, SEVERITIES, CheckResult, _sorted, lexical
from justify.shacl._sparql import PARSING


def run_pyshacl(
    store: ox.Store, data: list[ox.NamedNode], shapes: rdflib.Graph
) -> list[CheckResult]:
    """The reference: pySHACL derives (SHACL rules) and validates by itself, on the
    data graphs ``data`` of ``store``."""
    graph = to_rdflib_graph(q for g in data for q in store.quads_for_pattern(None, None, None, g))
    return pyshacl_results(graph, shapes, shapes, advanced=True)


_PREFIX_LINE = re.compile(r"\s*PREFIX\s", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def _translated(text: str, base: str | None, namespaces: tuple[tuple[str, Any], ...]) -> Any:
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    with PARSING:  # the fast engine parses in other threads: pyparsing is not thread-safe
        parsed = parseQuery(text)
    return translateQuery(parsed, base, dict(namespaces) or None)


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


def _template(text: str) -> re.Pattern[str]:
    """A message template as a pattern its filled forms match."""
    parts = re.split(r"\{[?$][A-Za-z_][A-Za-z0-9_]*\}", text)
    return re.compile("(?s)" + ".*".join(re.escape(p) for p in parts))


def _message(
    shapes: rdflib.Graph,
    shape: rdflib.term.Node,
    constraint: rdflib.term.Node | None,
    component: rdflib.term.Node,
    value: str | None,
    given: list[str],
) -> str:
    """The message the fast engine would give, picked from pySHACL's: pySHACL reports
    every message of the shape and of the constraint, filled; both engines show one,
    chosen by the same rule (see ``_messages``)."""
    templates = (
        [m for m in shapes.objects(constraint, SH.message) if isinstance(m, rdflib.Literal)]
        if constraint is not None
        else []
    )
    templates = templates or [
        m for m in shapes.objects(shape, SH.message) if isinstance(m, rdflib.Literal)
    ]
    if not templates:
        if component == SH.SPARQLConstraintComponent and given:
            return sorted(given)[0]  # the query's own ?message
        return default_message(shapes, shape, component, value)
    wanted = _template(choose(templates))
    matching = sorted(m for m in given if wanted.fullmatch(m))
    return matching[0] if matching else choose(templates)


def _iri(node: rdflib.term.Node | None) -> str | None:
    """A shape's IRI; None for a blank node, which has no lasting name."""
    return str(node) if isinstance(node, rdflib.URIRef) else None


def pyshacl_results(
    data: rdflib.Graph, shapes: rdflib.Graph, all_shapes: rdflib.Graph, *, advanced: bool
) -> list[CheckResult]:
    # Imported here: the fast engine seldom hands a shape to pySHACL (0.1 s a check).
    from pyshacl import validate

    _parse_each_query_once()
    try:
        _, report, _ = validate(
            data, shacl_graph=shapes, inference="none", abort_on_first=False, advanced=advanced
        )
    except Exception as exc:  # pySHACL rejects a shape with its own error types
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise ShapeError(
            f"pySHACL cannot run the shapes: {message}",
            hint="fix the shape it names (see the SHACL specification), or run --engine fast",
        ) from exc
    if not isinstance(report, rdflib.Graph):  # pySHACL's ValidationFailure
        raise ShapeError(
            f"pySHACL cannot run the shapes: {getattr(report, 'message', report)}",
            hint="fix the shape it names (see the SHACL specification)",
        )
    results = []
    # Only the report's own results: those inside sh:detail explain a result of
    # sh:node and the like, and are not results of their own.
    top = report.value(predicate=RDF.type, object=SH.ValidationReport)
    for node in report.objects(top, SH.result):
        shape = report.value(node, SH.sourceShape)
        rule = all_shapes.value(shape, JFS.ruleId)
        owner = shape
        if rule is None:  # a property shape: the rule id sits on its node shape
            parent = all_shapes.value(None, SH.property, shape)
            rule = all_shapes.value(parent, JFS.ruleId) if parent is not None else None
            owner = parent if parent is not None else shape
        value = report.value(node, SH.value)
        path = report.value(node, SH.resultPath)
        component = report.value(node, SH.sourceConstraintComponent)
        given = [str(m) for m in report.objects(node, SH.resultMessage)]
        results.append(
            CheckResult(
                rule=str(rule) if rule is not None else str(owner),
                focus=lexical(report.value(node, SH.focusNode)),
                severity=SEVERITIES.get(
                    rdflib.URIRef(str(report.value(node, SH.resultSeverity))), "violation"
                ),
                message=_message(
                    all_shapes,
                    shape if shape is not None else rdflib.BNode(),
                    report.value(node, SH.sourceConstraint),
                    component if component is not None else SH.ConstraintComponent,
                    lexical(value) if value is not None else None,
                    given,
                ),
                value=lexical(value) if value is not None else None,
                path=str(path) if isinstance(path, rdflib.URIRef) else None,
                shape=_iri(owner),
                value_is_iri=isinstance(value, rdflib.URIRef),
                source_shape=_iri(shape),
                component=str(component) if component is not None else None,
            )
        )
    return _sorted(results)
