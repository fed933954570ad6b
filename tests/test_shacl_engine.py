"""What the W3C suite does not cover: SHACL-AF rules in order, SPARQL-based targets,
?failure, messages, severities, and what the fast engine says it hands to pySHACL.
Each case runs `check --data --shapes` on both engines, which must agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from justify.errors import ShapeError
from justify.judgement import judge_files
from justify.shacl import CheckResult
from tests.helpers import run_justify, write

PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/> .
ex: sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^xsd:anyURI ] .
"""

DATA = (
    PREFIXES
    + """
ex:Dog rdfs:subClassOf ex:Animal .
ex:rex a ex:Dog ; ex:name "Rex" ; ex:age 3 ; ex:friend ex:tom .
ex:tom a ex:Animal ; ex:age "old" .
ex:bob a ex:Person .
"""
)


def both(tmp_path: Path, shapes: str, data: str = DATA) -> list[CheckResult]:
    data_file = write(tmp_path / "data.ttl", data)
    shape_file = write(tmp_path / "shapes.ttl", PREFIXES + shapes)
    fast = judge_files([data_file], [shape_file], engine="fast").results
    reference = judge_files([data_file], [shape_file], engine="pyshacl").results
    assert fast == reference
    return fast


def short(results: list[CheckResult]) -> set[tuple[str, str, str]]:
    return {(r.focus.rsplit("/", 1)[-1], r.severity, r.message) for r in results}


def rule_shape(name: str, order: int, construct: str) -> str:
    """A node shape on every ex:Animal with one SPARQL rule of ``sh:order`` ``order``."""
    return f"""
    ex:{name} a sh:NodeShape ; sh:targetClass ex:Animal ; sh:order {order} ;
        sh:rule [ a sh:SPARQLRule ; sh:prefixes ex: ; sh:construct "{construct}" ] .
    """


def test_rules_run_in_order_each_reading_the_previous(tmp_path: Path) -> None:
    # Rule 2 reads what rule 1 derived; a constraint reads what rule 2 derived.
    shapes = (
        rule_shape("First", 1, "CONSTRUCT { $this ex:known true } WHERE { $this ex:name ?n }")
        + rule_shape(
            "Second",
            2,
            "CONSTRUCT { ?f ex:knownFriend true } WHERE { $this ex:known true ; ex:friend ?f }",
        )
        + """
    ex:Check a sh:NodeShape ; sh:targetClass ex:Animal ;
        sh:sparql [ sh:prefixes ex: ; sh:message "friend of a known animal" ;
                    sh:select "SELECT $this WHERE { $this ex:knownFriend true }" ] .
    """
    )
    assert short(both(tmp_path, shapes)) == {("tom", "violation", "friend of a known animal")}


def test_rules_of_one_order_read_the_data_as_the_lower_orders_left_it(tmp_path: Path) -> None:
    # SHACL-AF leaves the order among rules of one sh:order undefined (pySHACL's
    # follows its graph's iteration): the fast engine runs them side by side, so
    # that none sees what its peers derive, whatever their names.
    shapes = (
        rule_shape("A", 1, "CONSTRUCT { $this ex:known true } WHERE { $this ex:name ?n }")
        + rule_shape("B", 1, "CONSTRUCT { $this ex:seen true } WHERE { $this ex:known true }")
        + rule_shape("C", 2, "CONSTRUCT { $this ex:later true } WHERE { $this ex:known true }")
        + """
    ex:Check a sh:NodeShape ; sh:targetClass ex:Animal ;
        sh:sparql [ sh:prefixes ex: ; sh:message "{?what}" ;
                    sh:select '''SELECT $this ?what WHERE {
                        { $this ex:seen true BIND ("seen" AS ?what) }
                        UNION { $this ex:later true BIND ("later" AS ?what) } }''' ] .
    """
    )
    data = write(tmp_path / "d.ttl", DATA)
    for name in ("shapes.ttl", "renamed.ttl"):
        # The same with the two first rules' shapes named the other way round.
        text = shapes if name == "shapes.ttl" else shapes.replace("ex:A ", "ex:Z ")
        shape_file = write(tmp_path / name, PREFIXES + text)
        results = judge_files([data], [shape_file], engine="fast").results
        assert short(results) == {("rex", "violation", "later")}, name


