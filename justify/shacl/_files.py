"""``justify check --data FILE... --shapes PATH...``: RDF files validated with the
given shapes only, without a store or a configuration (as pySHACL's command line
does), on either engine."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.namespace import SH

from justify.errors import ShapeError, UsageError
from justify.rdfconv import parse_file
from justify.shacl._fast import run_fast
from justify.shacl._native import dataset_of
from justify.shacl._reference import run_pyshacl
from justify.shacl._shapes import CheckResult, _no_service, parse_shape_file

FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
}
DERIVED = ox.NamedNode("urn:justify:derived")


def rdf_format(path: Path) -> ox.RdfFormat:
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise UsageError(
            f"{path}: cannot tell the RDF format from the extension {path.suffix!r}",
            hint="name the file .ttl, .nt, .nq, .trig, .jsonld or .rdf",
        )
    return found


def load_data(store: ox.Store, path: Path) -> int:
    """One data file into ``store``: its triples in a graph named after the file, its
    named graphs as they are. A syntax error names the file and the line."""
    fmt = rdf_format(path)
    graph = ox.NamedNode(path.resolve().as_uri())
    quads = [
        q
        if not isinstance(q.graph_name, ox.DefaultGraph)
        else ox.Quad(q.subject, q.predicate, q.object, graph)
        for q in parse_file(path, fmt, error=UsageError, hint="fix the data file at that line")
    ]
    store.extend(quads)
    return len(quads)


def load_shape_paths(paths: Sequence[Path]) -> rdflib.Graph:
    """The shapes of files and folders (a folder: its ``*.ttl`` files)."""
    if not paths:
        raise UsageError("no shapes to validate with", hint="pass --shapes FILE or FOLDER")
    graph = rdflib.Graph()
    for path in paths:
        if path.is_dir():
            files = sorted(path.glob("*.ttl"))
        elif path.is_file():
            files = [path]
        else:
            raise UsageError(
                f"{path}: no such shape file or folder", hint="check the --shapes path"
            )
        for file in files:
            parse_shape_file(graph, file, rdf_format(file))
    if len(graph) == 0:
        raise ShapeError("the shape files hold no triple", hint="check the --shapes paths")
    for predicate in (SH.select, SH.construct, SH.ask):
        for node, text in graph.subject_objects(predicate):
            _no_service(str(text), graph.value(None, SH.sparql, node) or node)
    return graph


def validate_files(
    data: Sequence[Path],
    shape_graph: rdflib.Graph,
    *,
    engine: str = "fast",
    say: Callable[[str], None] | None = None,
) -> list[CheckResult]:
    """Validate the data files with the shapes (see :func:`load_shape_paths`);
    SHACL rules are applied first."""
    if not data:
        raise UsageError("no data file to validate", hint="pass --data FILE")
    store = ox.Store()
    if sum(load_data(store, path) for path in data) == 0:
        raise UsageError(
            "the data files hold no triple; nothing would be validated",
            hint="check the --data files",
        )
    with dataset_of(store, shape_graph) as dataset:
        if engine == "fast":
            return run_fast(dataset, shape_graph, DERIVED, say=say)
        return run_pyshacl(store, list(dataset.data), shape_graph)
