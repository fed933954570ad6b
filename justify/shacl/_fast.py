"""The fast engine: each SPARQL rule once as a CONSTRUCT, each SPARQL constraint once
for all its focus nodes; core constraints through pySHACL on the focus nodes' triples."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyoxigraph
import rdflib
from rdflib.namespace import RDF, SH

from justify._query import run_query
from justify.errors import ShapeError
from justify.rdfconv import to_rdflib_graph
from justify.shacl._reference import _pyshacl_results
from justify.shacl._shapes import JFS, CheckResult, _no_service, _severity, _sorted
from justify.store import GraphStore

_MESSAGE_VAR = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


@dataclass(frozen=True)
class SparqlRule:
    """A SPARQL-based constraint of one shape, ready to run on the store."""

    rule: str
    shape: str
    severity: str
    message: str
    query: str


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
