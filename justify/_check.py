"""The check engines: SHACL shapes run over a copy of the graph.

Two engines give the same results. ``pyshacl`` is the reference: the graph is
converted to rdflib, pySHACL applies the SHACL rules (the derivations) in their
``sh:order`` and validates. ``fast`` runs each SPARQL rule once as a CONSTRUCT,
in order, adding what it derives to the graph ``graph/derived`` of the copy, then
runs each SPARQL constraint once as a query for every focus node at the same time
(instead of once per focus node); shapes with core constraints go through
pySHACL, on the triples of their focus nodes only when their paths allow it.

Both engines work on a :class:`MemoryStore` that holds the graphs a judgement reads,
so neither ever writes to the user's store; :mod:`justify.judgement` turns their
results into the judgement and records it.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph
import rdflib
from pyshacl import validate
from rdflib.namespace import RDF, RDFS, SH

from justify._query import refuse_service, run_query
from justify.errors import QueryError, ShapeError, UsageError
from justify.rdfconv import to_rdflib_graph
from justify.resources import shapes_folder
from justify.store import GraphStore

JFS = rdflib.Namespace("https://w3id.org/justify/shapes#")
SEVERITIES = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}
_MESSAGE_VAR = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


@dataclass(frozen=True)
class CheckResult:
    """One failed rule for one focus node: a SHACL validation result."""

    rule: str
    focus: str
    severity: str
    message: str
    value: str | None = None
    path: str | None = None
    shape: str | None = None
    value_is_iri: bool = False


@dataclass(frozen=True)
class RuleInfo:
    """What a rule is, from its shape: for reports that describe their rules (SARIF)."""

    id: str
    label: str
    description: str
    severity: str


def rule_infos(shapes: rdflib.Graph) -> dict[str, RuleInfo]:
    infos = {}
    for shape, rule in shapes.subject_objects(JFS.ruleId):
        infos[str(rule)] = RuleInfo(
            id=str(rule),
            label=str(shapes.value(shape, RDFS.label) or rule),
            description=str(shapes.value(shape, RDFS.comment) or ""),
            severity=_severity(shapes, shape),
        )
    return dict(sorted(infos.items()))


def _severity(shapes: rdflib.Graph, shape: rdflib.term.Node) -> str:
    severity = shapes.value(shape, SH.severity)
    return (
        SEVERITIES.get(severity, "violation")
        if isinstance(severity, rdflib.URIRef)
        else ("violation")
    )


@dataclass(frozen=True)
class SparqlRule:
    """A SPARQL-based constraint of one shape, ready to run on the store."""

    rule: str
    shape: str
    severity: str
    message: str
    query: str


def load_shapes(extra_folders: Iterable[Path] = ()) -> rdflib.Graph:
    """The built-in shapes and the project's own; a malformed file names its line."""
    graph = rdflib.Graph()
    for folder in [shapes_folder(), *extra_folders]:
        if not folder.is_dir():
            raise UsageError(f"{folder}: no such shape folder", hint="fix the 'shapes' setting")
        for path in sorted(folder.glob("*.ttl")):
            try:  # pyoxigraph first: its errors name the line and column
                list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))
            except SyntaxError as exc:
                line = exc.lineno or 1
                raise ShapeError(
                    f"{path}:{line}: not valid Turtle: {exc.msg}",
                    hint="fix the shape file at that line; no shapes run until then",
                ) from exc
            except OSError as exc:
                raise ShapeError(f"{path}: cannot read the shape file: {exc}") from exc
            graph.parse(path, format="turtle")
    for predicate in (SH.select, SH.construct, SH.ask):
        for node, text in graph.subject_objects(predicate):
            _no_service(str(text), graph.value(None, SH.sparql, node) or node)
    return graph


def configure_rules(
    shapes: rdflib.Graph, *, disabled: Iterable[str] = (), severities: dict[str, str] | None = None
) -> None:
    """Switch rules off and change their severity, in the shapes themselves, so that
    both engines see the same shapes."""
    by_rule = {str(rule): shape for shape, rule in shapes.subject_objects(JFS.ruleId)}
    levels = {v: k for k, v in SEVERITIES.items()}
    for rule in [*disabled, *(severities or {})]:
        if rule not in by_rule and rule != "JF-PARENT":
            raise UsageError(
                f"unknown rule id {rule!r} in the configuration",
                hint="rules: " + ", ".join(sorted([*by_rule, "JF-PARENT"])),
            )
    for rule, level in (severities or {}).items():
        if level not in levels:
            raise UsageError(
                f"unknown severity {level!r} for {rule}", hint="use violation, warning or info"
            )
        if rule in by_rule:
            shapes.set((by_rule[rule], SH.severity, levels[level]))
    for rule in disabled:
        if rule in by_rule:
            shapes.add((by_rule[rule], SH.deactivated, rdflib.Literal(True)))


