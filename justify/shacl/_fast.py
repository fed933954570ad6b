"""The fast engine: SHACL-AF SPARQL rules in order, then every shape it can run
itself on Oxigraph (see ``_native``), and every other shape through pySHACL with all
the data, never a narrowed copy."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pyoxigraph as ox
import rdflib
from rdflib.namespace import SH

from justify.errors import ShapeError
from justify.rdfconv import from_rdflib, to_rdflib_graph
from justify.shacl._model import Shape, is_true, memo, prefixes, read_shapes, shape_nodes
from justify.shacl._native import Dataset, Runner, Term, focus_pattern, query_pool
from justify.shacl._reference import pyshacl_results
from justify.shacl._shapes import JFS, CheckResult, _sorted
from justify.shacl._sparql import check_syntax, prebind, with_focus


def _order(shapes: rdflib.Graph, node: rdflib.term.Node) -> float:
    value = shapes.value(node, SH.order)
    try:
        return float(str(value)) if value is not None else 0.0
    except ValueError:
        return 0.0


Order = tuple[float, float]

_BULK_FROM = 2000  # derived quads from which one order's are bulk-loaded


def _rules(shapes: rdflib.Graph) -> list[tuple[Order, Shape, str]]:
    """The shapes' SPARQL rules (SHACL-AF), in the order SHACL applies them: by the
    shape's ``sh:order``, then the rule's; each with that order and its query."""
    return memo(shapes, "rules", lambda: _read_rules(shapes))


def _read_rules(shapes: rdflib.Graph) -> list[tuple[Order, Shape, str]]:
    from justify.shacl._model import read_shape

    ordered = []
    for node in shape_nodes(shapes) | set(shapes.subjects(SH.rule, None)):
        rules = list(shapes.objects(node, SH.rule))
        if not rules:
            continue
        shape = read_shape(shapes, node, set())
        if shape.deactivated:
            continue
        for rule in rules:
            if is_true(shapes.value(rule, SH.deactivated)):
                continue
            construct = shapes.value(rule, SH.construct)
            if construct is None:
                raise ShapeError(
                    f"{shape.label()}: only SPARQL rules (sh:construct) are supported",
                    hint="write the rule as a sh:SPARQLRule with a CONSTRUCT query",
                )
            key = (_order(shapes, node), str(node), _order(shapes, rule), str(rule))
            ordered.append((key, shape, prefixes(shapes, rule) + str(construct)))
    return [((k[0], k[2]), shape, text) for k, shape, text in sorted(ordered, key=lambda r: r[0])]


def derive(
    dataset: Dataset,
    shapes: rdflib.Graph,
    graph: ox.NamedNode,
    given: list[ox.Triple] | None = None,
) -> list[ox.Triple]:
    """Apply the shapes' rules by order, each adding what it derives to ``graph``;
    return what they derived (once each), as ``graph`` now holds it. ``given``: what
    the rules derived from the same graph before, written as it is, no rule applied.

    Rules of one order (the shape's ``sh:order``, then the rule's) run side by side,
    all reading what the lower orders derived and none what its peers derive:
    SHACL-AF leaves the order among them undefined, and this makes it one answer
    whatever the order (a rule that reads another's output needs a greater order).
    """
    if dataset.store.contains_named_graph(graph):
        dataset.store.remove_graph(graph)
    dataset.store.add_graph(graph)
    if graph not in dataset.data:
        dataset.data.append(graph)
    if given is not None:
        dataset.store.bulk_extend([ox.Quad(t.subject, t.predicate, t.object, graph) for t in given])
        return given
    runner = Runner(dataset, shapes, {})
    derived: dict[ox.Triple, None] = {}
    with query_pool() as pool:
        for _, group in itertools.groupby(_rules(shapes), key=lambda r: r[0]):
            queries = [q for _, shape, text in group for q in _rule_queries(runner, shape, text)]
            # Oxigraph releases the GIL while it evaluates: the queries run side by side,
            # and what they derive is written once all have read.
            found = [t for ts in pool.map(lambda q: list(dataset.run(*q)), queries) for t in ts]
            new = [t for t in dict.fromkeys(found) if t not in derived]
            quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for t in new]
            # A bulk load writes thousands of quads about 1.7x faster than a transaction
            # (on bench_check's graph, 0.1 s of the rules' 1.2 s); a few it writes slower,
            # making files for each index. Nothing reads the store while this runs.
            if len(quads) >= _BULK_FROM:
                dataset.store.bulk_extend(quads)
            else:
                dataset.store.extend(quads)
            derived.update(dict.fromkeys(new))
    return list(derived)


def _rule_queries(
    runner: Runner, shape: Shape, text: str
) -> list[tuple[str, dict[ox.Variable, Term], str]]:
    """A rule's query for all its focus nodes at once, or one per focus node when
    pre-binding ``$this`` needs it."""
    dataset = runner.data
    where = f"the SPARQL rule of {shape.label()}"
    current = {"currentShape": from_rdflib(shape.node), "shapesGraph": dataset.shapes_graph}
    prefix_lines, pattern = focus_pattern(shape, dataset)
    if check_syntax(text, where):
        query, bound = prebind(with_focus(prefix_lines + text, pattern, where), where, current)
        return [(query, bound, where)]
    return [
        (*prebind(text, where, {**current, "this": node}), where)
        for node in runner.focus_nodes(shape)
    ]


def run_fast(
    dataset: Dataset,
    shapes: rdflib.Graph,
    derived: ox.NamedNode | None = None,
    *,
    say: Callable[[str], None] | None = None,
) -> list[CheckResult]:
    """Validate ``dataset`` with ``shapes``: derive first (when ``derived`` names the
    graph the rules write), then run every shape that has focus nodes."""
    if derived is not None:
        derive(dataset, shapes, derived)
    model = read_shapes(shapes)
    native = [s for s in model if s.delegated is None]
    delegated = [s for s in model if s.delegated is not None]
    rule_of = {str(shape): str(rule) for shape, rule in shapes.subject_objects(JFS.ruleId)}
    runner = Runner(dataset, shapes, rule_of)
    results: list[CheckResult] = []
    # Oxigraph releases the GIL while it evaluates: shapes run side by side, and
    # beside pySHACL's.
    with query_pool() as pool:
        others = (
            pool.submit(_delegate, dataset, shapes, native, delegated, say) if delegated else None
        )
        for found in pool.map(lambda shape: list(runner.run(shape)), native):
            results.extend(found)
        if others is not None:
            results.extend(others.result())
    return _sorted(results)


def _delegate(
    dataset: Dataset,
    shapes: rdflib.Graph,
    native: list[Shape],
    delegated: list[Shape],
    say: Callable[[str], None] | None,
) -> list[CheckResult]:
    """The shapes the fast engine does not translate, through pySHACL, on all the data."""
    if say is not None:
        for shape in delegated:
            say(f"fast engine: {shape.label()} runs through pySHACL ({shape.delegated})")
    subset = rdflib.Graph()
    for triple in shapes:
        subset.add(triple)
    for shape in native:
        subset.set((shape.node, SH.deactivated, rdflib.Literal(True)))
    data = to_rdflib_graph(
        q for g in dataset.data for q in dataset.store.quads_for_pattern(None, None, None, g)
    )
    return pyshacl_results(data, subset, shapes, advanced=False)
