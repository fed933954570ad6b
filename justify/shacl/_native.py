"""What the fast engine evaluates itself: targets, SPARQL-based constraints with
SHACL's pre-binding, and the value-level core constraints, on Oxigraph.

One query per shape finds its focus nodes, one per property shape its value nodes,
one per SPARQL constraint every failing focus node at once (or, when the query uses
``$this`` where a join would not bind it as pre-binding does, one per focus node with
Oxigraph's substitution, which is pre-binding)."""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from justify.errors import ShapeError
from justify.rdfconv import from_rdflib, graph_quads
from justify.shacl._messages import choose, default_message, fill
from justify.shacl._model import Shape, SparqlConstraint, is_true, memo
from justify.shacl._shapes import CheckResult, lexical
from justify.shacl._sparql import (
    check_syntax,
    path_text,
    prebind,
    undeclared_prefixes,
    with_focus,
    with_path,
)

Term = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass
class Dataset:
    """The data a check reads (the default graph is the union of ``data``) and the
    graph holding the shapes, which queries reach as ``GRAPH $shapesGraph``."""

    store: ox.Store
    data: list[ox.NamedNode]
    shapes_graph: ox.NamedNode
    # True when the store's named graphs are the data and nothing else (the shapes
    # graph is left out when no query reads it): the union of them is the data.
    union: bool = False

    @functools.cached_property
    def has_subclasses(self) -> bool:
        return bool(self.query(f"ASK {{ ?a <{RDFS.subClassOf}> ?b }}"))

    def run(self, text: str, substitutions: dict[ox.Variable, Term] | None, where: str) -> Any:
        """A shape's query, its answer read at once (Oxigraph's answers must not
        outlive the thread that asked); what Oxigraph refuses is the shape's error."""
        try:
            answer = self.query(text, substitutions)
            if isinstance(answer, ox.QuerySolutions):
                names = [v.value for v in answer.variables]
                return [{name: s[name] for name in names} for s in answer]
            if isinstance(answer, ox.QueryBoolean):
                return bool(answer)
            return list(answer)
        except SyntaxError as exc:
            unknown = undeclared_prefixes(text)
            if unknown:
                raise ShapeError(
                    f"{where}: the query uses the prefix(es) {', '.join(unknown)} that it "
                    "does not declare",
                    hint="declare them with sh:declare on the node that sh:prefixes names "
                    "(SHACL-SPARQL accepts no other prefixes)",
                ) from exc
            raise ShapeError(
                f"{where}: {exc}",
                hint="declare every prefix the query uses with sh:prefixes (SHACL-SPARQL "
                "accepts no other)",
            ) from exc
        except RuntimeError as exc:  # a substitution Oxigraph cannot make
            raise ShapeError(f"{where}: {exc}") from exc

    def query(self, text: str, substitutions: dict[ox.Variable, Term] | None = None) -> Any:
        if self.union:
            # The store's named graphs are exactly the data: one lookup in an index
            # across graphs answers a pattern, where a list of default graphs asks each
            # graph in turn (1.5x the lookups of a check on two graphs, more on more).
            return self.store.query(
                text,
                use_default_graph_as_union=True,
                substitutions=substitutions,  # type: ignore[arg-type]
            )
        defaults: Sequence[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = self.data or [
            ox.DefaultGraph()
        ]
        return self.store.query(
            text,
            default_graph=list(defaults),
            named_graphs=[*self.data, self.shapes_graph],
            substitutions=substitutions,  # type: ignore[arg-type]
        )


SHAPES_GRAPH = ox.NamedNode("urn:justify:shapes")


@contextlib.contextmanager
def dataset_of(store: ox.Store, shapes: rdflib.Graph) -> Iterator[Dataset]:
    """The named graphs of ``store`` as the data, with the shapes beside them in a
    graph of their own for the time of a check, when a query reaches them as
    ``$shapesGraph``."""
    data = [g for g in store.named_graphs() if isinstance(g, ox.NamedNode) and g != SHAPES_GRAPH]
    if not reads_shapes_graph(shapes):
        yield Dataset(store, data, SHAPES_GRAPH, union=bool(data))
        return
    store.extend(memo(shapes, "quads", lambda: graph_quads(shapes, SHAPES_GRAPH)))
    try:
        yield Dataset(store, data, SHAPES_GRAPH)
    finally:
        store.remove_graph(SHAPES_GRAPH)


def query_pool() -> ThreadPoolExecutor:
    """Threads for queries Oxigraph answers side by side (it releases the GIL while
    it evaluates): one per core, at least two."""
    return ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))


