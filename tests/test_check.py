"""Justification checks. Shape tests are data: a small graph per case, the results
expected, and both engines must give exactly the same results."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
from helpers import run_justify

from justify.config import load_config
from justify.errors import ShapeError, UsageError
from justify.iris import judgement_graphs
from justify.judgement import Judgement, check, current, evidence_values, judge
from justify.store import EmbeddedStore
from justify.vocab import JF

PREFIXES = """
@prefix jf: <https://w3id.org/justify/ns#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix : <https://example.org/t/> .
"""


def req(name: str, *, status: str = "approved", extra: str = "", kind: str = "other") -> str:
    # Kind "other": no built-in justification pattern applies (their cases say a kind).
    return (
        f':{name} a jf:Requirement ; dcterms:identifier "{name}" ; dcterms:title "{name}" ; '
        f'jf:kind "{kind}" ; jf:status "{status}" ; jf:sourceFile "r.yaml" {extra} .\n'
    )


def crit(
    name: str = "c1",
    key: str = "recall",
    op: str = ">=",
    threshold: str = '"0.8"^^xsd:double',
    dataset: str | None = None,
) -> str:
    text = f':{name} a jf:AcceptanceCriterion ; jf:metricKey "{key}" ; jf:comparator "{op}" ; jf:threshold {threshold} .\n'
    if dataset:
        text += f':{name} jf:datasetRef "{dataset}" .\n'
    return text


CRITERION = crit()


def run(
    name: str,
    *,
    status: str = "finished",
    end: str = "2026-01-02T00:00:00Z",
    start: str | None = None,
    recall: str | None = "0.9",
    value: str | None = None,
    extra: str = "",
) -> str:
    text = (
        f':{name} a jf:Run ; dcterms:title "{name}" ; rdfs:label "run {name}" ; jf:runStatus "{status}" ; '
        f'prov:startedAtTime "{start or end}"^^xsd:dateTime ; prov:endedAtTime "{end}"^^xsd:dateTime {extra} .\n'
    )
    if value is not None:
        text += f':{name} jf:hasMeasurement [ jf:metricKey "recall" ; jf:value {value} ] .\n'
    elif recall is not None:
        text += f':{name} jf:hasMeasurement [ jf:metricKey "recall" ; jf:value "{recall}"^^xsd:double ] .\n'
    return text


def model(name: str, versions: dict[int, tuple[str, tuple[str, ...]]]) -> str:
    """A registered model; each version: (the run that produced it, its aliases)."""
    text = f':{name} a jf:RegisteredModel ; dcterms:title "{name}" .\n'
    for number, (produced_by, aliases) in versions.items():
        v = f":{name}-v{number}"
        text += f"{v} a jf:ModelVersion ; jf:versionOf :{name} ; jf:versionNumber {number} ; jf:producedBy :{produced_by} .\n"
        text += "".join(f'{v} jf:alias "{a}" .\n' for a in aliases)
    return text


def per_dataset(run_name: str, key: str, values: dict[str, str]) -> str:
    """Values a run recorded for one key on named datasets (MLflow 3 logged-model metrics)."""
    text = ""
    for dataset, value in values.items():
        text += (
            f':{run_name} jf:hasMeasurement [ jf:metricKey "{key}" ; '
            f'jf:value "{value}"^^xsd:double ; jf:onDataset :ds-{dataset} ] .\n'
            f':ds-{dataset} a jf:Dataset ; dcterms:title "{dataset}" .\n'
        )
    return text


def used(run_name: str, *datasets: tuple[str, str]) -> str:
    """Datasets a run used, each (name, context)."""
    text = ""
    for i, (dataset, context) in enumerate(datasets):
        text += (
            f":{run_name} jf:usedDataset :ds-{dataset} ; prov:qualifiedUsage :{run_name}-u{i} .\n"
            f':{run_name}-u{i} prov:entity :ds-{dataset} ; jf:context "{context}" .\n'
            f':ds-{dataset} a jf:Dataset ; dcterms:title "{dataset}" .\n'
        )
    return text


R1C = req("R1", extra="; jf:hasCriterion :c1")
TAG = ":r jf:supports :R1 .\n"


def value_case(value: str, op: str = ">=", threshold: str = '"0.8"^^xsd:double') -> str:
    return (
        req("R1", extra="; jf:hasCriterion :c1")
        + crit(op=op, threshold=threshold)
        + run("r", value=value)
        + TAG
    )


# case -> (turtle, {(rule, focus local name)} expected)
CASES = {
    "evidence-missing": (req("R1"), {("JF-EVIDENCE", "R1")}),
    "evidence-draft-is-fine": (req("R1", status="draft"), set()),
    "evidence-by-child": (
        req("P") + req("C", extra="; jf:parent :P") + run("r") + ":r jf:supports :C .",
        set(),
    ),
    "threshold-met": (R1C + CRITERION + run("r") + TAG, set()),
    "threshold-failed": (R1C + CRITERION + run("r", recall="0.5") + TAG, {("JF-THRESHOLD", "R1")}),
    # Numbers: only a finite number that compares true meets a threshold.
    "nan-never-meets": (value_case('"NaN"^^xsd:double'), {("JF-THRESHOLD", "R1")}),
    "nan-never-meets-not-equal": (value_case('"NaN"^^xsd:double', "!="), {("JF-THRESHOLD", "R1")}),
    "inf-never-meets": (value_case('"INF"^^xsd:double'), {("JF-THRESHOLD", "R1")}),
    "minus-inf-never-meets": (value_case('"-INF"^^xsd:double', "<="), {("JF-THRESHOLD", "R1")}),
    "string-never-meets": (value_case('"0.95"'), {("JF-THRESHOLD", "R1")}),
    "ill-typed-never-meets": (value_case('"high"^^xsd:double'), {("JF-THRESHOLD", "R1")}),
    "decimal-meets-double": (value_case('"0.85"^^xsd:decimal'), set()),
    "integer-meets-double": (value_case('"1"^^xsd:integer'), set()),
    "decimal-misses-double": (value_case('"0.75"^^xsd:decimal'), {("JF-THRESHOLD", "R1")}),
    "op-greater-equal-boundary": (value_case('"0.8"^^xsd:double'), set()),
    "op-greater-boundary": (value_case('"0.8"^^xsd:double', ">"), {("JF-THRESHOLD", "R1")}),
    "op-less-equal": (value_case('"0.8"^^xsd:double', "<="), set()),
    "op-less": (value_case('"0.9"^^xsd:double', "<"), {("JF-THRESHOLD", "R1")}),
    "op-equal": (value_case('"0.8"^^xsd:double', "=="), set()),
    "op-not-equal": (value_case('"0.8"^^xsd:double', "!="), {("JF-THRESHOLD", "R1")}),
    "newer-failure-wins": (
        R1C
        + CRITERION
        + run("old", recall="0.95", end="2026-01-01T00:00:00Z")
        + run("new", recall="0.5", end="2026-02-01T00:00:00Z")
        + ":old jf:supports :R1 . :new jf:supports :R1 .",
        {("JF-THRESHOLD", "R1")},
    ),
    # Exactly one current evidence: tied end times go to the later start, then the IRI.
    "tie-broken-by-start": (
        R1C
        + CRITERION
        + run("a", recall="0.5", end="2026-01-05T00:00:00Z", start="2026-01-04T00:00:00Z")
        + run("b", recall="0.95", end="2026-01-05T00:00:00Z", start="2026-01-01T00:00:00Z")
        + ":a jf:supports :R1 . :b jf:supports :R1 .",
        {("JF-THRESHOLD", "R1")},
    ),
    "tie-broken-by-run-iri": (
        R1C
        + CRITERION
        + run("a", recall="0.95", end="2026-01-05T00:00:00Z")
        + run("b", recall="0.5", end="2026-01-05T00:00:00Z")
        + ":a jf:supports :R1 . :b jf:supports :R1 .",
        {("JF-THRESHOLD", "R1")},
    ),
    "metric-missing": (R1C + CRITERION + run("r", recall=None) + TAG, {("JF-METRIC", "R1")}),
    "scope-by-bare-name-is-the-latest-version": (
        req("R1", extra='; jf:hasCriterion :c1 ; jf:scopeModelName "m" ; jf:modelScope "m"')
        + CRITERION
        + run("old", recall="0.95", end="2026-01-01T00:00:00Z")
        + run("new", recall="0.1", end="2026-01-01T00:00:00Z", start="2025-12-01T00:00:00Z")
        + model("m", {1: ("old", ()), 2: ("new", ())}),
        {("JF-THRESHOLD", "R1")},
    ),
    "scope-by-alias-follows-the-alias": (
        req(
            "R1",
            extra='; jf:hasCriterion :c1 ; jf:scopeModelName "m" ; jf:scopeAlias "champion" ; jf:modelScope "m@champion"',
        )
        + CRITERION
        + run("good", recall="0.95")
        + run("bad", recall="0.1")
        + model("m", {1: ("good", ("champion",)), 2: ("bad", ("challenger",))}),
        set(),
    ),
    "scope-by-version": (
        req(
            "R1",
            extra='; jf:hasCriterion :c1 ; jf:scopeModelName "m" ; jf:scopeVersion 1 ; jf:modelScope "m/1"',
        )
        + CRITERION
        + run("one", recall="0.1")
        + run("two", recall="0.95")
        + model("m", {1: ("one", ()), 2: ("two", ())}),
        {("JF-THRESHOLD", "R1")},
    ),
    "scope-names-no-version": (
        req("R1", extra='; jf:scopeModelName "m" ; jf:scopeAlias "gone" ; jf:modelScope "m@gone"')
        + run("one")
        + model("m", {1: ("one", ())}),
        {("JF-SCOPE", "R1"), ("JF-EVIDENCE", "R1")},
    ),
    "experiment-restricts-evidence": (
        req("R1", extra='; jf:hasCriterion :c1 ; jf:experimentName "main"')
        + CRITERION
        + ':main a jf:Experiment ; dcterms:title "main" . :other a jf:Experiment ; dcterms:title "other" .'
        + run("in", recall="0.95", end="2026-01-01T00:00:00Z", extra="; jf:inExperiment :main")
        + run("out", recall="0.1", end="2026-02-01T00:00:00Z", extra="; jf:inExperiment :other")
        + ":in jf:supports :R1 . :out jf:supports :R1 .",
        {("JF-EXPERIMENT", "R1")},
    ),
    # Datasets: a criterion naming one is judged on the value recorded for it.
    "dataset-value-recorded-per-dataset": (
        R1C
        + crit(dataset="test")
        + run("r", recall="0.92")
        + per_dataset("r", "recall", {"test": "0.5", "train": "0.92"})
        + TAG,
        {("JF-THRESHOLD", "R1")},
    ),
    "dataset-value-recorded-per-dataset-passes": (
        R1C
        + crit(dataset="test")
        + run("r", recall="0.1")
        + per_dataset("r", "recall", {"test": "0.9", "train": "0.1"})
        + TAG,
        set(),
    ),
    "dataset-matched-by-context": (
        R1C
        + crit(dataset="test")
        + run("r", recall="0.1")
        + per_dataset("r", "recall", {"holdout": "0.9"})
        + used("r", ("holdout", "test"))
        + TAG,
        set(),
    ),
    "dataset-recorded-elsewhere-only": (
        R1C + crit(dataset="test") + run("r") + per_dataset("r", "recall", {"train": "0.9"}) + TAG,
        {("JF-DATASET", "R1")},
    ),
    "dataset-unknown-with-two-datasets": (
        R1C + crit(dataset="test") + run("r") + used("r", ("a", "train"), ("b", "test")) + TAG,
        {("JF-DATASET", "R1")},
    ),
    "dataset-single-used-dataset-matches": (
        R1C + crit(dataset="test") + run("r") + used("r", ("b", "test")) + TAG,
        set(),
    ),
    "dataset-missing": (R1C + crit(dataset="test") + run("r") + TAG, {("JF-DATASET", "R1")}),
    "no-dataset-but-several-recorded-warns": (
        R1C
        + CRITERION
        + run("r")
        + per_dataset("r", "recall", {"test": "0.5", "train": "0.9"})
        + TAG,
        {("JF-DATASETS", "R1")},
    ),
    "newest-run-failed": (
        req("R1")
        + run("ok", end="2026-01-01T00:00:00Z")
        + run("broken", status="failed", end="2026-02-01T00:00:00Z")
        + ":ok jf:supports :R1 . :broken jf:supports :R1 .",
        {("JF-FINISHED", "R1")},
    ),
    "only-failed-runs-is-unjustified": (
        req("R1") + run("broken", status="failed") + ":broken jf:supports :R1 .",
        {("JF-EVIDENCE", "R1"), ("JF-FINISHED", "R1")},
    ),
    "older-failed-run-is-fine": (
        req("R1")
        + run("broken", status="killed", end="2026-01-01T00:00:00Z")
        + run("ok", end="2026-02-01T00:00:00Z")
        + ":ok jf:supports :R1 . :broken jf:supports :R1 .",
        set(),
    ),
    "justifies-commit-is-evidence": (
        req("R1") + ':k a jf:Commit ; jf:gitCommitSha "abc" ; jf:supports :R1 .',
        set(),
    ),
    "newer-tagged-run-beats-model-scope": (
        req("R1", extra='; jf:hasCriterion :c1 ; jf:scopeModelName "m" ; jf:modelScope "m"')
        + CRITERION
        + run("old", recall="0.95", end="2026-01-01T00:00:00Z")
        + run("new", recall="0.5", end="2026-02-01T00:00:00Z")
        + model("m", {1: ("old", ())})
        + ":new jf:supports :R1 .",
        {("JF-THRESHOLD", "R1")},
    ),
    "commit-unknown": (
        req("R1") + run("r", extra='; jf:gitCommitSha "abc"') + TAG,
        {("JF-COMMIT", "R1")},
    ),
    "commit-known": (
        req("R1")
        + run("r", extra='; jf:gitCommitSha "abc"')
        + TAG
        + ':k a jf:Commit ; jf:gitCommitSha "abc" .',
        set(),
    ),
    "stale": (
        req("R1")
        + run("r")
        + TAG
        + ':k a jf:Commit ; jf:messageTitle "raise it" ; prov:endedAtTime "2026-03-01T00:00:00Z"^^xsd:dateTime .'
        + ':rev jf:requirementId "R1" ; jf:revisedIn :k .',
        {("JF-STALE", "R1")},
    ),
    "not-stale": (
        req("R1")
        + run("r")
        + TAG
        + ':k a jf:Commit ; jf:messageTitle "x" ; prov:endedAtTime "2025-03-01T00:00:00Z"^^xsd:dateTime .'
        + ':rev jf:requirementId "R1" ; jf:revisedIn :k .',
        set(),
    ),
    "unknown-reference": (
        req("R1") + run("r") + ":r jf:supports :R1 , :NOPE .",
        {("JF-REFERENCE", "r")},
    ),
    "parent-of-unjustified-child": (
        req("P")
        + req("C", extra="; jf:parent :P")
        + req("G", extra="; jf:parent :C")
        + run("r")
        + ":r jf:supports :P .",
        {("JF-EVIDENCE", "G"), ("JF-PARENT", "C"), ("JF-PARENT", "P")},
    ),
    "parent-of-failing-child": (
        req("P")
        + req("C", extra="; jf:parent :P ; jf:hasCriterion :c1")
        + CRITERION
        + run("r", recall="0.1")
        + ":r jf:supports :C .",
        {("JF-THRESHOLD", "C"), ("JF-PARENT", "P")},
    ),
    "parent-of-stale-child": (
        req("P")
        + req("C", extra="; jf:parent :P")
        + run("r")
        + ":r jf:supports :C ."
        + ':k a jf:Commit ; jf:messageTitle "edit" ; prov:endedAtTime "2026-03-01T00:00:00Z"^^xsd:dateTime .'
        + ':rev jf:requirementId "C" ; jf:revisedIn :k .',
        {("JF-STALE", "C"), ("JF-PARENT", "P")},
    ),
    "draft-child-does-not-count": (
        req("P") + req("C", status="draft", extra="; jf:parent :P"),
        set(),
    ),
    "alias-fails-scoped-requirement": (
        req(
            "R1",
            extra='; jf:hasCriterion :c1 ; jf:scopeModelName "m" ; jf:scopeAlias "champion" ; jf:modelScope "m@champion"',
        )
        + CRITERION
        + run("r", recall="0.5", end="2026-01-01T00:00:00Z")
        + run("later", recall="0.95", end="2026-02-01T00:00:00Z")
        + ":later jf:supports :R1 ."
        + model("m", {3: ("r", ("champion",))}),
        {("JF-ALIAS", "m-v3")},
    ),
    "challenger-is-not-judged-by-a-champion-requirement": (
        req(
            "R1",
            extra='; jf:hasCriterion :c1 ; jf:scopeModelName "m" ; jf:scopeAlias "champion" ; jf:modelScope "m@champion"',
        )
        + CRITERION
        + run("champ", recall="0.95", end="2026-01-01T00:00:00Z")
        + run("chall", recall="0.5", end="2026-02-01T00:00:00Z")
        + model("m", {1: ("champ", ("champion",)), 2: ("chall", ("challenger",))}),
        set(),
    ),
    "alias-without-the-metric": (
        req("R1", extra='; jf:hasCriterion :c1 ; jf:scopeModelName "m" ; jf:modelScope "m"')
        + CRITERION
        + run("r", recall=None, end="2026-01-01T00:00:00Z")
        + run("later", end="2026-02-01T00:00:00Z")
        + ":later jf:supports :R1 ."
        + model("m", {3: ("r", ("champion",))}),
        {("JF-ALIAS", "m-v3")},
    ),
    "attestation-stale": (
        req("R1", extra="; jf:hasAttestation :a")
        + ':a jf:attestedBy "Ada" ; dcterms:date "2025-01-01"^^xsd:date ; jf:supports :R1 .'
        + ':k a jf:Commit ; jf:messageTitle "edit" ; prov:endedAtTime "2026-03-01T00:00:00Z"^^xsd:dateTime .'
        + ':rev jf:requirementId "R1" ; jf:revisedIn :k .',
        {("JF-ATTESTATION", "R1")},
    ),
    "attestation-current": (
        req("R1", extra="; jf:hasAttestation :a")
        + ':a jf:attestedBy "Ada" ; dcterms:date "2026-04-01"^^xsd:date ; jf:supports :R1 .'
        + ':k a jf:Commit ; jf:messageTitle "edit" ; prov:endedAtTime "2026-03-01T00:00:00Z"^^xsd:dateTime .'
        + ':rev jf:requirementId "R1" ; jf:revisedIn :k .',
        set(),
    ),
    # The structural rules have stable ids on both engines.
    "structure-without-title": (
        ':R1 a jf:Requirement ; dcterms:identifier "R1" ; jf:kind "performance" ; '
        'jf:status "draft" ; jf:sourceFile "r.yaml" .',
        {("JF-STRUCT-1", "R1")},
    ),
    "structure-threshold-not-a-double": (
        req("R1", extra="; jf:hasCriterion :c1") + crit(threshold='"high"') + run("r") + TAG,
        {("JF-STRUCT-2", "c1"), ("JF-THRESHOLD", "R1")},
    ),
    # The day of the commit, in its committer's time zone, is not "before" it.
    "attestation-same-day-in-the-committers-zone": (
        req("R1", extra="; jf:hasAttestation :a")
        + ':a jf:attestedBy "Ada" ; dcterms:date "2026-03-01"^^xsd:date ; jf:supports :R1 .'
        + ':k a jf:Commit ; jf:messageTitle "edit" ; prov:endedAtTime "2026-03-01T23:30:00-05:00"^^xsd:dateTime .'
        + ':rev jf:requirementId "R1" ; jf:revisedIn :k .',
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
    fast = judge(engine="fast", config=config, store=store)
    reference = judge(engine="pyshacl", config=config, store=store)
    got = {(r.rule, r.focus.rsplit("/", 1)[-1]) for r in fast.results}
    assert got == expected
    assert fast.results == reference.results  # rule, focus, path, value, severity, message
    # ... and so the whole judgement: statuses, criterion verdicts, ship verdicts.
    assert fast.requirements == reference.requirements
    assert fast.models == reference.models


STALE_C = (
    ':k a jf:Commit ; jf:messageTitle "edit" ; prov:endedAtTime "2026-03-01T00:00:00Z"^^xsd:dateTime .'
    ':rev jf:requirementId "C" ; jf:revisedIn :k .'
)
CHAMPION = (
    req(
        "R1",
        extra='; jf:hasCriterion :c1 ; jf:scopeModelName "m" ; jf:scopeAlias "champion" ; jf:modelScope "m@champion"',
    )
    + CRITERION
)

# case -> (turtle, expected statuses, expected ship verdicts by version local name)
JUDGEMENTS = {
    "status-failing-beats-unjustified": (
        req("R1", extra="; jf:hasCriterion :c1") + CRITERION + run("r", recall="0.1") + TAG,
        {"R1": "failing"},
        {},
    ),
    "status-warnings-do-not-change-it": (
        req("R1") + run("r", extra='; jf:gitCommitSha "abc"') + TAG,
        {"R1": "justified"},
        {},
    ),
    "status-retired-and-draft": (
        req("A", status="retired") + req("B", status="draft"),
        {"A": "retired", "B": "draft"},
        {},
    ),
    "parent-above-failing-child": (
        req("P")
        + req("C", extra="; jf:parent :P ; jf:hasCriterion :c1")
        + CRITERION
        + run("r", recall="0.1")
        + ":r jf:supports :C .",
        {"P": "failing", "C": "failing"},
        {},
    ),
    "parent-above-stale-child": (
        req("P") + req("C", extra="; jf:parent :P") + run("r") + ":r jf:supports :C ." + STALE_C,
        {"P": "stale", "C": "stale"},
        {},
    ),
    "parent-above-unjustified-child": (
        req("P") + req("C", extra="; jf:parent :P"),
        {"P": "unjustified", "C": "unjustified"},
        {},
    ),
    "parent-above-draft-child": (
        req("P") + req("C", status="draft", extra="; jf:parent :P"),
        {"P": "justified", "C": "draft"},
        {},
    ),
    "ship-by-alias": (
        CHAMPION
        + run("good", recall="0.95")
        + run("bad", recall="0.1")
        + model("m", {1: ("good", ("champion",)), 2: ("bad", ("challenger",))}),
        {"R1": "justified"},
        {"m-v1": "ship", "m-v2": "do not ship"},
    ),
    "ship-blocked-by-alias": (
        CHAMPION + run("bad", recall="0.1") + model("m", {1: ("bad", ("champion",))}),
        {"R1": "failing"},
        {"m-v1": "do not ship"},
    ),
    "ship-by-bare-name-latest": (
        req("R1", extra='; jf:hasCriterion :c1 ; jf:scopeModelName "m" ; jf:modelScope "m"')
        + CRITERION
        + run("one", recall="0.1")
        + run("two", recall="0.95")
        + model("m", {1: ("one", ()), 2: ("two", ())}),
        {"R1": "justified"},
        {"m-v1": "do not ship", "m-v2": "ship"},
    ),
    "ship-by-version": (
        req(
            "R1",
            extra='; jf:hasCriterion :c1 ; jf:scopeModelName "m" ; jf:scopeVersion 1 ; jf:modelScope "m/1"',
        )
        + CRITERION
        + run("one", recall="0.95")
        + run("two", recall="0.1")
        + model("m", {1: ("one", ()), 2: ("two", ())}),
        {"R1": "justified"},
        {"m-v1": "ship", "m-v2": "do not ship"},
    ),
    # A requirement tagged on the run that produced a version applies to that version.
    "ship-by-run-tag": (
        req("R1", extra="; jf:hasCriterion :c1")
        + CRITERION
        + run("r", recall="0.1")
        + TAG
        + model("m", {1: ("r", ("champion",))}),
        {"R1": "failing"},
        {"m-v1": "do not ship"},
    ),
    "ship-with-warnings": (
        CHAMPION
        + run("good", recall="0.95", extra='; jf:gitCommitSha "abc"')
        + model("m", {1: ("good", ("champion",))}),
        {"R1": "justified"},
        {"m-v1": "ship with warnings"},
    ),
    "ship-blocked-by-a-parent": (
        req("TOP")
        + req("C", extra="; jf:parent :TOP")
        + req("D", extra="; jf:parent :TOP")
        + CHAMPION.replace(":R1 a", ":R1 jf:parent :TOP . :R1 a")
        + run("good", recall="0.95")
        + model("m", {1: ("good", ("champion",))}),
        {"TOP": "unjustified", "R1": "justified", "C": "unjustified", "D": "unjustified"},
        {"m-v1": "do not ship"},
    ),
}


@pytest.mark.parametrize("case", list(JUDGEMENTS), ids=list(JUDGEMENTS))
def test_statuses_and_ship_verdicts_with_both_engines(case: str, tmp_path: Path) -> None:
    turtle, statuses, ships = JUDGEMENTS[case]
    store = _store(tmp_path, turtle)
    (tmp_path / "justify.toml").write_text("")
    config = load_config(tmp_path / "justify.toml")
    for engine in ("fast", "pyshacl"):
        judgement = judge(engine=engine, config=config, store=store)
        assert judgement.statuses == statuses, engine
        verdicts = {m.iri.rsplit("/", 1)[-1]: m.verdict for m in judgement.models}
        assert verdicts == ships, engine
        for m in judgement.models:  # the reasons name the requirements and rules
            if m.verdict != "ship":
                assert all(" JF-" in reason or "no approved" in reason for reason in m.reasons)


def test_a_nan_metric_says_why_it_fails(tmp_path: Path) -> None:
    store = _store(tmp_path, CASES["nan-never-meets"][0])
    (tmp_path / "justify.toml").write_text("")
    judgement = judge(config=load_config(tmp_path / "justify.toml"), store=store)
    (criterion,) = judgement.requirements["R1"].criteria
    assert criterion.verdict == "not met" and criterion.value == "NaN"
    assert criterion.reason.startswith("R1: recall is NaN in run r")


def test_per_dataset_value_is_the_one_judged(tmp_path: Path) -> None:
    store = _store(tmp_path, CASES["dataset-value-recorded-per-dataset"][0])
    (tmp_path / "justify.toml").write_text("")
    judgement = judge(config=load_config(tmp_path / "justify.toml"), store=store)
    (criterion,) = judgement.requirements["R1"].criteria
    assert (criterion.verdict, criterion.value, criterion.measured_on) == ("not met", "0.5", "test")


def test_every_evidence_run_gets_its_judged_value_and_verdict(tmp_path: Path) -> None:
    """What a criterion's plot colours point by point comes from the judgement's rules:
    the value judged in each evidence run (on the criterion's dataset) and whether it
    meets it, the same verdict the check gives the current evidence."""
    turtle = (
        req("R1", extra="; jf:hasCriterion :c1")
        + crit(dataset="test")
        + "".join(f":{name} jf:supports :R1 .\n" for name in ("old", "nan", "crashed", "new"))
        + run("old", end="2026-01-01T00:00:00Z", recall=None)
        + per_dataset("old", "recall", {"test": "0.85", "train": "0.99"})
        + run("nan", end="2026-01-02T00:00:00Z", recall=None)
        + per_dataset("nan", "recall", {"test": "NaN"})
        + run("crashed", status="failed", end="2026-01-03T00:00:00Z", recall=None)
        + per_dataset("crashed", "recall", {"test": "0.95"})
        + run("new", end="2026-01-04T00:00:00Z", recall=None)
        + per_dataset("new", "recall", {"test": "0.7", "train": "0.9"})
    )
    store = _store(tmp_path, turtle)
    (tmp_path / "justify.toml").write_text("")
    config = load_config(tmp_path / "justify.toml")
    for engine in ("fast", "pyshacl"):
        judged = judge(engine=engine, config=config, store=store).requirements["R1"]
        got = {
            (v.run.rsplit("/", 1)[-1], v.value, v.measured_on, v.meets)
            for v in evidence_values(store, judged)
        }
        assert got == {
            ("old", "0.85", "test", True),
            ("nan", "NaN", "test", False),
            ("crashed", "0.95", "test", True),  # a failed run's value is judged, not evidence
            ("new", "0.7", "test", False),
        }, engine
        (criterion,) = judged.criteria
        assert (criterion.verdict, criterion.value) == ("not met", "0.7")


def test_messages_name_the_requirement_and_what_to_do(tmp_path: Path) -> None:
    store = _store(tmp_path, CASES["threshold-failed"][0])
    (tmp_path / "justify.toml").write_text("")
    result = check(config=load_config(tmp_path / "justify.toml"), store=store).results[0]
    assert result.message.startswith(
        "R1: recall = 0.5 in run r, but the criterion needs recall >= 0.8"
    )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            "dataset-recorded-elsewhere-only",
            "R1: run r recorded recall on other datasets but not on 'test'; evaluate the "
            "model on 'test' (mlflow.evaluate",
        ),
        (
            "dataset-unknown-with-two-datasets",
            "R1: the dataset recall was computed on is unknown: run r used several datasets "
            "and recorded none for recall; log it on a logged model",
        ),
        (
            "dataset-missing",
            "R1: the criterion on recall must be measured on 'test', but run r used no "
            "dataset of that name or context; log the evaluation data with "
            "mlflow.log_input(..., context='test')",
        ),
    ],
)
def test_each_reason_a_dataset_value_is_missing_has_its_own_message(
    tmp_path: Path, case: str, message: str
) -> None:
    store = _store(tmp_path, CASES[case][0])
    (tmp_path / "justify.toml").write_text("")
    (result,) = judge(config=load_config(tmp_path / "justify.toml"), store=store).results
    assert result.rule == "JF-DATASET" and result.message.startswith(message)


def test_demo_check_reports_the_planted_problems(tmp_path: Path, demo_template) -> None:
    from tests.explorer_env import copy_demo

    result = copy_demo(demo_template, tmp_path / "ws")
    report = check(config=result.config)
    assert report.statuses == {
        "REQ-DATA-1": "justified",  # by the validation job's OpenLineage events
        "REQ-EXPL-1": "unjustified",
        "REQ-FAIR-1": "failing",
        "REQ-LAT-1": "draft",
        "REQ-PREC-1": "stale",
        "REQ-REC-1": "justified",
        "REQ-TOP-1": "stale",  # as bad as its stale sub-requirement REQ-PREC-1
    }
    # The planted per-dataset case: the run's latest recall gap is the training set's
    # (it would pass); REQ-FAIR-1 is judged on the value recorded for the test set.
    (fair,) = report.requirements["REQ-FAIR-1"].criteria
    assert (fair.verdict, fair.measured_on) == ("not met", "breast-cancer-test")
    (champion,) = report.models
    assert champion.aliases == ("champion",) and champion.verdict == "do not ship"
    assert any(r.startswith("REQ-FAIR-1 JF-THRESHOLD") for r in champion.reasons)
    assert report.exit_code("violation") == 1 and report.exit_code("never") == 0
    cli = run_justify("check", "--format", "json", cwd=result.directory)
    assert cli.returncode == 1
    import json

    statuses = {r["id"]: r["status"] for r in json.loads(cli.stdout)["requirements"]}
    assert statuses == report.statuses
    clean = run_justify("check", "--fail-on", "never", cwd=result.directory)
    assert clean.returncode == 0 and "2 stale" in clean.stdout
    assert "1 of 1 model version may ship" in clean.stdout  # the same policy as the exit


# ------------------------------------------------------------ report formats


@pytest.fixture(scope="module")
def demo_reports(
    tmp_path_factory: pytest.TempPathFactory, demo_template
) -> tuple[Path, dict[str, str]]:
    """The demo checked once, every report format written with --output."""
    from tests.explorer_env import copy_demo

    result = copy_demo(demo_template, tmp_path_factory.mktemp("formats") / "ws")
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
    fair = next(r for r in data["requirements"] if r["id"] == "REQ-FAIR-1")
    (criterion,) = fair["criteria"]
    assert threshold["value"] == criterion["criterion"]  # the result names its criterion
    assert criterion["verdict"] == "not met" and float(criterion["value"]) > 0.1
    # JF-EVIDENCE on REQ-EXPL-1 (unjustified); the fairness review missing and the gap
    # missed on REQ-FAIR-1 (failing).
    assert data["summary"]["failing"] == 1 and data["summary"]["unjustified"] == 1
    assert data["summary"]["violations"] == 3
    review = next(r for r in data["results"] if r["rule"].startswith("JF-PATTERN-fairness"))
    assert review["rule"] == "JF-PATTERN-fairness-attributes-reviewed"
    assert "fairness-reviewer" in review["message"]
    (model,) = data["models"]
    assert (model["model"], model["aliases"], model["verdict"]) == (
        "screening-model",
        ["champion"],
        "do not ship",
    )


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
    suites = {suite.name: suite for suite in xml}
    cases = {case.name.split(":")[0]: case for case in suites["justify"]}
    (champion,) = list(suites["justify models"])
    assert champion.name == "screening-model version 1 @champion"
    assert any(isinstance(r, Failure) for r in champion.result)
    assert set(cases) == {
        "REQ-DATA-1",
        "REQ-EXPL-1",
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


def test_an_edited_shape_file_is_read_again_by_the_next_judgement(tmp_path: Path) -> None:
    """The explorer and library users judge again in the same process: shapes are kept
    between judgements, but an edit (even of the same length, within a clock tick)
    is what the next one runs."""
    (tmp_path / "my-shapes").mkdir()
    shape = tmp_path / "my-shapes" / "owner.ttl"
    shape.write_text(USER_SHAPE)
    store, config = _project(tmp_path, 'shapes = ["my-shapes"]\n', req("R1"))
    severity = {r.rule: r.severity for r in judge(config=config, store=store).results}
    assert severity["ACME-OWNER"] == "warning"
    shape.write_text(USER_SHAPE.replace("sh:severity sh:Warning", "sh:severity sh:Info   "))
    severity = {r.rule: r.severity for r in judge(config=config, store=store).results}
    assert severity["ACME-OWNER"] == "info"
    shape.unlink()
    assert "ACME-OWNER" not in {r.rule for r in judge(config=config, store=store).results}


@pytest.mark.parametrize(
    ("old", "new", "after"),
    [
        # Inside the SPARQL constraint, a blank node: the query no longer finds anything.
        ("FILTER NOT EXISTS { $this jf:owner ?o }", "FILTER (false)", set()),
        # A property shape, a blank node too: at most one identifier -> at least two.
        ("sh:maxCount 1", "sh:minCount 2", {"ACME-OWNER", "ACME-TWO"}),
    ],
    ids=["sparql-constraint", "property-shape"],
)
def test_a_recorded_judgement_is_not_current_once_a_blank_node_shape_is_edited(
    tmp_path: Path, old: str, new: str, after: set[str]
) -> None:
    """The explorer, the report and the trace show the recorded judgement only while
    nothing it depends on changed: an edit inside a shape's blank nodes counts."""
    shapes = USER_SHAPE + (
        "@prefix dcterms: <http://purl.org/dc/terms/> .\n"
        'ex:TwoShape a sh:NodeShape ; jfs:ruleId "ACME-TWO" ; sh:targetClass jf:Requirement ;\n'
        "    sh:property [ sh:path dcterms:identifier ; sh:maxCount 1 ] .\n"
    )
    (tmp_path / "my-shapes").mkdir()
    shape = tmp_path / "my-shapes" / "owner.ttl"
    shape.write_text(shapes)
    store, config = _project(tmp_path, 'shapes = ["my-shapes"]\n', req("R1"))
    assert {r.rule for r in check(config=config, store=store).results} == {
        "JF-EVIDENCE",
        "ACME-OWNER",
    }
    assert current(config=config, store=store).changed_since is False
    shape.write_text(shapes.replace(old, new))
    live = current(config=config, store=store)
    assert live.changed_since is True
    assert {r.rule for r in live.results} - {"JF-EVIDENCE"} == after


def _replace(store: EmbeddedStore, turtle: str) -> None:
    """The test graph replaced, as an import replaces its graph."""
    data = (PREFIXES + turtle).encode()
    triples = [q.triple for q in pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.TURTLE)]
    with store.write() as w:
        w.replace_graph(pyoxigraph.NamedNode("https://example.org/t/graph/test"), triples)


