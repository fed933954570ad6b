"""The shapes graph read as SHACL defines it: which nodes are shapes, their targets,
their constraints, and which of them the fast engine runs itself.

Nothing here looks at data. Both engines read the same model, so that what the fast
engine runs and what it hands to pySHACL is decided in one place."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import rdflib
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD

from justify.errors import ShapeError
from justify.shacl._shapes import JFS, _severity

TARGET_PREDICATES = (SH.targetNode, SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf)

# Constraint parameters the fast engine evaluates itself, on a node shape's focus
# node or on a property shape's value nodes.
NATIVE_VALUE_PARAMETERS = frozenset(
    {
        SH["class"], SH.datatype, SH.nodeKind, SH["in"], SH.hasValue, SH.pattern, SH.flags,
        SH.minLength, SH.maxLength, SH.languageIn,
    }
)  # fmt: skip
NATIVE_PROPERTY_PARAMETERS = NATIVE_VALUE_PARAMETERS | {SH.minCount, SH.maxCount, SH.uniqueLang}

# What a shape may carry that validates nothing by itself.
_DESCRIPTIVE = frozenset(
    {
        RDF.type, SH.path, SH.severity, SH.message, SH.deactivated, SH.name, SH.description,
        SH.order, SH.group, SH.defaultValue, SH.rule, SH.target, SH.sparql, SH.property,
        *TARGET_PREDICATES, RDFS.label, RDFS.comment, JFS.ruleId,
    }
)  # fmt: skip

# Parameters that point at other shapes: a shape they name is evaluated inside
# another shape's constraint, which pySHACL does.
_SHAPE_REFERENCES = (SH.node, SH["not"], SH.qualifiedValueShape)
_SHAPE_LISTS = (SH["and"], SH["or"], SH.xone)

_SHAPE_TYPES = (SH.NodeShape, SH.PropertyShape)


@dataclass(frozen=True)
class SparqlTarget:
    select: str
    prefixes: str


@dataclass(frozen=True)
class SparqlConstraint:
    """One ``sh:sparql`` constraint of a shape."""

    node: rdflib.term.Node
    select: str
    prefixes: str
    messages: tuple[rdflib.Literal, ...]


@dataclass
class Shape:
    """A shape as SHACL defines it, with what the fast engine needs to run it."""

    node: rdflib.term.Node
    path: rdflib.term.Node | None
    severity: str
    messages: tuple[rdflib.Literal, ...]
    deactivated: bool
    target_nodes: list[rdflib.term.Node] = field(default_factory=list)
    target_classes: list[rdflib.term.Node] = field(default_factory=list)
    subjects_of: list[rdflib.term.Node] = field(default_factory=list)
    objects_of: list[rdflib.term.Node] = field(default_factory=list)
    sparql_targets: list[SparqlTarget] = field(default_factory=list)
    parameters: dict[rdflib.term.Node, list[rdflib.term.Node]] = field(default_factory=dict)
    properties: list[Shape] = field(default_factory=list)
    sparql: list[SparqlConstraint] = field(default_factory=list)
    # Why the fast engine hands this shape to pySHACL; None when it runs it itself.
    delegated: str | None = None

    @property
    def is_property_shape(self) -> bool:
        return self.path is not None

    @property
    def has_targets(self) -> bool:
        return bool(
            self.target_nodes
            or self.target_classes
            or self.subjects_of
            or self.objects_of
            or self.sparql_targets
        )

    def label(self) -> str:
        return f"<{self.node}>" if isinstance(self.node, rdflib.URIRef) else "a blank-node shape"


def prefixes(shapes: rdflib.Graph, owner: rdflib.term.Node) -> str:
    """The PREFIX lines of what ``owner`` declares through ``sh:prefixes``: only
    those, as SHACL-SPARQL says (a prefix nobody declared is a syntax error)."""
    lines: dict[str, str] = {}
    declarers, seen = list(shapes.objects(owner, SH.prefixes)), set()
    while declarers:  # with what they owl:import, as SHACL-SPARQL says
        declarer = declarers.pop()
        if declarer in seen:
            continue
        seen.add(declarer)
        declarers.extend(shapes.objects(declarer, OWL.imports))
        for decl in shapes.objects(declarer, SH.declare):
            prefix = shapes.value(decl, SH.prefix)
            namespace = shapes.value(decl, SH.namespace)
            if prefix is None or namespace is None:
                raise ShapeError(
                    f"{_name(declarer)}: a sh:declare without sh:prefix or sh:namespace",
                    hint="give every declaration both a prefix and a namespace",
                )
            previous = lines.get(str(prefix))
            if previous is not None and previous != str(namespace):
                raise ShapeError(
                    f"{_name(owner)}: the prefix {prefix!s}: is declared twice, as "
                    f"<{previous}> and <{namespace}>",
                    hint="declare each prefix once",
                )
            lines[str(prefix)] = str(namespace)
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(lines.items()))


def _name(node: rdflib.term.Node) -> str:
    return f"<{node}>" if isinstance(node, rdflib.URIRef) else "a blank node"


def is_true(value: rdflib.term.Node | None) -> bool:
    """Only ``true`` (SHACL names no other spelling: "1"^^xsd:boolean is not it)."""
    return (
        isinstance(value, rdflib.Literal) and value.datatype == XSD.boolean and str(value) == "true"
    )


def _true(shapes: rdflib.Graph, node: rdflib.term.Node, predicate: rdflib.URIRef) -> bool:
    return is_true(shapes.value(node, predicate))


def shape_nodes(shapes: rdflib.Graph) -> set[rdflib.term.Node]:
    """Every node SHACL calls a shape: typed ones, those with targets, and those
    other shapes point at."""
    found: set[rdflib.term.Node] = set()
    for kind in _SHAPE_TYPES:
        found.update(shapes.subjects(RDF.type, kind))
    for predicate in (*TARGET_PREDICATES, SH.target):
        found.update(shapes.subjects(predicate, None))
    for predicate in (*_SHAPE_REFERENCES, SH.property):
        found.update(shapes.objects(None, predicate))
    for predicate in _SHAPE_LISTS:
        for head in shapes.objects(None, predicate):
            found.update(Collection(shapes, head))
    return found


def _referenced(shapes: rdflib.Graph) -> set[rdflib.term.Node]:
    """Shapes that other shapes' constraints evaluate (not property shapes of their owner)."""
    found: set[rdflib.term.Node] = set()
    for predicate in _SHAPE_REFERENCES:
        found.update(shapes.objects(None, predicate))
    for predicate in _SHAPE_LISTS:
        for head in shapes.objects(None, predicate):
            found.update(Collection(shapes, head))
    return found