def _prefixes(shapes: rdflib.Graph, constraint: rdflib.term.Node) -> str:
    lines = []
    for declarer in shapes.objects(constraint, SH.prefixes):
        for decl in shapes.objects(declarer, SH.declare):
            prefix = shapes.value(decl, SH.prefix)
            namespace = shapes.value(decl, SH.namespace)
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(lines)


def _target_pattern(shapes: rdflib.Graph, shape: rdflib.term.Node) -> str | None:
    if (cls := shapes.value(shape, SH.targetClass)) is not None:
        return f"$this a <{cls}> ."
    if (prop := shapes.value(shape, SH.targetSubjectsOf)) is not None:
        return f"$this <{prop}> ?justifyTargetObject ."
    return None


def _with_target(query: str, target: str, shape: rdflib.term.Node) -> str:
    match = _WHERE.search(query)
    if match is None:
        raise ShapeError(f"shape {shape}: its SPARQL query has no WHERE block")
    return query[: match.end()] + " " + target + " " + query[match.end() :]


def _order(shapes: rdflib.Graph, node: rdflib.term.Node) -> float:
    value = shapes.value(node, SH.order)
    try:
        return float(str(value)) if value is not None else 0.0
    except ValueError:
        return 0.0


def _no_service(text: str, shape: rdflib.term.Node) -> str:
    """Shapes never reach the network: a SERVICE pattern is refused before anything runs."""
    try:
        refuse_service(text, f"the shape {shape}")
    except QueryError as exc:
        raise ShapeError(exc.message, hint="remove the SERVICE pattern from the shape") from exc
    return text


def derivation_rules(shapes: rdflib.Graph) -> list[str]:
    """The CONSTRUCT queries of the shapes' SPARQL rules (SHACL-AF), with their
    targets, in the order SHACL applies them: by the shape's ``sh:order``, then the
    rule's."""
    ordered = []
    for shape, rule in shapes.subject_objects(SH.rule):
        if shapes.value(shape, SH.deactivated) == rdflib.Literal(True):
            continue
        construct = shapes.value(rule, SH.construct)
        target = _target_pattern(shapes, shape)
        if construct is None or target is None:
            raise ShapeError(
                f"shape {shape}: only SPARQL rules (sh:construct) on a class or "
                "subjects-of target are supported"
            )
        query = (
            _prefixes(shapes, rule)
            + "\n"
            + _with_target(_no_service(str(construct), shape), target, shape)
        )
        ordered.append(((_order(shapes, shape), str(shape), _order(shapes, rule)), query))
    return [query for _, query in sorted(ordered)]


def derive(workspace: GraphStore, shapes: rdflib.Graph, graph: pyoxigraph.NamedNode) -> None:
    """Apply the shapes' rules in order, each adding what it derives to ``graph`` so
    that the next one reads it."""
    with workspace.write() as writer:
        writer.drop_graph(graph)
        for query in derivation_rules(shapes):
            writer.add(graph, workspace.query(query).triples)


def sparql_rules(shapes: rdflib.Graph) -> tuple[list[SparqlRule], set[rdflib.term.Node]]:
    """The SPARQL constraints the fast engine runs itself, and the shapes it cannot."""
    rules, others = [], set()
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)):
        if shapes.value(shape, SH.deactivated) == rdflib.Literal(True):
            continue  # switched off in the configuration (pySHACL honours it too)
        constraints = list(shapes.objects(shape, SH.sparql))
        target = _target_pattern(shapes, shape)
        core = _is_core(shapes, shape)
        if not constraints and not core and shapes.value(shape, SH.rule) is not None:
            continue  # a rule-only shape: derive() runs it
        if not constraints or target is None or core:
            others.add(shape)
            continue
        rule = str(shapes.value(shape, JFS.ruleId) or shape)
        for constraint in constraints:
            select = _no_service(str(shapes.value(constraint, SH.select)), shape)
            query = _prefixes(shapes, constraint) + "\n" + _with_target(select, target, shape)
            rules.append(
                SparqlRule(
                    rule=rule,
                    shape=str(shape),
                    severity=_severity(shapes, shape),  # SHACL: severity belongs to the shape
                    message=str(shapes.value(constraint, SH.message) or rule),
                    query=query,
                )
            )
    return rules, others