_SHAPES_GRAPH_VAR = re.compile(r"[?$]shapesGraph\b")


def reads_shapes_graph(shapes: rdflib.Graph) -> bool:
    """Whether a query of the shapes (constraint, target or rule) names ``$shapesGraph``."""
    return memo(
        shapes,
        "reads shapes graph",
        lambda: any(
            isinstance(o, rdflib.Literal) and _SHAPES_GRAPH_VAR.search(str(o))
            for o in shapes.objects()
        ),
    )


def _term(node: rdflib.term.Node) -> str:
    return str(from_rdflib(node))


_TYPE_CLOSURE = f"<{RDF.type}>/<{RDFS.subClassOf}>*"


def focus_pattern(shape: Shape, dataset: Dataset) -> tuple[str, str]:
    """PREFIX lines and a group pattern that binds ?this to each focus node (once,
    or more often when the shape has several targets: results are sets anyway)."""
    parts, prefixes = [], ""
    literal_or_iri = [n for n in shape.target_nodes if not isinstance(n, rdflib.BNode)]
    if literal_or_iri:
        parts.append("VALUES ?this { " + " ".join(_term(n) for n in literal_or_iri) + " }")
    # Instances of subclasses too, as SHACL says; when the data declares no
    # subclass at all, the type alone says the same and is much faster to join.
    type_of = _TYPE_CLOSURE if dataset.has_subclasses else f"<{RDF.type}>"
    for cls in shape.target_classes:
        parts.append(f"?this {type_of} {_term(cls)} .")
    for p in shape.subjects_of:
        parts.append(f"?this {_term(p)} ?justifyObject .")
    for p in shape.objects_of:
        parts.append(f"?justifySubject {_term(p)} ?this .")
    for target in shape.sparql_targets:
        check_syntax(target.prefixes + target.select, f"the SPARQL target of {shape.label()}")
        prefixes += target.prefixes
        parts.append("{ " + target.select + " }")
    if len(parts) == 1:
        return prefixes, parts[0]
    union = " UNION ".join("{ " + p + " }" for p in parts) or "FILTER (false)"
    return prefixes, "{ " + union + " }"