def _component_parameters(shapes: rdflib.Graph) -> set[rdflib.term.Node]:
    """The parameters of constraint components the shapes graph declares itself."""
    # Any sh:parameter counts: components may be typed with subclasses of
    # sh:ConstraintComponent, and a parameter is a parameter wherever it is declared.
    return {
        path
        for parameter in shapes.objects(None, SH.parameter)
        if (path := shapes.value(parameter, SH.path)) is not None
    }


def read_shape(
    shapes: rdflib.Graph, node: rdflib.term.Node, custom: set[rdflib.term.Node]
) -> Shape:
    shape = Shape(
        node=node,
        path=shapes.value(node, SH.path),
        severity=_severity(shapes, node),
        messages=tuple(
            m for m in shapes.objects(node, SH.message) if isinstance(m, rdflib.Literal)
        ),
        deactivated=_true(shapes, node, SH.deactivated),
    )
    shape.target_nodes = sorted(shapes.objects(node, SH.targetNode), key=str)
    shape.target_classes = sorted(shapes.objects(node, SH.targetClass), key=str)
    if (node, RDF.type, RDFS.Class) in shapes and any(
        (node, RDF.type, kind) in shapes for kind in _SHAPE_TYPES
    ):
        shape.target_classes.append(node)  # an implicit class target
    shape.subjects_of = sorted(shapes.objects(node, SH.targetSubjectsOf), key=str)
    shape.objects_of = sorted(shapes.objects(node, SH.targetObjectsOf), key=str)
    reasons = []
    for target in shapes.objects(node, SH.target):
        select = shapes.value(target, SH.select)
        if (target, RDF.type, SH.SPARQLTarget) in shapes and select is not None:
            shape.sparql_targets.append(SparqlTarget(str(select), prefixes(shapes, target)))
        else:
            reasons.append("a target other than a SPARQL-based one (sh:target)")
    for predicate, value in shapes.predicate_objects(node):
        if predicate in custom:
            reasons.append(f"the parameter <{predicate}> of a SPARQL-based constraint component")
        elif str(predicate).startswith(str(SH)) and predicate not in _DESCRIPTIVE:
            shape.parameters.setdefault(predicate, []).append(value)
    allowed = NATIVE_PROPERTY_PARAMETERS if shape.is_property_shape else NATIVE_VALUE_PARAMETERS
    reasons += [
        f"sh:{p.removeprefix(str(SH))}"
        for p in map(str, shape.parameters)
        if rdflib.URIRef(p) not in allowed
    ]
    for constraint in shapes.objects(node, SH.sparql):
        if _true(shapes, constraint, SH.deactivated):
            continue
        select = shapes.value(constraint, SH.select)
        if select is None:
            raise ShapeError(
                f"shape {_name(node)}: a SPARQL-based constraint needs one sh:select query",
                hint="give the constraint a SELECT query in sh:select",
            )
        messages = tuple(
            m for m in shapes.objects(constraint, SH.message) if isinstance(m, rdflib.Literal)
        )
        shape.sparql.append(
            SparqlConstraint(constraint, str(select), prefixes(shapes, constraint), messages)
        )
    shape.sparql.sort(key=lambda c: str(c.node))
    shape.delegated = "; ".join(sorted(set(reasons))) or None
    return shape


