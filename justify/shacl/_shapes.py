"""Shapes: loading the built-in and user shapes, their rules, severities and results."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import rdflib
from rdflib.namespace import RDFS, SH

from justify._query import refuse_service
from justify.errors import QueryError, ShapeError, UsageError
from justify.rdfconv import parse_file, to_rdflib
from justify.resources import shapes_folder

JFS = rdflib.Namespace("https://w3id.org/justify/shapes#")
SEVERITIES = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}


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
    # The shape that produced the result (a property shape; None when it is a blank
    # node, which has no lasting name) and its SHACL constraint component, as in a
    # SHACL validation report.
    source_shape: str | None = None
    component: str | None = None


def lexical(term: object) -> str:
    """A term of either library as results show it: the IRI, the lexical form of a
    literal, or ``_:id`` for a blank node."""
    if term is None:
        return ""
    if isinstance(term, rdflib.BNode | pyoxigraph.BlankNode):
        return f"_:{term if isinstance(term, rdflib.BNode) else term.value}"
    return (
        str(getattr(term, "value", term))
        if isinstance(term, pyoxigraph.Literal | pyoxigraph.NamedNode)
        else str(term)
    )


@dataclass(frozen=True)
class RuleInfo:
    """What a rule is, from its shape: for reports that describe their rules (SARIF)."""

    id: str
    label: str
    description: str
    severity: str


def rule_infos(shapes: rdflib.Graph, results: Iterable[CheckResult] = ()) -> dict[str, RuleInfo]:
    """The rules (jfs:ruleId) of the shapes, and, for results of shapes without a
    rule id, those shapes: every result names a rule that reports describe."""
    infos = {}
    pairs = list(shapes.subject_objects(JFS.ruleId))
    named = {str(rule) for _, rule in pairs}
    for r in results:
        if r.rule not in named and r.shape is not None:
            pairs.append((rdflib.URIRef(r.shape), rdflib.Literal(r.rule)))
            named.add(r.rule)
    for shape, rule in pairs:
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


def _no_service(text: str, shape: rdflib.term.Node) -> str:
    """Shapes never reach the network: a SERVICE pattern is refused before anything runs."""
    try:
        refuse_service(text, f"the shape {shape}")
    except QueryError as exc:
        raise ShapeError(exc.message, hint="remove the SERVICE pattern from the shape") from exc
    return text


def parse_shape_file(graph: rdflib.Graph, path: Path, fmt: pyoxigraph.RdfFormat) -> None:
    """Add a shape file to ``graph``; a malformed file names its line."""
    # pyoxigraph parses: its errors name the line and column, and it keeps lexical forms.
    hint = "fix the shape file at that line; no shapes run until then"
    for q in parse_file(path, fmt, error=ShapeError, hint=hint):
        graph.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    for prefix, namespace in _declared_prefixes(path):
        graph.bind(prefix, namespace, override=False)


def _declared_prefixes(path: Path) -> list[tuple[str, str]]:
    """The @prefix lines of a Turtle file, so that messages can write names short."""
    found = re.findall(
        r"^\s*@?prefix\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>",
        path.read_text(encoding="utf-8", errors="replace"),
        re.M | re.I,
    )
    return [(p, ns) for p, ns in found]


def load_shapes(extra_folders: Iterable[Path] = ()) -> rdflib.Graph:
    """The built-in shapes and the project's own; a malformed file names its line."""
    graph = rdflib.Graph()
    for folder in [shapes_folder(), *extra_folders]:
        if not folder.is_dir():
            raise UsageError(f"{folder}: no such shape folder", hint="fix the 'shapes' setting")
        for path in sorted(folder.glob("*.ttl")):
            parse_shape_file(graph, path, pyoxigraph.RdfFormat.TURTLE)
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


def _sorted(results: Iterable[CheckResult]) -> list[CheckResult]:
    return sorted(
        set(results), key=lambda r: (r.rule, r.focus, r.severity, r.value or "", r.message)
    )