def test_a_data_edit_that_keeps_every_size_makes_the_recorded_judgement_old(
    tmp_path: Path,
) -> None:
    """A value edited in place (the same number of triples, no import record) is a new
    graph: the recorded judgement no longer stands for it."""
    (tmp_path / "justify.toml").write_text('base_iri = "https://example.org/t/"\n')
    config = load_config(tmp_path / "justify.toml")
    store = EmbeddedStore(tmp_path / "store", apart=judgement_graphs(config.base_iri))
    _replace(store, CASES["threshold-met"][0])
    assert check(config=config, store=store).statuses == {"R1": "justified"}
    sizes = store.graph_sizes()
    _replace(store, CASES["threshold-failed"][0])
    assert store.graph_sizes() == sizes
    live = current(config=config, store=store)
    assert live.changed_since is True and live.statuses == {"R1": "failing"}


OWNER_RULE = """
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix jf: <https://w3id.org/justify/ns#> .
@prefix jfs: <https://w3id.org/justify/shapes#> . @prefix ex: <https://example.org/shapes#> .
ex:OwnerRule a sh:NodeShape ; sh:targetClass jf:Requirement ; sh:order 9 ;
    sh:rule [ a sh:SPARQLRule ; sh:prefixes jfs: ;
        sh:construct "CONSTRUCT { $this jf:owner 'qa' } WHERE { $this jf:status 'approved' }" ] .
"""