T = TypeVar("T")

# What was read from shape graphs that will not change again (see ``freeze``).
_FROZEN: weakref.WeakKeyDictionary[rdflib.Graph, dict[str, Any]] = weakref.WeakKeyDictionary()


def freeze(graph: rdflib.Graph) -> rdflib.Graph:
    """Declare that ``graph`` will not change again, so that what ``memo`` reads from it
    is read once (the judgement keeps its configured shapes between calls)."""
    _FROZEN.setdefault(graph, {})
    return graph


def memo(graph: rdflib.Graph, name: str, compute: Callable[[], T]) -> T:
    """``compute()``, kept with ``graph`` when it is frozen; computed each time if not."""
    kept = _FROZEN.get(graph)
    if kept is None:
        return compute()
    if name not in kept:
        kept[name] = compute()
    result: T = kept[name]
    return result


def read_shapes(shapes: rdflib.Graph) -> list[Shape]:
    """The shapes that have focus nodes (through targets), each with its property
    shapes; each marked with why the fast engine cannot run it, if it cannot."""
    return memo(shapes, "read_shapes", lambda: _read_shapes(shapes))


def _read_shapes(shapes: rdflib.Graph) -> list[Shape]:
    custom = _component_parameters(shapes)
    referenced = _referenced(shapes)
    owners: dict[rdflib.term.Node, list[rdflib.term.Node]] = {}
    for owner, prop in shapes.subject_objects(SH.property):
        owners.setdefault(prop, []).append(owner)
    result = []
    for node in sorted(shape_nodes(shapes), key=str):
        shape = read_shape(shapes, node, custom)
        if not shape.has_targets or shape.deactivated:
            continue
        reasons = [shape.delegated] if shape.delegated else []
        if node in referenced:
            reasons.append("other shapes refer to it")
        for prop in sorted(shapes.objects(node, SH.property), key=str):
            child = read_shape(shapes, prop, custom)
            if child.deactivated:
                continue
            if child.path is None:
                raise ShapeError(
                    f"shape {_name(node)}: its sh:property {_name(prop)} has no sh:path",
                    hint="give each property shape exactly one sh:path",
                )
            if child.delegated:
                reasons.append(f"a property shape with {child.delegated}")
            if child.has_targets or prop in referenced or len(owners.get(prop, ())) > 1:
                reasons.append("a property shape that is also used elsewhere")
            if child.sparql_targets or shapes.value(prop, SH.property) is not None:
                reasons.append("nested property shapes")
            shape.properties.append(child)
        shape.delegated = "; ".join(sorted(set(reasons))) or None
        result.append(shape)
    return result
