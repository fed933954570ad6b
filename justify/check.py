"""Justification checks: SHACL shapes run over the union of all graphs.

Two engines give the same results. ``pyshacl`` is the reference: the union
graph (without the derived graph) is converted to rdflib, pySHACL applies the
SHACL rules (current evidence) and validates. ``fast`` runs each SPARQL rule and
constraint once as a query on the store, for every focus node at the same time
(instead of once per focus node), and writes what the rules derive to the
graph ``graph/derived``; shapes with core constraints go through pySHACL, on the
triples of their focus nodes only when their paths allow it.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph
import rdflib
from pyshacl import validate
from rdflib.namespace import RDF, RDFS, SH

from justify.config import Config, load_config
from justify.errors import ShapeError, UsageError
from justify.iris import Minter
from justify.query import run_query
from justify.rdfconv import to_rdflib_graph
from justify.resources import shapes_folder
from justify.store import GraphStore, open_store

JFS = rdflib.Namespace("https://w3id.org/justify/shapes#")
ENGINES = ("fast", "pyshacl")
FAIL_ON = ("violation", "warning", "never")
SEVERITIES = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}
_MESSAGE_VAR = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


@dataclass(frozen=True)
class CheckResult:
    """One failed rule for one focus node."""

    rule: str
    focus: str
    severity: str
    message: str
    value: str | None = None


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
        severity = shapes.value(shape, SH.severity)
        infos[str(rule)] = RuleInfo(
            id=str(rule),
            label=str(shapes.value(shape, RDFS.label) or rule),
            description=str(shapes.value(shape, RDFS.comment) or ""),
            severity=SEVERITIES.get(severity, "violation")
            if isinstance(severity, rdflib.URIRef)
            else "violation",
        )
    return dict(sorted(infos.items()))


@dataclass(frozen=True)
class RequirementStatus:
    """Where a requirement is written, and the status the check gives it."""

    id: str
    iri: str
    title: str
    kind: str
    status: str
    file: str
    line: int


@dataclass
class CheckReport:
    """All results, and the status each requirement ends up with."""

    results: list[CheckResult]
    requirements: dict[str, RequirementStatus] = field(default_factory=dict)
    engine: str = "fast"
    rules: dict[str, RuleInfo] = field(default_factory=dict)

    @property
    def statuses(self) -> dict[str, str]:
        return {rid: r.status for rid, r in self.requirements.items()}

    @functools.cached_property
    def _by_iri(self) -> dict[str, RequirementStatus]:
        return {req.iri: req for req in self.requirements.values()}

    def requirement_of(self, result: CheckResult) -> RequirementStatus | None:
        """The requirement a result is about (its focus), if it is one."""
        return self._by_iri.get(result.focus)

    def count(self, severity: str) -> int:
        return sum(1 for r in self.results if r.severity == severity)

    def exit_code(self, fail_on: str = "violation") -> int:
        if fail_on == "never":
            return 0
        failing = {"violation"} if fail_on == "violation" else {"violation", "warning"}
        return 1 if any(r.severity in failing for r in self.results) else 0


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


def derivation_rules(shapes: rdflib.Graph) -> list[str]:
    """The CONSTRUCT queries of the shapes' SPARQL rules (SHACL-AF), with their
    targets, ready to run once on the store."""
    queries = []
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
        query = _with_target(str(construct), target, shape)
        queries.append(_prefixes(shapes, rule) + "\n" + query)
    return sorted(queries)


def derive(store: GraphStore, shapes: rdflib.Graph, graph: pyoxigraph.NamedNode) -> int:
    """Run the shapes' rules on the store and replace ``graph`` with what they derive."""
    triples: set[pyoxigraph.Triple] = set()
    for query in derivation_rules(shapes):
        triples.update(store.query(query).triples)
    if triples == {quad.triple for quad in store.quads(graph)}:
        return len(triples)  # unchanged: no new store generation for nothing
    with store.write() as writer:
        return writer.replace_graph(graph, triples)


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
            select = str(shapes.value(constraint, SH.select))
            query = _prefixes(shapes, constraint) + "\n" + _with_target(select, target, shape)
            severity = shapes.value(shape, SH.severity)  # SHACL: severity belongs to the shape
            rules.append(
                SparqlRule(
                    rule=rule,
                    shape=str(shape),
                    severity=SEVERITIES.get(severity, "violation")
                    if isinstance(severity, rdflib.URIRef)
                    else "violation",
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
    store: GraphStore, shapes: rdflib.Graph, derived: pyoxigraph.NamedNode
) -> list[CheckResult]:
    derive(store, shapes, derived)
    rules, others = sparql_rules(shapes)
    # Oxigraph releases the GIL while it evaluates: the rule queries run side by
    # side, and beside pySHACL's core shapes.
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        core = pool.submit(_run_core, store, shapes, others) if others else None
        answers = pool.map(lambda rule: run_query(store, rule.query).values(), rules)
        results = []
        for rule, rows in zip(rules, answers, strict=True):
            for row in rows:
                # SHACL: without a ?value binding, the value is the focus node.
                value = row.get("value") or row["this"]
                results.append(
                    CheckResult(
                        rule.rule, row["this"] or "", rule.severity, _fill(rule.message, row), value
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
    return _pyshacl_results(data, subset, advanced=False)


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
    store: GraphStore, shapes: rdflib.Graph, derived: pyoxigraph.NamedNode
) -> list[CheckResult]:
    """The reference: pySHACL derives (SHACL rules) and validates by itself, on the
    union graph without what the fast engine derived."""
    data = to_rdflib_graph(q for q in store.quads() if q.graph_name != derived)
    return _pyshacl_results(data, shapes, advanced=True)


def _pyshacl_results(
    data: rdflib.Graph, shapes: rdflib.Graph, *, advanced: bool
) -> list[CheckResult]:
    _, report, _ = validate(
        data, shacl_graph=shapes, inference="none", abort_on_first=False, advanced=advanced
    )
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        shape = report.value(node, SH.sourceShape)
        rule = shapes.value(shape, JFS.ruleId)
        if rule is None:  # a property shape: the rule id sits on its node shape
            parent = shapes.value(None, SH.property, shape)
            rule = shapes.value(parent, JFS.ruleId) if parent is not None else None
        value = report.value(node, SH.value)
        results.append(
            CheckResult(
                rule=str(rule or shape),
                focus=str(report.value(node, SH.focusNode)),
                severity=SEVERITIES.get(report.value(node, SH.resultSeverity), "violation"),
                message=str(report.value(node, SH.resultMessage) or ""),
                value=str(value) if value is not None else None,
            )
        )
    return _sorted(results)


def requirement_statuses(
    store: GraphStore, results: list[CheckResult]
) -> dict[str, RequirementStatus]:
    """justified / failing / unjustified / stale / draft / retired, by requirement id."""
    rows = run_query(
        store,
        """SELECT ?r ?id ?title ?kind ?status ?file ?line WHERE {
             ?r a jf:Requirement ; dcterms:identifier ?id ; jf:status ?status .
             OPTIONAL { ?r dcterms:title ?title } OPTIONAL { ?r jf:kind ?kind }
             OPTIONAL { ?r jf:sourceFile ?file } OPTIONAL { ?r jf:sourceLine ?line } }""",
    ).values()
    worst: dict[str, set[str]] = {}
    for r in results:
        worst.setdefault(r.focus, set()).add(r.rule if r.severity == "violation" else "~" + r.rule)
    statuses = {}
    for row in rows:
        rules = worst.get(row["r"] or "", set())
        if row["status"] != "approved":
            status = row["status"] or "draft"
        elif "JF-EVIDENCE" in rules:
            status = "unjustified"
        elif any(not r.startswith("~") for r in rules):
            status = "failing"
        elif "~JF-STALE" in rules:
            status = "stale"
        else:
            status = "justified"
        rid = row["id"] or ""
        statuses[rid] = RequirementStatus(
            id=rid,
            iri=row["r"] or "",
            title=row["title"] or "",
            kind=row["kind"] or "",
            status=status,
            file=row["file"] or "",
            line=int(row["line"] or 1),
        )
    return dict(sorted(statuses.items()))


def check(
    *,
    engine: str = "fast",
    config: Config | None = None,
    store: GraphStore | None = None,
) -> CheckReport:
    """Validate the union of all graphs against the built-in and project shapes."""
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}", hint="use one of: " + ", ".join(ENGINES))
    config = config or load_config()
    store = store or open_store(config)
    shapes = load_shapes(config.path(p) for p in config.shapes)
    bad = [item for item in config.rule_severity if "=" not in item]
    if bad:
        raise UsageError(
            f"rule_severity entry {bad[0]!r} is not RULE=severity",
            hint='for example: rule_severity = ["JF-STALE=violation"]',
        )
    severities = dict(item.split("=", 1) for item in config.rule_severity)
    configure_rules(shapes, disabled=config.disabled_rules, severities=severities)
    derived = Minter(config.base_iri).graph("derived")
    if engine == "fast":
        results = run_fast(store, shapes, derived)
    else:
        results = run_pyshacl(store, shapes, derived)
    if "JF-PARENT" not in config.disabled_rules:
        level = severities.get("JF-PARENT", "violation")
        results = [
            *results,
            *(dataclasses.replace(r, severity=level) for r in parent_results(store, results)),
        ]
    results = _sorted(results)
    return CheckReport(results, requirement_statuses(store, results), engine, rule_infos(shapes))


def parent_results(store: GraphStore, results: list[CheckResult]) -> list[CheckResult]:
    """Rule JF-PARENT, derived from the others (so both engines share it): an approved
    requirement is not justified while an approved sub-requirement fails or has no
    evidence. It climbs: a failing child makes its parent fail, and so on up."""
    rows = run_query(
        store,
        """SELECT ?child ?childId ?parent ?parentId WHERE {
        ?child jf:parent ?parent ; jf:status "approved" ; dcterms:identifier ?childId .
        ?parent jf:status "approved" ; dcterms:identifier ?parentId }""",
    ).values()
    failing = {r.focus for r in results if r.severity == "violation"}
    derived: dict[str, CheckResult] = {}
    changed = True
    while changed:
        changed = False
        for row in rows:
            parent, child = row["parent"] or "", row["child"] or ""
            if child in failing and parent not in derived:
                derived[parent] = CheckResult(
                    "JF-PARENT",
                    parent,
                    "violation",
                    f"{row['parentId']} cannot be justified while its sub-requirement "
                    f"{row['childId']} fails; fix {row['childId']} first",
                    parent,
                )
                if parent not in failing:
                    failing.add(parent)
                    changed = True
    return list(derived.values())
