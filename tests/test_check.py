"""Justification checks. Shape tests are data: a small graph per case, the results
expected, and both engines must give exactly the same results."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
from helpers import run_justify

from justify.check import check
from justify.config import load_config
from justify.errors import UsageError
from justify.store import EmbeddedStore

PREFIXES = """
@prefix jf: <https://w3id.org/justify/ns#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix : <https://example.org/t/> .
"""


def req(name: str, *, status: str = "approved", extra: str = "") -> str:
    return (
        f':{name} a jf:Requirement ; dcterms:identifier "{name}" ; dcterms:title "{name}" ; '
        f'jf:kind "performance" ; jf:status "{status}" ; jf:sourceFile "r.yaml" {extra} .\n'
    )


CRITERION = ':c1 a jf:AcceptanceCriterion ; jf:metricKey "recall" ; jf:comparator ">=" ; jf:threshold "0.8"^^xsd:double .\n'


def run(
    name: str,
    *,
    status: str = "FINISHED",
    end: str = "2026-01-02T00:00:00Z",
    recall: str | None = "0.9",
    extra: str = "",
) -> str:
    text = (
        f':{name} a jf:Run ; dcterms:title "{name}" ; rdfs:label "run {name}" ; jf:runStatus "{status}" ; '
        f'prov:startedAtTime "{end}"^^xsd:dateTime ; prov:endedAtTime "{end}"^^xsd:dateTime {extra} .\n'
    )
    if recall is not None:
        text += f':{name} jf:hasMeasurement [ jf:metricKey "recall" ; jf:value "{recall}"^^xsd:double ] .\n'
    return text


# case -> (turtle, {(rule, focus local name)} expected)
CASES = {
    "evidence-missing": (req("R1"), {("JF-EVIDENCE", "R1")}),
    "evidence-draft-is-fine": (req("R1", status="draft"), set()),
    "evidence-by-child": (
        req("P") + req("C", extra="; jf:parent :P") + run("r") + ":r jf:supports :C .",
        set(),
    ),
    "threshold-met": (
        req("R1", extra="; jf:hasCriterion :c1") + CRITERION + run("r") + ":r jf:supports :R1 .",
        set(),
    ),
    "threshold-failed": (
        req("R1", extra="; jf:hasCriterion :c1")
        + CRITERION
        + run("r", recall="0.5")
        + ":r jf:supports :R1 .",
        {("JF-THRESHOLD", "R1")},
    ),
    "newer-failure-wins": (
        req("R1", extra="; jf:hasCriterion :c1")
        + CRITERION
        + run("old", recall="0.95", end="2026-01-01T00:00:00Z")
        + run("new", recall="0.5", end="2026-02-01T00:00:00Z")
        + ":old jf:supports :R1 . :new jf:supports :R1 .",
        {("JF-THRESHOLD", "R1")},
    ),
    "metric-missing": (
        req("R1", extra="; jf:hasCriterion :c1")
        + CRITERION
        + run("r", recall=None)
        + ":r jf:supports :R1 .",
        {("JF-METRIC", "R1")},
    ),
    "scope-supports": (
        req("R1", extra="; jf:hasCriterion :c1")
        + CRITERION
        + run("r", recall="0.1")
        + ":v a jf:ModelVersion ; jf:supports :R1 ; jf:producedBy :r .",
        {("JF-THRESHOLD", "R1")},
    ),
    "dataset-missing": (
        req("R1", extra="; jf:hasCriterion :c1")
        + CRITERION
        + ':c1 jf:datasetRef "test" .'
        + run("r")
        + ":r jf:supports :R1 .",
        {("JF-DATASET", "R1")},
    ),
    "dataset-by-context": (
        req("R1", extra="; jf:hasCriterion :c1")
        + CRITERION
        + ':c1 jf:datasetRef "test" .'
        + run("r")
        + ':r jf:supports :R1 ; prov:qualifiedUsage [ jf:context "test" ] .',
        set(),
    ),
    "newest-run-failed": (
        req("R1")
        + run("ok", end="2026-01-01T00:00:00Z")
        + run("broken", status="FAILED", end="2026-02-01T00:00:00Z")
        + ":ok jf:supports :R1 . :broken jf:supports :R1 .",
        {("JF-FINISHED", "R1")},
    ),
    "only-failed-runs-is-unjustified": (
        req("R1") + run("broken", status="FAILED") + ":broken jf:supports :R1 .",
        {("JF-EVIDENCE", "R1"), ("JF-FINISHED", "R1")},
    ),
    "older-failed-run-is-fine": (
        req("R1")
        + run("broken", status="FAILED", end="2026-01-01T00:00:00Z")
        + run("ok", end="2026-02-01T00:00:00Z")
        + ":ok jf:supports :R1 . :broken jf:supports :R1 .",
        set(),
    ),
    "justifies-commit-is-evidence": (
        req("R1") + ':k a jf:Commit ; jf:gitCommitSha "abc" ; jf:supports :R1 .',
        set(),
    ),
    "newer-tagged-run-beats-model-scope": (
        req("R1", extra="; jf:hasCriterion :c1")
        + CRITERION
        + run("old", recall="0.95", end="2026-01-01T00:00:00Z")
        + run("new", recall="0.5", end="2026-02-01T00:00:00Z")
        + ":v a jf:ModelVersion ; jf:supports :R1 ; jf:producedBy :old . :new jf:supports :R1 .",
        {("JF-THRESHOLD", "R1")},
    ),
    "commit-unknown": (
        req("R1") + run("r", extra='; jf:gitCommitSha "abc"') + ":r jf:supports :R1 .",
        {("JF-COMMIT", "R1")},
    ),
    "commit-known": (
        req("R1")
        + run("r", extra='; jf:gitCommitSha "abc"')
        + ":r jf:supports :R1 ."
        + ':k a jf:Commit ; jf:gitCommitSha "abc" .',
        set(),
    ),
    "stale": (
        req("R1", extra="; jf:lastChangedIn :k")
        + run("r")
        + ":r jf:supports :R1 ."
        + ':k a jf:Commit ; jf:messageTitle "raise it" ; prov:endedAtTime "2026-03-01T00:00:00Z"^^xsd:dateTime .',
        {("JF-STALE", "R1")},
    ),
    "not-stale": (
        req("R1", extra="; jf:lastChangedIn :k")
        + run("r")
        + ":r jf:supports :R1 ."
        + ':k a jf:Commit ; jf:messageTitle "x" ; prov:endedAtTime "2025-03-01T00:00:00Z"^^xsd:dateTime .',
        set(),
    ),
    "unknown-reference": (
        req("R1") + run("r") + ":r jf:supports :R1 , :NOPE .",
        {("JF-REFERENCE", "r")},
    ),
    "parent-of-failing-child": (
        req("P")
        + req("C", extra="; jf:parent :P")
        + req("G", extra="; jf:parent :C")
        + run("r")
        + ":r jf:supports :P .",
        {("JF-EVIDENCE", "G"), ("JF-PARENT", "C"), ("JF-PARENT", "P")},
    ),
    "draft-child-does-not-count": (
        req("P") + req("C", status="draft", extra="; jf:parent :P"),
        set(),
    ),
    "alias-fails-scoped-requirement": (
        req("R1", extra='; jf:hasCriterion :c1 ; jf:scopeModelName "m"')
        + CRITERION
        + run("r", recall="0.5")
        + ':v a jf:ModelVersion ; jf:alias "champion" ; jf:versionNumber 3 ; jf:producedBy :r ; jf:supports :R1 ; '
        + 'jf:versionOf [ dcterms:title "m" ] .',
        {("JF-ALIAS", "v"), ("JF-THRESHOLD", "R1")},
    ),
    "alias-without-the-metric": (
        req("R1", extra='; jf:hasCriterion :c1 ; jf:scopeModelName "m"')
        + CRITERION
        + run("r", recall=None)
        + ':v a jf:ModelVersion ; jf:alias "champion" ; jf:versionNumber 3 ; jf:producedBy :r ; '
        + 'jf:versionOf [ dcterms:title "m" ] .',
        {("JF-ALIAS", "v"), ("JF-EVIDENCE", "R1")},
    ),
    "attestation-stale": (
        req("R1", extra="; jf:hasAttestation :a ; jf:lastChangedIn :k")
        + ':a jf:attestedBy "Ada" ; dcterms:date "2025-01-01"^^xsd:date ; jf:supports :R1 .'
        + ':k a jf:Commit ; jf:messageTitle "edit" ; prov:endedAtTime "2026-03-01T00:00:00Z"^^xsd:dateTime .',
        {("JF-ATTESTATION", "R1")},
    ),
    "attestation-current": (
        req("R1", extra="; jf:hasAttestation :a ; jf:lastChangedIn :k")
        + ':a jf:attestedBy "Ada" ; dcterms:date "2026-04-01"^^xsd:date ; jf:supports :R1 .'
        + ':k a jf:Commit ; jf:messageTitle "edit" ; prov:endedAtTime "2026-03-01T00:00:00Z"^^xsd:dateTime .',
        set(),
    ),
}


def _store(tmp_path: Path, turtle: str) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path / "store")
    triples = [
        q.triple
        for q in pyoxigraph.parse((PREFIXES + turtle).encode(), format=pyoxigraph.RdfFormat.TURTLE)
    ]
    with store.write() as w:
        w.add(pyoxigraph.NamedNode("https://example.org/t/graph/test"), triples)
    return store


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_rule_cases_with_both_engines(case: str, tmp_path: Path) -> None:
    turtle, expected = CASES[case]
    store = _store(tmp_path, turtle)
    (tmp_path / "justify.toml").write_text("")
    config = load_config(tmp_path / "justify.toml")
    fast = check(engine="fast", config=config, store=store)
    reference = check(engine="pyshacl", config=config, store=store)
    got = {(r.rule, r.focus.rsplit("/", 1)[-1]) for r in fast.results}
    assert got == expected
    assert [(r.rule, r.focus, r.severity, r.value, r.message) for r in fast.results] == [
        (r.rule, r.focus, r.severity, r.value, r.message) for r in reference.results
    ]


def test_messages_name_the_requirement_and_what_to_do(tmp_path: Path) -> None:
    store = _store(tmp_path, CASES["threshold-failed"][0])
    (tmp_path / "justify.toml").write_text("")
    result = check(config=load_config(tmp_path / "justify.toml"), store=store).results[0]
    assert result.message.startswith(
        "R1: recall = 0.5 in run r, but the criterion needs recall >= 0.8"
    )


def test_demo_check_reports_the_planted_problems(tmp_path: Path) -> None:
    from justify.demo import demo

    result = demo(tmp_path / "ws")
    report = check(config=result.config)
    assert report.statuses == {
        "REQ-DATA-1": "unjustified",
        "REQ-FAIR-1": "failing",
        "REQ-LAT-1": "draft",
        "REQ-PREC-1": "stale",
        "REQ-REC-1": "justified",
        "REQ-TOP-1": "justified",
    }
    assert report.exit_code("violation") == 1 and report.exit_code("never") == 0
    cli = run_justify("check", "--format", "json", cwd=result.directory)
    assert cli.returncode == 1
    import json

    statuses = {r["id"]: r["status"] for r in json.loads(cli.stdout)["requirements"]}
    assert statuses == report.statuses
    clean = run_justify("check", "--fail-on", "never", cwd=result.directory)
    assert clean.returncode == 0 and "1 stale" in clean.stdout


# ------------------------------------------------------------ report formats


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The demo checked once, every report format written with --output."""
    from justify.demo import demo

    result = demo(tmp_path_factory.mktemp("formats") / "ws")
    out = result.directory / "reports"
    cli = run_justify(
        "check",
        "-o",
        f"{out}/check.json",
        "-o",
        f"{out}/junit.xml",
        "-o",
        f"{out}/check.sarif",
        "-o",
        f"markdown:{out}/summary.txt",
        "--format",
        "github",
        cwd=result.directory,
    )
    assert cli.returncode == 1, cli.stderr
    files = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
    files["github"] = cli.stdout
    return result.directory, files