@pytest.mark.parametrize("change", ["nothing", "data", "rule", "settings", "cut"])
def test_a_check_reuses_the_recorded_links_only_while_nothing_they_depend_on_changed(
    tmp_path: Path, change: str
) -> None:
    """The rules' links are what a check decides from. Reused, they must be exactly
    what the rules would derive now: a value edited in place (same size), a rule's body
    or a rule switched off makes the next check apply the rules again."""
    (tmp_path / "my-shapes").mkdir()
    (tmp_path / "my-shapes" / "owner.ttl").write_text(USER_SHAPE + OWNER_RULE)
    settings = 'base_iri = "https://example.org/t/"\nshapes = ["my-shapes"]\n'
    (tmp_path / "justify.toml").write_text(settings)
    config = load_config(tmp_path / "justify.toml")
    store = EmbeddedStore(tmp_path / "store", apart=judgement_graphs(config.base_iri))

    def checked() -> tuple[Judgement, list[str]]:
        said: list[str] = []
        config = load_config(tmp_path / "justify.toml")
        return check(config=config, store=store, say=said.append), said

    _replace(store, CASES["threshold-met"][0])
    first, said = checked()
    assert first.statuses == {"R1": "justified"} and not first.results  # the rule: an owner
    assert not [m for m in said if m.startswith("derived links")]
    expected = {
        "nothing": {"R1": "justified"},
        "data": {"R1": "failing"},
        "cut": {"R1": "justified"},
    }
    if change == "data":
        _replace(store, CASES["threshold-failed"][0])  # 0.9 -> 0.5: as many triples
    elif change == "rule":
        rule = OWNER_RULE.replace("'approved'", "'draft'")  # derives no owner for R1
        (tmp_path / "my-shapes" / "owner.ttl").write_text(USER_SHAPE + rule)
    elif change == "settings":  # the pattern rules of this kind of requirement go
        (tmp_path / "justify.toml").write_text(settings + 'disabled_rules = ["JF-PATTERN"]\n')
    elif change == "cut":  # the recorded links cut short at a line's end, as a server might
        check_graph = pyoxigraph.NamedNode("https://example.org/t/graph/check")
        recorded = [q.triple for q in store.quads(check_graph)]
        links = JF.derivedLinks

        def cut(t: pyoxigraph.Triple) -> pyoxigraph.Triple:
            if t.predicate != links:
                return t
            text = t.object.value.rstrip("\n").rsplit("\n", 1)[0] + "\n"
            return pyoxigraph.Triple(t.subject, t.predicate, pyoxigraph.Literal(text))

        assert any(t.predicate == links for t in recorded)
        with store.write() as w:
            w.replace_graph(check_graph, [cut(t) for t in recorded])
    again, said = checked()
    reused = [m for m in said if m.startswith("derived links")]
    assert bool(reused) is (change == "nothing"), said
    if change in expected:
        assert again.statuses == expected[change]
    if change == "rule":
        assert {r.rule for r in again.results} == {"ACME-OWNER"}
    fresh = judge(config=load_config(tmp_path / "justify.toml"), store=store, reuse=False)
    assert sorted(map(str, again.derived)) == sorted(map(str, fresh.derived))
    assert again.results == fresh.results and again.statuses == fresh.statuses


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