class Runner:
    """Runs the shapes the fast engine runs itself over one dataset."""

    def __init__(self, dataset: Dataset, shapes: rdflib.Graph, rule_of: dict[str, str]) -> None:
        self.data = dataset
        self.shapes = shapes
        self.rule_of = rule_of
        self.graph_var = {ox.Variable("shapesGraph"): dataset.shapes_graph}

    def focus_nodes(self, shape: Shape) -> list[Term]:
        prefixes, pattern = focus_pattern(shape, self.data)
        where = f"the targets of {shape.label()}"
        answer = self.data.run(
            f"{prefixes}SELECT DISTINCT ?this WHERE {{ {pattern} }}", None, where
        )
        return [s["this"] for s in answer]

    def run(self, shape: Shape) -> Iterator[CheckResult]:
        focus = None
        for constraint in shape.sparql:
            yield from self._sparql(shape, shape, constraint)
        if shape.parameters and shape.is_property_shape:
            focus = self.focus_nodes(shape)
            yield from self._property(shape, shape, focus)
        elif shape.parameters:
            focus = self.focus_nodes(shape)
            for node in focus:
                yield from self._values(shape, shape, node, [node])
        for prop in shape.properties:
            for constraint in prop.sparql:
                yield from self._sparql(shape, prop, constraint)
            if prop.parameters:
                focus = focus if focus is not None else self.focus_nodes(shape)
                yield from self._property(shape, prop, focus)

    # ------------------------------------------------------------- SPARQL-based

    def _sparql(
        self, owner: Shape, shape: Shape, constraint: SparqlConstraint
    ) -> Iterator[CheckResult]:
        where = f"the SPARQL constraint of {shape.label()}"
        text = constraint.select
        if shape.path is not None:
            text = with_path(text, path_text(self.shapes, shape.path))
        batch = check_syntax(constraint.prefixes + text, where)
        current: dict[str, Term] = {
            "currentShape": from_rdflib(shape.node),
            "shapesGraph": self.data.shapes_graph,
        }
        prefixes, pattern = focus_pattern(owner, self.data)
        if batch:
            query, bound = prebind(
                with_focus(constraint.prefixes + prefixes + text, pattern, where), where, current
            )
            runs: list[tuple[str, dict[ox.Variable, Term], Any]] = [(query, bound, None)]
        else:
            runs = []
            for node in self.focus_nodes(owner):
                query, bound = prebind(constraint.prefixes + text, where, {**current, "this": node})
                runs.append((query, bound, node))
        for query, substitutions, node in runs:
            answer = self.data.run(query, substitutions, where)
            for bound in answer:
                yield self._sparql_result(owner, shape, constraint, bound, node)

    def _sparql_result(
        self,
        owner: Shape,
        shape: Shape,
        constraint: SparqlConstraint,
        bound: dict[str, Any],
        node: Any,
    ) -> CheckResult:
        failure = bound.get("failure")
        if isinstance(failure, ox.Literal) and failure.value == "true":
            raise ShapeError(
                f"the SPARQL constraint of {shape.label()} reported a failure (?failure) "
                f"for {bound.get('this') or node}",
                hint="the shape says it cannot validate this data; see the query",
            )
        focus = bound.get("this") or node
        value = bound.get("value") or focus
        path = bound.get("path")
        path_iri = path.value if isinstance(path, ox.NamedNode) else _iri(shape.path)
        texts = {k: lexical(v) for k, v in bound.items() if v is not None}
        if isinstance(bound.get("message"), ox.Literal):
            message = bound["message"].value
        elif constraint.messages or shape.messages:
            message = fill(choose(constraint.messages or shape.messages), texts)
        else:
            message = default_message(
                self.shapes, shape.node, SH.SPARQLConstraintComponent, texts.get("value")
            )
        return self._result(
            owner, shape, focus, value, path_iri, message, SH.SPARQLConstraintComponent
        )

    def _result(
        self,
        owner: Shape,
        shape: Shape,
        focus: Any,
        value: Any,
        path: str | None,
        message: str,
        component: rdflib.URIRef,
    ) -> CheckResult:
        return CheckResult(
            rule=self.rule_of.get(str(owner.node), str(owner.node)),
            focus=lexical(focus),
            severity=shape.severity,
            message=message,
            value=lexical(value) if value is not None else None,
            path=path,
            shape=str(owner.node) if isinstance(owner.node, rdflib.URIRef) else None,
            value_is_iri=isinstance(value, ox.NamedNode),
            source_shape=_shape_id(shape.node),
            component=str(component),
        )

    # ------------------------------------------------------------- core

    def _property(self, owner: Shape, prop: Shape, focus: list[Any]) -> Iterator[CheckResult]:
        assert prop.path is not None
        prefixes, pattern = focus_pattern(owner, self.data)
        path = path_text(self.shapes, prop.path)
        answer = self.data.run(
            f"{prefixes}SELECT ?this ?value WHERE {{ {pattern} ?this {path} ?value }}",
            None,
            f"the path of {prop.label()}",
        )
        values: dict[object, list[Any]] = {node: [] for node in focus}
        for s in answer:
            values.setdefault(s["this"], []).append(s["value"])
        classes = {
            cls: self._instances(prefixes, pattern, path, cls)
            for cls in prop.parameters.get(SH["class"], [])
        }
        for node, found in values.items():
            yield from self._values(owner, prop, node, found, classes)

    def _instances(self, prefixes: str, pattern: str, path: str, cls: rdflib.term.Node) -> set[Any]:
        answer = self.data.run(
            f"{prefixes}SELECT DISTINCT ?value WHERE {{ {pattern} ?this {path} ?value . "
            f"?value {_TYPE_CLOSURE} {_term(cls)} }}",
            None,
            "sh:class",
        )
        return {s["value"] for s in answer}

    def _values(
        self,
        owner: Shape,
        shape: Shape,
        focus: Any,
        values: list[Any],
        classes: dict[rdflib.term.Node, set[Any]] | None = None,
    ) -> Iterator[CheckResult]:
        params = shape.parameters
        path = _iri(shape.path)
        messages = shape.messages

        def result(component: rdflib.URIRef, value: Any) -> CheckResult:
            texts = {"this": lexical(focus), "value": lexical(value) if value is not None else ""}
            if path:
                texts["path"] = path
            message = (
                fill(choose(messages), texts)
                if messages
                else default_message(self.shapes, shape.node, component, texts["value"])
            )
            return self._result(owner, shape, focus, value, path, message, component)

        unique = list(dict.fromkeys(values))
        if shape.path is not None:
            for n in params.get(SH.minCount, []):
                if len(unique) < int(str(n)):
                    yield result(SH.MinCountConstraintComponent, None)
            for n in params.get(SH.maxCount, []):
                if len(unique) > int(str(n)):
                    yield result(SH.MaxCountConstraintComponent, None)
            if any(is_true(v) for v in params.get(SH.uniqueLang, [])):
                languages: dict[str, int] = {}
                for v in unique:
                    if isinstance(v, ox.Literal) and v.language:
                        languages[v.language.lower()] = languages.get(v.language.lower(), 0) + 1
                # One result per language that two values share.
                yield from (
                    result(SH.UniqueLangConstraintComponent, None)
                    for count in languages.values()
                    if count > 1
                )
        for expected in params.get(SH.hasValue, []):
            if from_rdflib(expected) not in unique:
                yield result(SH.HasValueConstraintComponent, None)
        checks = _value_checks(self.shapes, params)
        for value in unique:
            for component, ok in checks:
                if not ok(value):
                    yield result(component, value)
            for cls, members in (classes or {}).items():
                if value not in members and not (
                    shape.path is None and self._is_instance(value, cls)
                ):
                    yield result(SH.ClassConstraintComponent, value)
        if shape.path is None:
            for cls in params.get(SH["class"], []):
                for value in unique:
                    if not self._is_instance(value, cls):
                        yield result(SH.ClassConstraintComponent, value)

    def _is_instance(self, value: Any, cls: rdflib.term.Node) -> bool:
        if isinstance(value, ox.Literal):
            return False
        if isinstance(value, ox.BlankNode):
            return bool(
                self.data.store.query(
                    f"ASK {{ ?v {_TYPE_CLOSURE} {_term(cls)} }}",
                    default_graph=list(self.data.data) or None,
                    substitutions={ox.Variable("v"): value},
                )
            )
        return bool(
            self.data.run(f"ASK {{ {value} {_TYPE_CLOSURE} {_term(cls)} }}", None, "sh:class")
        )