def test_json_report_follows_its_documented_schema(demo_reports) -> None:
    import json

    import jsonschema

    from justify.resources import package_file

    _, files = demo_reports
    schema = json.loads(package_file("schemas/check-report.schema.json").read_text())
    data = json.loads(files["check.json"])
    jsonschema.validate(data, schema)
    threshold = next(r for r in data["results"] if r["rule"] == "JF-THRESHOLD")
    assert threshold["requirement"] == "REQ-FAIR-1"
    assert (threshold["file"], threshold["line"]) == ("requirements/governance.yaml", 2)
    assert float(threshold["value"]) > 0.1
    assert data["summary"]["failing"] == 1 and data["summary"]["violations"] == 2


def test_sarif_report_validates_against_the_sarif_schema(demo_reports) -> None:
    import json

    import jsonschema

    _, files = demo_reports
    schema = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json").read_text())
    data = json.loads(files["check.sarif"])
    jsonschema.Draft4Validator(schema).validate(data)
    results = data["runs"][0]["results"]
    located = {
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in results
    }
    assert ("JF-STALE", "requirements/performance.yaml", 19) in located
    rule_ids = {r["id"] for r in data["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rule_ids


def test_junit_report_has_one_case_per_requirement(demo_reports) -> None:
    from junitparser import Failure, JUnitXml, Skipped

    directory, _ = demo_reports
    xml = JUnitXml.fromfile(str(directory / "reports" / "junit.xml"))
    cases = {case.name.split(":")[0]: case for suite in xml for case in suite}
    assert set(cases) == {
        "REQ-DATA-1",
        "REQ-FAIR-1",
        "REQ-LAT-1",
        "REQ-PREC-1",
        "REQ-REC-1",
        "REQ-TOP-1",
    }
    assert any(isinstance(r, Failure) for r in cases["REQ-FAIR-1"].result)
    assert any(isinstance(r, Skipped) for r in cases["REQ-LAT-1"].result)
    assert cases["REQ-REC-1"].is_passed


def test_markdown_and_github_annotations(demo_reports) -> None:
    _, files = demo_reports
    markdown = files["summary.txt"]
    assert markdown.startswith("## justify check")
    assert "| `REQ-FAIR-1` Equal recall across tumour sizes | failing |" in markdown
    github = files["github"].splitlines()
    assert (
        "::error file=requirements/governance.yaml,line=2,title=JF-THRESHOLD::REQ-FAIR-1"
        in "\n".join(github)
    )
    assert any(
        line.startswith("::warning file=requirements/performance.yaml,line=19,title=JF-STALE")
        for line in github
    )


def test_an_output_without_a_known_format_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "justify.toml").write_text("")
    result = run_justify("check", "-o", "report.pdf", cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot tell the report format of 'report.pdf'" in result.stderr


# ------------------------------------------------------ configuration, user shapes

USER_SHAPE = """
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix jf: <https://w3id.org/justify/ns#> .
@prefix jfs: <https://w3id.org/justify/shapes#> . @prefix ex: <https://example.org/shapes#> .
ex:OwnerShape a sh:NodeShape ;
    jfs:ruleId "ACME-OWNER" ;
    sh:targetClass jf:Requirement ;
    sh:severity sh:Warning ;
    sh:sparql [ a sh:SPARQLConstraint ; sh:prefixes jfs: ;
        sh:message "{?id} has no owner; add `owner:` to its file" ;
        sh:select \"\"\"SELECT $this ?id WHERE { $this dcterms:identifier ?id
                     FILTER NOT EXISTS { $this jf:owner ?o } }\"\"\" ] .
"""


def _project(tmp_path: Path, settings: str, turtle: str) -> tuple[EmbeddedStore, object]:
    (tmp_path / "justify.toml").write_text(settings)
    return _store(tmp_path, turtle), load_config(tmp_path / "justify.toml")


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
def test_user_shapes_run_with_the_built_in_ones(tmp_path: Path, engine: str) -> None:
    (tmp_path / "my-shapes").mkdir()
    (tmp_path / "my-shapes" / "owner.ttl").write_text(USER_SHAPE)
    store, config = _project(tmp_path, 'shapes = ["my-shapes"]\n', req("R1"))
    rules = {(r.rule, r.severity) for r in check(engine=engine, config=config, store=store).results}
    assert rules == {("JF-EVIDENCE", "violation"), ("ACME-OWNER", "warning")}


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
def test_rules_can_be_switched_off_or_regraded(tmp_path: Path, engine: str) -> None:
    turtle = CASES["stale"][0] + req("R2")
    store, config = _project(
        tmp_path,
        'disabled_rules = ["JF-EVIDENCE"]\nrule_severity = ["JF-STALE=violation"]\n',
        turtle,
    )
    report = check(engine=engine, config=config, store=store)
    assert {(r.rule, r.severity) for r in report.results} == {("JF-STALE", "violation")}
    assert report.statuses == {"R1": "failing", "R2": "justified"}


def test_unknown_rule_in_the_configuration_is_a_usage_error(tmp_path: Path) -> None:
    store, config = _project(tmp_path, 'disabled_rules = ["JF-NOPE"]\n', req("R1"))
    with pytest.raises(UsageError, match="unknown rule id 'JF-NOPE'"):
        check(config=config, store=store)


def test_a_malformed_shape_file_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "my-shapes").mkdir()
    (tmp_path / "my-shapes" / "bad.ttl").write_text(
        USER_SHAPE.replace("sh:severity sh:Warning ;", "sh:severity sh:Warning")
    )
    (tmp_path / "justify.toml").write_text('shapes = ["my-shapes"]\n')
    result = run_justify("check", cwd=tmp_path)
    assert result.returncode == 2
    assert f"{tmp_path / 'my-shapes' / 'bad.ttl'}:8: not valid Turtle" in result.stderr


def test_fast_check_writes_current_evidence_to_the_derived_graph(tmp_path: Path) -> None:
    store = _store(tmp_path, CASES["newer-tagged-run-beats-model-scope"][0])
    (tmp_path / "justify.toml").write_text('base_iri = "https://example.org/t/"\n')
    config = load_config(tmp_path / "justify.toml")
    check(engine="fast", config=config, store=store)
    rows = store.query(
        "SELECT ?g ?run WHERE { GRAPH ?g { ?r <https://w3id.org/justify/ns#currentEvidence> ?run } }"
    ).values()
    assert rows == [
        {"g": "https://example.org/t/graph/derived", "run": "https://example.org/t/new"}
    ]
