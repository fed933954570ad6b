"""The W3C SHACL test suite (core and SPARQL, vendored in tests/w3c/ with its
licence notice) on both engines, through the code path of
`justify check --data FILE --shapes FILE`: each case's results must equal its
expected report on focus node, path, value, severity, source shape and constraint
component; a case the suite expects to fail must end in a shape error (exit 2).
Known departures are listed, with their reasons, in tests/w3c/departures.toml."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import SH

from justify.errors import ShapeError
from justify.judgement import judge_files
from justify.rdfconv import to_rdflib_graph
from justify.shacl._shapes import lexical
from tests.helpers import run_justify

# 243 cases, 20-40 s on one worker: scheduled with the other long files, first.
pytestmark = pytest.mark.slow

SUITE = Path(__file__).parent / "w3c"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = rdflib.Namespace("http://www.w3.org/ns/shacl-test#")
SEVERITY = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}
DEPARTURES = tomllib.loads((SUITE / "departures.toml").read_text(encoding="utf-8"))


def _graph(path: Path) -> rdflib.Graph:
    # Parsed as justify parses (lexical forms kept as written).
    base = path.resolve().as_uri()
    return to_rdflib_graph(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=base))


def _path(uri: rdflib.term.Node) -> Path:
    return Path(str(uri).removeprefix("file://"))


def _cases(manifest: Path) -> Iterator[tuple[str, Path, Path, object]]:
    graph = _graph(manifest)
    for include in sorted(graph.objects(None, MF.include)):
        yield from _cases(_path(include))
    for head in graph.objects(None, MF.entries):
        for entry in Collection(graph, head):
            action = graph.value(entry, MF.action)
            data = _path(graph.value(action, SHT.dataGraph))
            shapes = _path(graph.value(action, SHT.shapesGraph))
            result = graph.value(entry, MF.result)
            expected: object
            if result == SHT.Failure:
                expected = "failure"
            else:
                expected = {
                    _key(
                        graph.value(r, SH.focusNode),
                        graph.value(r, SH.resultPath),
                        graph.value(r, SH.value),
                        SEVERITY.get(graph.value(r, SH.resultSeverity), "violation"),
                        graph.value(r, SH.sourceShape),
                        graph.value(r, SH.sourceConstraintComponent),
                    )
                    for r in graph.objects(result, SH.result)
                }
            name = str(entry).removeprefix((SUITE.resolve().as_uri()) + "/")
            yield name, data, shapes, expected


def _term(node: object) -> str | None:
    if node is None:
        return None
    text = lexical(node)
    # Blank nodes: their ids differ between the expected report and the engines.
    return "_:" if text.startswith("_:") else text


def _key(*fields: object) -> tuple[str | None, ...]:
    focus, path, value, severity, shape, component = fields
    return (
        _term(focus),
        None if path is None or isinstance(path, rdflib.BNode) else str(path),
        _term(value),
        str(severity),
        None if shape is None or isinstance(shape, rdflib.BNode) else str(shape),
        str(component) if component is not None else None,
    )


CASES = list(_cases(SUITE / "manifest.ttl"))


def test_the_suite_is_all_there() -> None:
    # 98 core and 22 SPARQL cases of the W3C suite: a missing manifest would shrink it.
    assert len(CASES) == 120
    assert sum(1 for c in CASES if c[0].startswith("sparql/")) == 22


def _outcome(engine: str, data: Path, shapes: Path) -> object:
    try:
        judgement = judge_files([data], [shapes], engine=engine)
    except ShapeError:
        return "failure"
    return {
        _key(r.focus, r.path, r.value, r.severity, r.source_shape, r.component)
        for r in judgement.results
    }


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
@pytest.mark.parametrize(("name", "data", "shapes", "expected"), CASES, ids=[c[0] for c in CASES])
def test_w3c_case(engine: str, name: str, data: Path, shapes: Path, expected: object) -> None:
    outcome = _outcome(engine, data, shapes)
    reason = DEPARTURES[engine].get(name)
    if reason is None:
        assert outcome == expected
    else:
        assert outcome != expected, f"{name} passes on {engine} now: remove it from departures.toml"


def test_the_departures_name_real_cases() -> None:
    names = {c[0] for c in CASES}
    for engine in ("fast", "pyshacl"):
        assert set(DEPARTURES[engine]) <= names


def test_check_data_shapes_on_the_command_line(tmp_path: Path) -> None:
    case = SUITE / "core" / "property" / "minCount-001.ttl"
    for engine in ("fast", "pyshacl"):
        cli = run_justify(
            "check", "--data", str(case), "--shapes", str(case), "--engine", engine,
            "--format", "json", cwd=tmp_path,
        )  # fmt: skip
        assert cli.returncode == 1, cli.stderr
        report = json.loads(cli.stdout)
        assert [
            (r["focus"].rsplit("#")[-1], r["component"].rsplit("#")[-1]) for r in report["results"]
        ] == [("InvalidPerson", "MinCountConstraintComponent")]
    # SARIF: the shape is a rule of its own, and each result carries the SHACL result.
    cli = run_justify(
        "check", "--data", str(case), "--shapes", str(case), "-o", "out.sarif", cwd=tmp_path
    )
    assert cli.returncode == 1, cli.stderr
    sarif = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))["runs"][0]
    shape = "http://datashapes.org/sh/tests/core/property/minCount-001.test#PersonShape"
    assert [r["id"] for r in sarif["tool"]["driver"]["rules"]] == [shape]
    [result] = sarif["results"]
    assert result["ruleId"] == shape
    assert result["properties"]["sourceConstraintComponent"].endswith(
        "#MinCountConstraintComponent"
    )
    assert result["properties"]["resultPath"].endswith("#firstName")
    # A shape SHACL-SPARQL forbids: exit 2, the file and the rule named, no traceback.
    bad = SUITE / "sparql" / "pre-binding" / "unsupported-sparql-001.ttl"
    cli = run_justify("check", "--data", str(bad), "--shapes", str(bad), cwd=tmp_path)
    assert cli.returncode == 2
    assert "MINUS" in cli.stderr and "Traceback" not in cli.stderr
    # Data that meets its shapes: exit 0.
    ok = SUITE / "core" / "misc" / "deactivated-001.ttl"
    cli = run_justify("check", "--data", str(ok), "--shapes", str(ok), cwd=tmp_path)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    # --data without --shapes is a usage error, as is a data file that does not parse.
    cli = run_justify("check", "--data", str(ok), cwd=tmp_path)
    assert cli.returncode == 2 and "--shapes" in cli.stderr
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n", encoding="utf-8")
    cli = run_justify("check", "--data", str(broken), "--shapes", str(ok), cwd=tmp_path)
    assert cli.returncode == 2 and f"{broken}:2:" in cli.stderr