def test_class_targets_reach_subclasses_and_severity_and_language_hold(tmp_path: Path) -> None:
    shapes = """
    ex:Named a sh:NodeShape ; sh:targetClass ex:Animal ;
        sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:severity sh:Info ;
                      sh:message "no name"@en, "sans nom"@fr ] ;
        sh:property [ sh:path ex:age ; sh:maxCount 0 ; sh:message "age given" ] .
    """
    # rex is an ex:Dog, a subclass of ex:Animal: a target too.
    assert short(both(tmp_path, shapes)) == {
        ("tom", "info", "no name"),
        ("tom", "violation", "age given"),
        ("rex", "violation", "age given"),
    }


def test_sparql_target_on_the_fast_engine(tmp_path: Path) -> None:
    shapes = """
    ex:Young a sh:NodeShape ;
        sh:target [ a sh:SPARQLTarget ; sh:prefixes ex: ;
                    sh:select "SELECT ?this WHERE { ?this ex:age ?a FILTER (isNumeric(?a)) }" ] ;
        sh:property [ sh:path ex:friend ; sh:maxCount 0 ; sh:message "too young for friends" ] .
    """
    data = write(tmp_path / "d.ttl", DATA)
    shape_file = write(tmp_path / "s.ttl", PREFIXES + shapes)
    results = judge_files([data], [shape_file], engine="fast").results
    assert short(results) == {("rex", "violation", "too young for friends")}


def test_a_query_that_looks_at_other_nodes_sees_all_the_data(tmp_path: Path) -> None:
    # Core and SPARQL constraints on one shape: the query reads nodes other than
    # the focus node (the old engine narrowed the data to the focus nodes' triples).
    shapes = """
    ex:Ages a sh:NodeShape ; sh:targetClass ex:Dog ;
        sh:property [ sh:path ex:age ; sh:datatype xsd:integer ] ;
        sh:sparql [ sh:prefixes ex: ; sh:message "a friend of {$this} has age {?age}" ;
                    sh:select '''SELECT $this ?age WHERE {
                        $this ex:friend ?f . ?f ex:age ?age FILTER (!isNumeric(?age)) }''' ] .
    """
    assert short(both(tmp_path, shapes)) == {
        ("rex", "violation", "a friend of http://example.org/rex has age old")
    }


def test_default_messages_are_the_same_on_both_engines(tmp_path: Path) -> None:
    shapes = """
    ex:Ages a sh:NodeShape ; sh:targetClass ex:Animal ;
        sh:property [ sh:path ex:age ; sh:datatype xsd:integer ] ;
        sh:property [ sh:path ex:color ; sh:minCount 1 ] .
    """
    assert short(both(tmp_path, shapes)) == {
        ("tom", "violation", "Datatype: value old is not a well-formed xsd:integer"),
        ("tom", "violation", "MinCount: has fewer than 1 values"),
        ("rex", "violation", "MinCount: has fewer than 1 values"),
    }


def test_the_shapes_are_not_data_unless_a_query_reads_them_as_the_shapes_graph(
    tmp_path: Path,
) -> None:
    # The fast engine reads the data as the union of the store's graphs when no query
    # names $shapesGraph: the shapes must stay out of that union; a query that names
    # it reads them there, and only there.
    label = """
    ex:Labelled a sh:NodeShape ; rdfs:label "labelled shape" ; sh:targetClass ex:Animal ;
        sh:sparql [ sh:prefixes ex: ; sh:message "{?label}" ;
                    sh:select '''SELECT $this ?label WHERE {
                        ?node <http://www.w3.org/2000/01/rdf-schema#label> ?label .
                        $this ex:age ?age }''' ] .
    """
    assert both(tmp_path, label) == []  # the shape's label is no triple of the data
    shape_file = write(
        tmp_path / "graph.ttl",
        PREFIXES
        + label.replace(
            "?node <http://www.w3.org/2000/01/rdf-schema#label> ?label .",
            "GRAPH $shapesGraph { ?node <http://www.w3.org/2000/01/rdf-schema#label> ?label }",
        ),
    )
    results = judge_files([write(tmp_path / "d.ttl", DATA)], [shape_file], engine="fast").results
    assert short(results) == {
        ("tom", "violation", "labelled shape"),
        ("rex", "violation", "labelled shape"),
    }