def test_a_shape_with_service_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "my-shapes").mkdir()
    (tmp_path / "my-shapes" / "reach.ttl").write_text(
        USER_SHAPE.replace(
            "FILTER NOT EXISTS { $this jf:owner ?o }",
            "FILTER NOT EXISTS { SERVICE <http://127.0.0.1:9/sparql> { $this jf:owner ?o } }",
        )
    )
    store, config = _project(tmp_path, 'shapes = ["my-shapes"]\n', req("R1"))
    for engine in ("fast", "pyshacl"):
        with pytest.raises(ShapeError, match="uses SERVICE"):
            check(engine=engine, config=config, store=store)


def _judged_with_failing_run_named(
    tmp_path: Path, title: str, *, more: str = "", source: str = "r.yaml"
) -> Judgement:
    """R1 (from ``source``, line 3) judged on a run called ``title`` that misses its
    threshold, so the run's name reaches the check's messages."""
    turtle = (
        req("R1", extra="; jf:hasCriterion :c1")
        + crit()
        + run("r", recall="0.1").replace('dcterms:title "r"', f'dcterms:title "{title}"')
        + TAG
    ).replace('jf:sourceFile "r.yaml"', f'jf:sourceFile "{source}" ; jf:sourceLine 3') + more
    store = _store(tmp_path, turtle)
    (tmp_path / "justify.toml").write_text("")
    judged = judge(config=load_config(tmp_path / "justify.toml"), store=store)
    assert any("evil" in r.message for r in judged.results)
    return judged