def _iri(node: rdflib.term.Node | None) -> str | None:
    return str(node) if isinstance(node, rdflib.URIRef) else None


def _shape_id(node: rdflib.term.Node) -> str | None:
    # A blank-node shape has no name that outlives one parse of the shapes.
    return str(node) if isinstance(node, rdflib.URIRef) else None


# ----------------------------------------------------------------- value checks

_NODE_KINDS: dict[rdflib.URIRef, tuple[type, ...]] = {
    SH.IRI: (ox.NamedNode,),
    SH.BlankNode: (ox.BlankNode,),
    SH.Literal: (ox.Literal,),
    SH.BlankNodeOrIRI: (ox.BlankNode, ox.NamedNode),
    SH.BlankNodeOrLiteral: (ox.BlankNode, ox.Literal),
    SH.IRIOrLiteral: (ox.NamedNode, ox.Literal),
}

_INTEGER = r"[+-]?[0-9]+"
_LEXICAL = {
    XSD.integer: _INTEGER, XSD.int: _INTEGER, XSD.long: _INTEGER, XSD.short: _INTEGER,
    XSD.byte: _INTEGER, XSD.nonNegativeInteger: r"\+?[0-9]+|-0+",
    XSD.positiveInteger: r"\+?0*[1-9][0-9]*", XSD.negativeInteger: r"-0*[1-9][0-9]*",
    XSD.nonPositiveInteger: r"-[0-9]+|\+?0+",
    XSD.decimal: r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)",
    XSD.double: r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN",
    XSD.float: r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN",
    XSD.boolean: r"true|false|1|0",
    XSD.date: r"-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(Z|[+-][0-9]{2}:[0-9]{2})?",
    XSD.dateTime: r"-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-4]):"
    r"[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?",
}  # fmt: skip