def test_failure_ends_the_check_with_a_shape_error(tmp_path: Path) -> None:
    shapes = """
    ex:Broken a sh:NodeShape ; sh:targetClass ex:Animal ;
        sh:sparql [ sh:prefixes ex: ;
                    sh:select '''SELECT $this ?failure WHERE {
                        $this ex:age ?a BIND (true AS ?failure) }''' ] .
    """
    data = write(tmp_path / "d.ttl", DATA)
    shape_file = write(tmp_path / "s.ttl", PREFIXES + shapes)
    with pytest.raises(ShapeError, match="failure"):
        judge_files([data], [shape_file], engine="fast")
    cli = run_justify("check", "--data", str(data), "--shapes", str(shape_file), cwd=tmp_path)
    assert cli.returncode == 2 and "failure" in cli.stderr and "Traceback" not in cli.stderr


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("SELECT $this WHERE { SERVICE <http://127.0.0.1:9/sparql> { $this ?p ?o } }", "SERVICE"),
        ("SELECT $this WHERE { $this a undeclared:Thing }", "undeclared:"),
    ],
)
def test_shapes_never_reach_the_network_nor_guess_prefixes(
    tmp_path: Path, query: str, named: str
) -> None:
    shapes = f"""
    ex:S a sh:NodeShape ; sh:targetClass ex:Animal ;
        sh:sparql [ sh:prefixes ex: ; sh:select "{query}" ] .
    """
    data = write(tmp_path / "d.ttl", DATA)
    shape_file = write(tmp_path / "s.ttl", PREFIXES + shapes)
    cli = run_justify("check", "--data", str(data), "--shapes", str(shape_file), cwd=tmp_path)
    assert cli.returncode == 2, cli.stdout
    assert named in cli.stderr and "Traceback" not in cli.stderr


def test_verbose_says_what_goes_to_pyshacl(tmp_path: Path) -> None:
    shapes = """
    ex:Closed a sh:NodeShape ; sh:targetClass ex:Person ; sh:closed true ;
        sh:ignoredProperties ( <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> ) .
    ex:Named a sh:NodeShape ; sh:targetClass ex:Person ;
        sh:property [ sh:path ex:name ; sh:minCount 1 ] .
    """
    data = write(tmp_path / "d.ttl", DATA)
    shape_file = write(tmp_path / "s.ttl", PREFIXES + shapes)
    cli = run_justify(
        "check", "--data", str(data), "--shapes", str(shape_file), "-v", "--format", "json",
        cwd=tmp_path,
    )  # fmt: skip
    assert cli.returncode == 1, cli.stderr
    assert "<http://example.org/Closed> runs through pySHACL (sh:closed" in cli.stderr
    assert "Named" not in cli.stderr