def test_markdown_summary_cannot_be_broken_by_data(tmp_path: Path) -> None:
    """A run name with a newline, '|' and '<!--' once split the summary's table on GitHub
    and hid every row after it."""
    from markdown_it import MarkdownIt

    from justify.check_formats import to_markdown

    hostile = "evil\\n<!-- hide | the rest `x` ![img](http://127.0.0.1:9/p.png) <img src=x>"
    judged = _judged_with_failing_run_named(
        tmp_path, hostile, more=req("R2") + req("R3", status="draft")
    )
    tokens = MarkdownIt("commonmark").enable("table").parse(to_markdown(judged))
    rows = [t for t in tokens if t.type == "tr_open"]
    assert len(rows) == 1 + 3  # the header and every requirement
    inline = [c for t in tokens for c in t.children or []]
    kinds = {t.type for t in tokens} | {c.type for c in inline}
    assert not kinds & {"html_block", "html_inline", "image", "link_open"}
    # The only code spans are the requirement ids the summary writes itself.
    assert {c.content for c in inline if c.type == "code_inline"} == {"R1", "R2", "R3"}


def test_annotations_and_junit_cannot_be_broken_by_data(tmp_path: Path) -> None:
    """A newline in a message once ended a workflow command early; a ',' or ':' in a
    file name split its properties; a control character made the JUnit file unreadable."""
    import xml.etree.ElementTree as ET

    from justify.check_formats import to_github, to_junit

    hostile = "evil\\n::error::fake %0A ,file=x:\\u001b[31m"
    judged = _judged_with_failing_run_named(tmp_path, hostile, source="odd,name:v2.yaml")
    lines = to_github(judged).splitlines()
    assert len(lines) == len(judged.results) + 1  # one command per result, and the summary
    for line in lines:
        command = line.partition("::")[2].partition("::")[0]
        properties = dict(p.split("=", 1) for p in command.split(" ", 1)[1].split(","))
        assert set(properties) <= {"file", "line", "title"}, line
    failing = next(ln for ln in lines if "evil" in ln)
    assert "evil%0A::error::fake %250A ,file=x:" in failing
    assert "file=odd%2Cname%3Av2.yaml,line=3,title=JF-THRESHOLD::" in failing
    root = ET.fromstring(to_junit(judged).split("\n", 1)[1])  # parses: no forbidden character
    texts = " ".join(e.text or "" for e in root.iter()) + " ".join(
        v for e in root.iter() for v in e.attrib.values()
    )
    assert "evil\n::error::fake" in texts