def _well_formed(literal: ox.Literal) -> bool:
    pattern = _LEXICAL.get(rdflib.URIRef(literal.datatype.value))
    return pattern is None or re.fullmatch(pattern, literal.value) is not None


def _flags(params: dict[rdflib.term.Node, list[rdflib.term.Node]]) -> int:
    flags = 0
    for text in map(str, params.get(SH.flags, [])):
        for char, flag in (("i", re.I), ("s", re.S), ("m", re.M), ("x", re.X)):
            if char in text:
                flags |= flag
    return flags


def _text(value: Any) -> str | None:
    if isinstance(value, ox.BlankNode):
        return None
    return str(getattr(value, "value", value))


def _has_datatype(datatype: str, v: Any) -> bool:
    return isinstance(v, ox.Literal) and v.datatype.value == datatype and _well_formed(v)


def _of_kind(kinds: tuple[type, ...], v: Any) -> bool:
    return isinstance(v, kinds)


def _member(members: set[Term], v: Any) -> bool:
    return v in members


def _matches(regex: re.Pattern[str], v: Any) -> bool:
    text = _text(v)
    return text is not None and regex.search(text) is not None


def _length_at_least(n: int, v: Any) -> bool:
    text = _text(v)
    return text is not None and len(text) >= n


def _length_at_most(n: int, v: Any) -> bool:
    text = _text(v)
    return text is not None and len(text) <= n


def _in_languages(ranges: list[str], v: Any) -> bool:
    return isinstance(v, ox.Literal) and any(_lang_matches(v.language or "", r) for r in ranges)


def _value_checks(
    shapes: rdflib.Graph, params: dict[rdflib.term.Node, list[rdflib.term.Node]]
) -> list[tuple[rdflib.URIRef, Callable[[Any], bool]]]:
    """The value-level constraints of a shape, each a test of one value node."""
    checks: list[tuple[rdflib.URIRef, Callable[[Any], bool]]] = []
    for dt in params.get(SH.datatype, []):
        checks.append((SH.DatatypeConstraintComponent, functools.partial(_has_datatype, str(dt))))
    for kind in params.get(SH.nodeKind, []):
        kinds = _NODE_KINDS.get(rdflib.URIRef(str(kind)), ())
        checks.append((SH.NodeKindConstraintComponent, functools.partial(_of_kind, kinds)))
    for head in params.get(SH["in"], []):
        members = {from_rdflib(m) for m in Collection(shapes, head)}
        checks.append((SH.InConstraintComponent, functools.partial(_member, members)))
    for pattern in params.get(SH.pattern, []):
        regex = re.compile(str(pattern), _flags(params))
        checks.append((SH.PatternConstraintComponent, functools.partial(_matches, regex)))
    for n in params.get(SH.minLength, []):
        checks.append(
            (SH.MinLengthConstraintComponent, functools.partial(_length_at_least, int(str(n))))
        )
    for n in params.get(SH.maxLength, []):
        checks.append(
            (SH.MaxLengthConstraintComponent, functools.partial(_length_at_most, int(str(n))))
        )
    for head in params.get(SH.languageIn, []):
        ranges = [str(m).lower() for m in Collection(shapes, head)]
        checks.append((SH.LanguageInConstraintComponent, functools.partial(_in_languages, ranges)))
    return checks


def _lang_matches(tag: str, wanted: str) -> bool:
    tag = tag.lower()
    return wanted == "*" or tag == wanted or tag.startswith(wanted + "-")
