"""Queries: canned, inline and from files; parameters; formats; syntax errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from helpers import run_justify, write

import justify
from justify._query import canned_queries, format_result
from justify.config import Config
from justify.errors import QueryError


@pytest.fixture
def loaded(config: Config) -> Config:
    justify.load(config=config)
    return config


def test_canned_queries_have_titles_and_descriptions() -> None:
    queries = canned_queries()
    assert {"requirements", "unjustified", "trace"} <= set(queries)
    for q in queries.values():
        assert q.title and q.title != q.name
        assert q.description
    assert queries["trace"].parameters[0][0] == "id"


def test_requirements_query_lists_status_and_criteria(loaded: Config) -> None:
    rows = {r["id"]: r for r in justify.query("requirements", config=loaded).values()}
    assert set(rows) == {
        "REQ-TOP-1",
        "REQ-REC-1",
        "REQ-PREC-1",
        "REQ-LAT-1",
        "REQ-FAIR-1",
        "REQ-DATA-1",
        "REQ-EXPL-1",
    }
    assert rows["REQ-REC-1"]["status"] == "approved"
    assert rows["REQ-REC-1"]["criteria"] == "test_recall >= 0.85 on test"
    assert rows["REQ-LAT-1"]["status"] == "draft"
    assert rows["REQ-REC-1"]["source"] == "requirements/performance.yaml:2"


def test_unjustified_is_what_the_check_calls_unjustified(loaded: Config) -> None:
    judged = justify.check(config=loaded)  # the canned query reads the recorded check
    ids = {r["id"] for r in justify.query("unjustified", config=loaded).values()}
    # Nothing is imported: every approved requirement is unjustified (REQ-TOP-1 as bad
    # as its sub-requirements); REQ-LAT-1 is a draft.
    assert ids == {rid for rid, status in judged.statuses.items() if status == "unjustified"}
    assert ids == {
        "REQ-REC-1",
        "REQ-PREC-1",
        "REQ-FAIR-1",
        "REQ-DATA-1",
        "REQ-EXPL-1",
        "REQ-TOP-1",
    }


def test_trace_of_one_requirement(loaded: Config) -> None:
    rows = justify.query("trace", params={"id": "REQ-REC-1"}, config=loaded).values()
    relations = sorted((r["relation"], r["label"]) for r in rows)
    assert relations == [
        ("criterion", "test_recall >= 0.85 on test"),
        ("justification", "Justification of REQ-REC-1"),
        ("parent", "REQ-TOP-1: Screening model fit for release"),
        ("strategy", "Each acceptance criterion is met by the most recent finished evidence run."),
    ]
    assert {r["id"] for r in rows} == {"REQ-REC-1"}


def test_trace_of_an_unknown_id_is_empty_not_an_error(loaded: Config) -> None:
    assert justify.query("trace", params={"id": "NOPE"}, config=loaded).rows == []


def test_parameter_values_cannot_inject_sparql(loaded: Config) -> None:
    evil = 'x" } } SELECT * WHERE { ?s ?p ?o } #'
    assert justify.query("trace", params={"id": evil}, config=loaded).rows == []


def test_missing_and_unknown_parameters(loaded: Config) -> None:
    with pytest.raises(QueryError, match="needs a value for: id"):
        justify.query("trace", config=loaded)
    with pytest.raises(QueryError, match="has no parameter nope"):
        justify.query("trace", params={"id": "A", "nope": "1"}, config=loaded)


def test_query_from_a_file(loaded: Config, tmp_path: Path) -> None:
    path = write(
        tmp_path / "q.rq",
        "# title: Approved\n# param: status  a status\n"
        "SELECT ?id WHERE { ?r jf:status ?status ; dcterms:identifier ?id } ORDER BY ?id\n",
    )
    rows = justify.query(f"@{path}", params={"status": "draft"}, config=loaded).values()
    assert rows == [{"id": "REQ-LAT-1"}]
    with pytest.raises(QueryError, match="cannot read the query file"):
        justify.query(f"@{tmp_path / 'missing.rq'}", config=loaded)


def test_syntax_error_points_at_line_and_column(loaded: Config) -> None:
    with pytest.raises(QueryError) as info:
        justify.query("SELECT ?s\nWHERE { ?s ?p }", config=loaded)
    text = str(info.value)
    assert "line 2" in text
    assert "   2 | WHERE { ?s ?p }" in text
    assert "^" in text


def test_unknown_canned_name_lists_the_known_ones(loaded: Config) -> None:
    with pytest.raises(QueryError, match="no canned query named 'requirement'") as info:
        justify.query("requirement", config=loaded)
    assert "requirements, trace, unjustified" in (info.value.hint or "")


def test_formats(loaded: Config) -> None:
    result = justify.query("requirements", config=loaded)
    table = format_result(result, "table", base=loaded.base_iri)
    assert table.splitlines()[0].split() == [
        "id",
        "title",
        "kind",
        "status",
        "priority",
        "criteria",
        "source",
    ]
    assert table.endswith("(7 rows)")

    rows = list(csv.DictReader(io.StringIO(format_result(result, "csv"))))
    assert len(rows) == 7 and rows[0]["id"] == "REQ-DATA-1"
    rows = list(csv.DictReader(io.StringIO(format_result(result, "tsv")), delimiter="\t"))
    assert rows[-1]["id"] == "REQ-TOP-1"

    data = json.loads(format_result(result, "json"))
    assert data["head"]["vars"][0] == "id"
    first = data["results"]["bindings"][0]
    assert first["id"] == {"type": "literal", "value": "REQ-DATA-1"}
    assert "priority" in first  # bound values only; unbound ones are left out


def test_ask_and_construct(loaded: Config) -> None:
    ask = justify.query('ASK { ?r dcterms:identifier "REQ-REC-1" }', config=loaded)
    assert ask.boolean is True
    assert json.loads(format_result(ask, "json")) == {"head": {}, "boolean": True}
    graph = justify.query(
        "CONSTRUCT { ?r rdfs:label ?l } WHERE { ?r a jf:Requirement ; rdfs:label ?l }",
        config=loaded,
    )
    assert len(graph.triples) == 7
    assert "subject,predicate,object" in format_result(graph, "csv")


def test_service_is_refused_unless_allowed(loaded: Config) -> None:
    from justify.errors import QueryError

    federated = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    with pytest.raises(QueryError, match="uses SERVICE"):
        justify.query(federated, config=loaded)
    cli = run_justify("query", federated, cwd=loaded.root)
    assert cli.returncode == 2 and "--allow-service" in cli.stderr
    # A query that only mentions the word is not refused.
    named = 'SELECT ?s WHERE { ?s rdfs:label "service desk" }'
    assert justify.query(named, config=loaded).kind == "select"