_CORE = (SH.property, SH.minCount, SH.datatype, SH["in"], SH["class"], SH.node, SH.path)


def _is_core(shapes: rdflib.Graph, shape: rdflib.term.Node) -> bool:
    return any(shapes.value(shape, p) is not None for p in _CORE)


def _fill(message: str, row: dict[str, str | None]) -> str:
    return _MESSAGE_VAR.sub(lambda m: row.get(m.group(1)) or "", message)


def run_fast(
    workspace: GraphStore, shapes: rdflib.Graph, derived: pyoxigraph.NamedNode
) -> list[CheckResult]:
    derive(workspace, shapes, derived)
    rules, others = sparql_rules(shapes)
    # Oxigraph releases the GIL while it evaluates: the rule queries run side by
    # side, and beside pySHACL's core shapes.
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        core = pool.submit(_run_core, workspace, shapes, others) if others else None
        answers = pool.map(lambda rule: run_query(workspace, rule.query), rules)
        results = []
        for rule, answer in zip(rules, answers, strict=True):
            for row, terms in zip(answer.values(), answer.rows, strict=True):
                term = dict(zip(answer.variables, terms, strict=True))
                # SHACL: without a ?value binding, the value is the focus node.
                value_term = term.get("value") or term.get("this")
                results.append(
                    CheckResult(
                        rule.rule,
                        row["this"] or "",
                        rule.severity,
                        _fill(rule.message, row),
                        row.get("value") or row["this"],
                        row.get("path"),
                        rule.shape,
                        isinstance(value_term, pyoxigraph.NamedNode),
                    )
                )
        if core is not None:
            results.extend(core.result())
    return _sorted(results)


def _run_core(
    store: GraphStore, shapes: rdflib.Graph, others: set[rdflib.term.Node]
) -> list[CheckResult]:
    """The shapes the fast engine cannot run as one query, through pySHACL."""
    subset = rdflib.Graph()
    for triple in shapes:
        subset.add(triple)
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)) - others:
        # Without type, targets and constraints, pySHACL skips the shapes run as queries.
        for p in (
            RDF.type,
            SH.sparql,
            SH.rule,
            SH.targetClass,
            SH.targetSubjectsOf,
            SH.targetNode,
            SH.targetObjectsOf,
        ):
            subset.remove((shape, p, None))
    focus = _focus_data(store, shapes, others)
    data = to_rdflib_graph(store.quads()) if focus is None else focus
    return _pyshacl_results(data, subset, shapes, advanced=False)


def _focus_data(
    store: GraphStore, shapes: rdflib.Graph, core: set[rdflib.term.Node]
) -> rdflib.Graph | None:
    """The triples that shapes with only local constraints can see: their focus
    nodes' own triples and the types of the nodes those point to. None when a
    shape looks further (nested shapes, paths other than a predicate, logical
    constraints), and then pySHACL gets the whole union graph."""
    local = {
        SH.path, SH.minCount, SH.maxCount, SH.datatype, SH.pattern, SH.flags, SH["in"],
        SH["class"], SH.nodeKind, SH.minLength, SH.maxLength, SH.hasValue, SH.minInclusive,
        SH.maxInclusive, SH.minExclusive, SH.maxExclusive, SH.languageIn, SH.uniqueLang,
        SH.message, SH.name, SH.description, SH.severity, SH.deactivated, SH.order,
        SH.group, SH.defaultValue,
    }  # fmt: skip
    patterns = []
    for shape in core:
        target = _target_pattern(shapes, shape)
        if target is None or any(
            (shape, p, None) in shapes for p in (SH.targetNode, SH.targetObjectsOf)
        ):
            return None
        props = list(shapes.objects(shape, SH.property))
        for node in [shape, *props]:
            for p, o in shapes.predicate_objects(node):
                if node != shape and p not in local:
                    return None
                if p == SH.path and not isinstance(o, rdflib.URIRef):
                    return None
                if node == shape and p in (SH["not"], SH["and"], SH["or"], SH.xone, SH.node):
                    return None
        patterns.append("{ " + target.replace("$this", "?s") + " }")
    query = (
        "CONSTRUCT { ?s ?p ?o . ?o a ?type } WHERE { { "
        + " UNION ".join(patterns)
        + " } ?s ?p ?o . OPTIONAL { ?o a ?type } }"
    )
    return to_rdflib_graph(store.query(query).triples)


def _sorted(results: Iterable[CheckResult]) -> list[CheckResult]:
    return sorted(
        set(results), key=lambda r: (r.rule, r.focus, r.severity, r.value or "", r.message)
    )


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