QUERIES = [
    "SELECT $this WHERE { FILTER ($this = <http://a>) }",
    "SELECT $this WHERE { { FILTER ($this = <http://a>) } }",
    "SELECT $this WHERE { OPTIONAL { ?x <http://p> ?y FILTER (?y = $this) } }",
    "SELECT $this WHERE { $this <http://p> ?x FILTER NOT EXISTS { ?x <http://q> $this } }",
    "SELECT $this WHERE { { $this <http://p> ?x } UNION { ?x <http://q> $this } }",
    "SELECT $this WHERE { { ?x <http://p> ?y } UNION { ?x <http://q> ?y FILTER (?y = $this) } }",
    "SELECT $this WHERE { BIND ($this AS ?that) }",
    "SELECT $this WHERE { GRAPH ?g { BIND ($this AS ?that) } }",
    "CONSTRUCT { $this <http://p> ?x } WHERE { $this <http://q> ?x }",
    "CONSTRUCT { ?x <http://p> $this } WHERE { { ?x <http://q> ?y FILTER (?y != $this) } }",
    # Sub-queries: they must return $this; a LIMIT on one that uses it is per focus node.
    "SELECT $this WHERE { { SELECT $this (COUNT(?x) AS ?n) WHERE { $this <http://p> ?x }"
    " GROUP BY $this } FILTER (?n > 1) }",
    "SELECT $this WHERE { { SELECT * WHERE { $this <http://p> ?x } } }",
    "SELECT $this WHERE { { SELECT ((?a * 2) AS ?b) WHERE { $this <http://p> ?a } } }",
    "SELECT $this WHERE { { SELECT ?x WHERE { ?x <http://p> ?y } } $this <http://q> ?x }",
    "CONSTRUCT { $this <http://p> ?n } WHERE { { SELECT $this (MAX(?x) AS ?n) WHERE {"
    " $this <http://p> ?x } GROUP BY $this } }",
    "SELECT $this WHERE { { SELECT $this ?x WHERE { ?y <http://p> ?x FILTER (?x = $this) } } }",
    "SELECT $this WHERE { { SELECT $this ?x WHERE { $this <http://p> ?x }"
    " ORDER BY DESC(?x) LIMIT 1 } }",
    # $this in an expression of a nested group: bound as pre-binding binds it only
    # where a triple pattern of that group bound it first.
    "SELECT $this WHERE { { SELECT $this ?s WHERE { $this <http://p> ?o ."
    " BIND (STR($this) AS ?s) } } }",
    "SELECT $this WHERE { { SELECT $this ?s WHERE { BIND (STR($this) AS ?s)"
    " $this <http://p> ?o } } }",
    "SELECT $this WHERE { { SELECT $this ?s WHERE { OPTIONAL { $this <http://p> ?o }"
    " BIND (STR($this) AS ?s) } } }",
    "SELECT $this WHERE { { SELECT $this (COUNT(?o) AS ?n) WHERE { ?o <http://p> ?x }"
    " GROUP BY $this } BIND (STR($this) AS ?s) }",
    "SELECT $this WHERE { OPTIONAL { $this <http://p> ?o . FILTER (?o = $this) } }",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_quick_reading_never_batches_what_the_parse_would_not(query: str) -> None:
    from justify.shacl._sparql import _plainly_batchable, analysed

    if _plainly_batchable(query):
        assert analysed(query, "test")


def test_a_sub_query_may_build_an_iri_from_this_once_its_own_pattern_bound_it() -> None:
    from justify.shacl._sparql import _plainly_batchable

    bound_first = QUERIES[-5]
    assert _plainly_batchable(bound_first)  # read quickly, as the parse reads it
    assert not _plainly_batchable(QUERIES[-4])  # the BIND comes before the pattern
    assert not _plainly_batchable(QUERIES[-3])  # the pattern is in another group


def test_a_sub_query_that_limits_its_answers_runs_once_per_focus_node() -> None:
    from justify.shacl._sparql import analysed

    # LIMIT 1 under pre-binding is one answer per focus node; joined with all focus
    # nodes at once, it would be one answer in all.
    query = "SELECT $this ?x WHERE { { SELECT $this ?x WHERE { $this <http://p> ?x } LIMIT 1 } }"
    assert analysed(query, "test") is False
    assert analysed(query.replace(" LIMIT 1", ""), "test") is True


def test_the_built_in_queries_mostly_read_quickly_and_agree_with_the_parse() -> None:
    from rdflib.namespace import SH

    from justify.shacl import load_shapes
    from justify.shacl._sparql import _plainly_batchable, analysed

    texts = [str(t) for p in (SH.select, SH.construct) for _, t in load_shapes().subject_objects(p)]
    quick = [t for t in texts if _plainly_batchable(t)]
    assert len(quick) == len(texts)  # no parse at all in a check with only these
    assert all(analysed(t, "built-in") for t in quick)
