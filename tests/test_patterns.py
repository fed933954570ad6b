"""Justification patterns: the built-in ones, pattern files a project writes, and which
requirement follows which pattern (`justify patterns`)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from justify._load import load
from justify._patterns import SELECTORS, read_patterns
from justify.config import load_config
from justify.errors import RequirementFileError
from justify.store import open_store
from tests.helpers import run_justify

KINDS = ("performance", "fairness", "robustness", "data", "process")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def project(tmp_path: Path, requirements: str, patterns: str | None = None) -> Path:
    settings = 'patterns = ["patterns"]\n' if patterns is not None else ""
    write(tmp_path / "justify.toml", settings)
    write(tmp_path / "requirements" / "reqs.yaml", requirements)
    if patterns is not None:
        write(tmp_path / "patterns" / "team.yaml", patterns)
    return tmp_path


REQS = """
requirements:
  - id: R-FAIR
    title: Equal recall
    kind: fairness
    status: approved
    attestations:
      - by: Ada
        role: fairness-reviewer
        date: 2026-01-05
        statement: reviewed the protected attributes
  - id: R-PERF
    title: Recall
    kind: performance
    pattern: screening
  - id: R-OTHER
    title: Something else
    kind: other
"""

TEAM = """
patterns:
  - id: screening
    title: A screening model finds what it must
    conclusion: "{title}"
    strategy:
      label: Recall on held-out data, signed off
      rationale: a missed case costs more than a false alarm
      usage_domain: screening, not diagnosis
    supports:
      - id: recall
        label: recall on the test set
        metric: {key: "*recall*", comparator: ">=", threshold: 0.85, dataset: test}
      - id: sign-off
        label: a clinician's sign-off
        attestation: {role: clinician}
        optional: true
"""


def test_every_kind_has_a_built_in_pattern_with_its_reasoning() -> None:
    patterns = read_patterns([])
    by_kind = {kind: p for p in patterns.values() for kind in p.kinds}
    assert set(KINDS) <= set(by_kind)
    for p in patterns.values():
        assert p.rationale and p.usage_domain and p.strategy, p.id
        assert p.supports and all(s.kind in SELECTORS for s in p.supports), p.id
        assert any(not s.optional for s in p.supports), p.id  # something is needed
        assert all(s.how for s in p.supports), p.id  # elicitation says how to fill it
    fairness = {s.id: s for s in by_kind["fairness"].supports}
    assert fairness["attributes-reviewed"].selector == {"role": "fairness-reviewer"}
    assert fairness["evaluation-data"].selector == {"context": "test", "digest": True}


def test_which_requirement_follows_which_pattern(tmp_path: Path) -> None:
    root = project(tmp_path, REQS, TEAM)
    result = run_justify("patterns", "--format", "json", cwd=root)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    followed = {p["id"]: p["followed_by"] for p in data["patterns"]}
    assert followed["fairness"] == ["R-FAIR"]  # by its kind
    assert followed["screening"] == ["R-PERF"]  # named, over its kind's pattern
    assert followed["performance"] == []
    assert data["without_pattern"] == [{"id": "R-OTHER", "kind": "other"}]
    (screening,) = [p for p in data["patterns"] if p["id"] == "screening"]
    assert screening["file"] == "patterns/team.yaml"
    text = run_justify("patterns", cwd=root).stdout
    assert "screening: A screening model finds what it must  [patterns/team.yaml:2]" in text
    assert "  - sign-off (optional): a clinician's sign-off [attestation: role=clinician]" in text
    assert "no pattern covers: R-OTHER (kind other)" in text


def test_a_pattern_for_two_kinds_is_followed_by_requirements_of_either(tmp_path: Path) -> None:
    # Each kind is matched on its own in the rules: a requirement of either kind
    # follows the pattern, unless it names another pattern.
    both = TEAM.replace("id: screening", "id: performance").replace(
        "    title: A screening model finds what it must\n",
        "    title: A screening model finds what it must\n"
        "    applies_to: {kinds: [performance, other]}\n",
    )
    reqs = REQS.replace("pattern: screening", "pattern: fairness")
    root = project(tmp_path, reqs, both)
    result = run_justify("patterns", "--format", "json", cwd=root)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    followed = {p["id"]: p["followed_by"] for p in data["patterns"]}
    assert followed["performance"] == ["R-OTHER"]  # by its second kind
    assert followed["fairness"] == ["R-FAIR", "R-PERF"]  # by kind, and named over its kind
    assert data["without_pattern"] == []
    # The check's rules say the same in the graph.
    from justify.judgement import judge

    config = load_config(root / "justify.toml")
    load(config=config)
    in_graph: dict[str, list[str]] = {}
    for t in judge(config=config).derived:
        if t.predicate.value.endswith("#followsPattern"):
            pid = t.object.value.rsplit("/", 1)[-1]
            in_graph.setdefault(pid, []).append(t.subject.value.rsplit("/", 1)[-1])
    assert {pid: sorted(ids) for pid, ids in in_graph.items()} == {
        pid: ids for pid, ids in followed.items() if ids
    }


def test_a_project_pattern_replaces_the_built_in_one_of_the_same_id(tmp_path: Path) -> None:
    mine = TEAM.replace("id: screening", "id: fairness")
    root = project(tmp_path, REQS.replace("pattern: screening", ""), mine)
    patterns = read_patterns([root / "patterns"], root=root)
    assert patterns["fairness"].title == "A screening model finds what it must"
    assert patterns["fairness"].kinds == ()  # it names no kind: only `pattern:` picks it


def test_the_attestation_role_and_the_pattern_name_are_in_the_graph(tmp_path: Path) -> None:
    root = project(tmp_path, REQS, TEAM)
    config = load_config(root / "justify.toml")
    load(config=config)
    rows = (
        open_store(config.store_location)
        .query(
            """PREFIX jf: <https://w3id.org/justify/ns#>
               PREFIX dcterms: <http://purl.org/dc/terms/>
               SELECT ?id ?pattern ?role WHERE { ?r dcterms:identifier ?id .
                 OPTIONAL { ?r jf:patternName ?pattern }
                 OPTIONAL { ?r jf:hasAttestation/jf:attestedAs ?role } } ORDER BY ?id"""
        )
        .values()
    )
    assert rows == [
        {"id": "R-FAIR", "pattern": None, "role": "fairness-reviewer"},
        {"id": "R-OTHER", "pattern": None, "role": None},
        {"id": "R-PERF", "pattern": "screening", "role": None},
    ]


BAD = {
    "two selectors": (
        """
        patterns:
          - id: p
            title: t
            conclusion: c
            strategy: {label: l, rationale: r, usage_domain: u}
            supports:
              - id: s
                label: l
                criterion: {}
                attestation: {role: x}
        """,
        7,
        "needs exactly one evidence selector",
    ),
    "unknown selector field": (
        """
        patterns:
          - id: p
            title: t
            conclusion: c
            strategy: {label: l, rationale: r, usage_domain: u}
            supports:
              - id: s
                label: l
                attestation: {role: x, rank: 3}
        """,
        9,
        "unknown field 'rank' in the attestation selector of slot 's'",
    ),
    "a NaN threshold": (
        """
        patterns:
          - id: p
            title: t
            conclusion: c
            strategy: {label: l, rationale: r, usage_domain: u}
            supports:
              - id: s
                label: l
                metric: {key: recall, comparator: ">=", threshold: .nan}
        """,
        9,
        "the threshold of slot 's' of pattern 'p' must be a finite number",
    ),
    "no strategy": (
        """
        patterns:
          - id: p
            title: t
            conclusion: c
            supports:
              - id: s
                label: l
                criterion: {}
        """,
        2,
        "pattern 'p' needs 'strategy'",
    ),
    "the same pattern twice": (
        """
        patterns:
          - id: p
            title: t
            conclusion: c
            strategy: {label: l, rationale: r, usage_domain: u}
            supports: [{id: s, label: l, criterion: {}}]
          - id: p
            title: t
            conclusion: c
            strategy: {label: l, rationale: r, usage_domain: u}
            supports: [{id: s, label: l, criterion: {}}]
        """,
        7,
        "pattern 'p' is defined twice in this folder (first at patterns/team.yaml:2)",
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_a_malformed_pattern_file_names_file_and_line(case: str, tmp_path: Path) -> None:
    text, line, message = BAD[case]
    root = project(tmp_path, REQS.replace("pattern: screening", ""), text)
    result = run_justify("patterns", cwd=root)
    assert result.returncode == 2, result.stdout
    assert f"patterns/team.yaml:{line}: " in result.stderr and message in result.stderr, (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_requirement_naming_an_unknown_pattern_is_an_error(tmp_path: Path) -> None:
    root = project(tmp_path, REQS.replace("pattern: screening", "pattern: screenin"))
    result = run_justify("patterns", cwd=root)
    assert result.returncode == 2
    assert "requirements/reqs.yaml:11: 'R-PERF' names pattern 'screenin'" in result.stderr
    with pytest.raises(RequirementFileError):
        read_patterns([root / "nowhere"], root=root)


def test_the_readme_pattern_example_is_a_valid_pattern_file(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Justification patterns") :]
    example = section[section.index("```yaml\n") + 8 :].split("```", 1)[0]
    write(tmp_path / "patterns" / "screening.yaml", example)
    (screening,) = [
        p for p in read_patterns([tmp_path / "patterns"]).values() if p.id == "screening"
    ]
    assert [(s.id, s.kind, s.optional) for s in screening.supports] == [
        ("recall", "metric", False),
        ("sign-off", "attestation", True),
    ]
    assert screening.kinds == ("performance",) and screening.agree == ("model_version",)


def test_init_scaffolds_a_requirement_that_follows_a_pattern(tmp_path: Path) -> None:
    result = run_justify("init", str(tmp_path / "p"), "--pattern", "fairness", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "p" / "requirements" / "fairness.yaml").read_text(encoding="utf-8")
    # Every slot is written out with how to fill it; the role the pattern asks for too.
    for slot in ("gap", "attributes-reviewed", "evaluation-data"):
        assert f"# support '{slot}'" in written
    assert "role: fairness-reviewer" in written and "how: log the test set" in written
    root = tmp_path / "p"
    assert run_justify("load", cwd=root).returncode == 0  # a valid draft, as written
    data = json.loads(run_justify("patterns", "--format", "json", cwd=root).stdout)
    followed = {p["id"]: p["followed_by"] for p in data["patterns"]}
    assert followed["fairness"] == ["REQ-FAIRNESS-1"]
    again = run_justify("init", str(root), "--pattern", "fairness", cwd=tmp_path)
    assert "kept" in again.stdout and "requirements/fairness.yaml" in again.stdout


def test_init_names_an_unknown_pattern_before_writing_anything(tmp_path: Path) -> None:
    result = run_justify("init", str(tmp_path / "q"), "--pattern", "fairnes", cwd=tmp_path)
    assert result.returncode == 2
    assert "no justification pattern 'fairnes'" in result.stderr and "fairness" in result.stderr
    assert not (tmp_path / "q").exists()


# ------------------------------------------------------------- checking patterns

# One pattern per selector kind (and one with an agreement), named by the requirement
# (jf:patternName): the cases below run through both engines.
CASE_PATTERNS = """
patterns:
  - id: p-crit
    title: t
    conclusion: "{title}"
    strategy: {label: s, rationale: r, usage_domain: d}
    supports:
      - {id: recall, label: recall stated and measured, criterion: {metric: recall}, how: state it}
  - id: p-metric
    title: t
    conclusion: "{title}"
    strategy: {label: s, rationale: r, usage_domain: d}
    supports:
      - {id: gap, label: a small gap, metric: {key: gap, comparator: "<=", threshold: 0.1}}
  - id: p-data
    title: t
    conclusion: "{title}"
    strategy: {label: s, rationale: r, usage_domain: d}
    supports:
      - {id: test-data, label: test data with digest, dataset: {context: test, digest: true}}
  - id: p-commit
    title: t
    conclusion: "{title}"
    strategy: {label: s, rationale: r, usage_domain: d}
    supports:
      - {id: code, label: code change, commit: {path: "src/**/*.py", trailer: true}}
  - id: p-att
    title: t
    conclusion: "{title}"
    strategy: {label: s, rationale: r, usage_domain: d}
    supports:
      - {id: review, label: reviewed, attestation: {role: reviewer}}
      - {id: extra, label: second look, attestation: {role: auditor}, optional: true}
  - id: p-sub
    title: t
    conclusion: "{title}"
    strategy: {label: s, rationale: r, usage_domain: d}
    supports:
      - {id: parts, label: performance parts, requirement: {kind: performance}}
  - id: p-query
    title: t
    conclusion: "{title}"
    strategy: {label: s, rationale: r, usage_domain: d}
    supports:
      - id: owned
        label: an owner
        query: {ask: "PREFIX jf: <https://w3id.org/justify/ns#>\\nASK { $this jf:owner ?who }"}
  - id: p-agree
    title: t
    conclusion: "{title}"
    strategy: {label: s, rationale: r, usage_domain: d}
    supports:
      - {id: recall, label: recall, criterion: {}}
    agree: [model_version]
  - id: p-commit-agree
    title: t
    conclusion: "{title}"
    strategy: {label: s, rationale: r, usage_domain: d}
    supports:
      - {id: recall, label: recall, criterion: {}}
    agree: [commit]
  - id: p-data-agree
    title: t
    conclusion: "{title}"
    strategy: {label: s, rationale: r, usage_domain: d}
    supports:
      - {id: recall, label: recall, criterion: {}}
    agree: [dataset_digest]
"""

PFX = """
@prefix jf: <https://w3id.org/justify/ns#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix : <https://example.org/t/> .
"""


def follower(pattern: str, extra: str = "", name: str = "R1", kind: str = "other") -> str:
    return (
        f':{name} a jf:Requirement ; dcterms:identifier "{name}" ; dcterms:title "{name}" ; '
        f'jf:kind "{kind}" ; jf:status "approved" ; jf:sourceFile "r.yaml" ; '
        f'jf:patternName "{pattern}" {extra} .\n'
    )


def finished(name: str = "r", measurements: str = "", supports: str = "R1") -> str:
    return (
        f':{name} a jf:Run ; dcterms:title "{name}" ; jf:runStatus "finished" ; '
        f'jf:supports :{supports} ; prov:startedAtTime "2026-01-01T00:00:00Z"^^xsd:dateTime ; '
        f'prov:endedAtTime "2026-01-02T00:00:00Z"^^xsd:dateTime .\n{measurements}'
    )


def measured(run: str, key: str, value: str) -> str:
    return f':{run} jf:hasMeasurement [ jf:metricKey "{key}" ; jf:value "{value}"^^xsd:double ] .\n'


RECALL = (
    ':c1 a jf:AcceptanceCriterion ; jf:metricKey "recall" ; jf:comparator ">=" ; '
    'jf:threshold "0.8"^^xsd:double .\n'
)
USED_TEST = (
    ':r prov:qualifiedUsage :u . :u prov:entity :ds ; jf:context "test" . '
    ':ds dcterms:title "test" .\n'
)
ATTESTED = ':a1 a jf:Attestation ; jf:attestedAs "someone-else" .\n'


def candidate(pattern: str, produced_by: str = "old") -> str:
    """R1 follows ``pattern`` and is scoped to model m, whose version 1 the run
    ``produced_by`` made; its current evidence is run r (``old``, when it made the
    version, is an older run that supports nothing else)."""
    text = (
        follower(pattern, '; jf:hasCriterion :c1 ; jf:scopeModelName "m"')
        + RECALL
        + finished(measurements=measured("r", "recall", "0.9"))
    )
    if produced_by != "r":
        measurements = measured(produced_by, "recall", "0.9")
        text += finished(produced_by, measurements=measurements, supports="nobody")
    return text + (
        ':m a jf:RegisteredModel ; dcterms:title "m" . :v a jf:ModelVersion ; jf:versionOf :m ; '
        f"jf:versionNumber 1 ; jf:producedBy :{produced_by} .\n"
    )


def aliased(champion: str) -> str:
    """R1 follows p-agree, scoped to m@champion; run r (its current evidence) made
    version 1, an older run made version 2; the alias is on ``champion``."""
    return (
        follower(
            "p-agree", '; jf:hasCriterion :c1 ; jf:scopeModelName "m" ; jf:scopeAlias "champion"'
        )
        + RECALL
        + finished(measurements=measured("r", "recall", "0.9"))
        + finished("old", measurements=measured("old", "recall", "0.9"), supports="nobody")
        + ':m a jf:RegisteredModel ; dcterms:title "m" .\n'
        + ":v1 a jf:ModelVersion ; jf:versionOf :m ; jf:versionNumber 1 ; jf:producedBy :r .\n"
        + ":v2 a jf:ModelVersion ; jf:versionOf :m ; jf:versionNumber 2 ; jf:producedBy :old .\n"
        + f':{champion} jf:alias "champion" .\n'
    )


# case -> (data, expected (rule, focus, value is the focus?), status of R1)
PATTERN_CASES: dict[str, tuple[str, set[tuple[str, str, bool]], str]] = {
    "criterion-filled": (
        follower("p-crit", "; jf:hasCriterion :c1")
        + RECALL
        + finished(measurements=measured("r", "recall", "0.9")),
        set(),
        "justified",
    ),
    "criterion-missing-other-evidence": (
        follower("p-crit", "; jf:hasAttestation :a1") + ATTESTED,
        {("JF-PATTERN-p-crit-recall", "R1", True)},
        "unjustified",
    ),
    "criterion-without-any-evidence-is-JF-EVIDENCE-alone": (
        follower("p-crit", "; jf:hasCriterion :c1") + RECALL,
        {("JF-EVIDENCE", "R1", True)},
        "unjustified",
    ),
    "metric-met": (
        follower("p-metric") + finished(measurements=measured("r", "gap", "0.05")),
        set(),
        "justified",
    ),
    "metric-missed-is-judged-like-a-criterion": (
        follower("p-metric") + finished(measurements=measured("r", "gap", "0.2")),
        {("JF-THRESHOLD", "R1", False)},
        "failing",
    ),
    "metric-nan-is-not-met": (  # MLflow logs NaN; a NaN gap is not a small gap
        follower("p-metric") + finished(measurements=measured("r", "gap", "NaN")),
        {("JF-THRESHOLD", "R1", False)},
        "failing",
    ),
    "a-later-failed-run-fills-nothing": (
        follower("p-crit", "; jf:hasCriterion :c1")
        + RECALL
        + finished(measurements=measured("r", "recall", "0.9"))
        + ':f a jf:Run ; dcterms:title "f" ; jf:runStatus "failed" ; jf:supports :R1 ; '
        'prov:startedAtTime "2026-01-03T00:00:00Z"^^xsd:dateTime ; '
        'prov:endedAtTime "2026-01-04T00:00:00Z"^^xsd:dateTime .\n'
        + measured("f", "recall", "0.1"),
        {("JF-FINISHED", "R1", True)},  # a warning: the slot is filled by run r
        "justified",
    ),
    "metric-not-logged": (
        follower("p-metric") + finished(measurements=measured("r", "other", "0.2")),
        {("JF-METRIC", "R1", False)},
        "failing",
    ),
    "dataset-with-digest": (
        follower("p-data") + finished() + USED_TEST + ':ds jf:digest "abc" .\n',
        set(),
        "justified",
    ),
    "dataset-without-digest-fails": (
        follower("p-data") + finished() + USED_TEST,
        {("JF-PATTERN-p-data-test-data", "R1", False)},
        "failing",
    ),
    "dataset-in-another-context-is-missing": (
        follower("p-data")
        + finished()
        + ':r prov:qualifiedUsage :u . :u prov:entity :ds ; jf:context "training" .\n'
        + ':ds jf:digest "abc" .\n',
        {("JF-PATTERN-p-data-test-data", "R1", True)},
        "unjustified",
    ),
    "commit-touching-the-path": (
        follower("p-commit")
        + ':k a jf:Commit ; jf:supports :R1 ; jf:hasFileChange [ jf:path "src/pkg/model.py" ] .\n',
        set(),
        "justified",
    ),
    "commit-elsewhere-is-missing": (
        follower("p-commit")
        + ':k a jf:Commit ; jf:supports :R1 ; jf:hasFileChange [ jf:path "docs/model.md" ] .\n',
        {("JF-PATTERN-p-commit-code", "R1", True)},
        "unjustified",
    ),
    "attestation-by-the-role": (
        follower("p-att", "; jf:hasAttestation :a1")
        + ':a1 a jf:Attestation ; jf:attestedAs "reviewer" .\n',
        set(),
        "justified",
    ),
    "attestation-by-another-role-is-missing": (
        follower("p-att", "; jf:hasAttestation :a1") + ATTESTED,
        {("JF-PATTERN-p-att-review", "R1", True)},
        "unjustified",
    ),
    "sub-requirement-of-the-kind": (
        follower("p-sub")
        + follower("p-att", "; jf:parent :R1 ; jf:hasAttestation :a2", name="C", kind="performance")
        + ':a2 a jf:Attestation ; jf:attestedAs "reviewer" .\n',
        set(),
        "justified",
    ),
    "sub-requirement-of-another-kind-is-missing": (
        follower("p-sub")
        + follower("p-att", "; jf:parent :R1 ; jf:hasAttestation :a2", name="C", kind="data")
        + ':a2 a jf:Attestation ; jf:attestedAs "reviewer" .\n',
        {("JF-PATTERN-p-sub-parts", "R1", True)},
        "unjustified",
    ),
    "query-true": (
        follower("p-query", '; jf:owner "ml-team" ; jf:hasAttestation :a1') + ATTESTED,
        set(),
        "justified",
    ),
    "query-false-is-missing": (
        follower("p-query", "; jf:hasAttestation :a1") + ATTESTED,
        {("JF-PATTERN-p-query-owned", "R1", True)},
        "unjustified",
    ),
    "supports-about-another-model-version": (
        candidate("p-agree"),
        {("JF-PATTERN-p-agree-same-model_version", "R1", False)},
        "failing",
    ),
    # The alias moves: the same runs, the champion on the version the current evidence
    # made, then on one an older run made.
    "alias-on-the-evaluated-version": (
        aliased("v1"),
        set(),
        "justified",
    ),
    "alias-moved-to-another-version": (
        aliased("v2"),
        {("JF-PATTERN-p-agree-same-model_version", "R1", False)},
        "failing",
    ),
    "supports-made-at-another-commit": (
        candidate("p-commit-agree")
        + ':r jf:gitCommitSha "aaa" . :old jf:gitCommitSha "bbb" .\n'
        + ':ka a jf:Commit ; jf:gitCommitSha "aaa" . :kb a jf:Commit ; jf:gitCommitSha "bbb" .\n',
        {("JF-PATTERN-p-commit-agree-same-commit", "R1", False)},
        "failing",
    ),
    "supports-on-another-digest": (
        candidate("p-data-agree")
        + ':r jf:usedDataset :d1 . :d1 dcterms:title "test" ; jf:digest "x" .\n'
        + ':old jf:usedDataset :d2 . :d2 dcterms:title "test" ; jf:digest "y" .\n',
        {("JF-PATTERN-p-data-agree-same-dataset_digest", "R1", False)},
        "failing",
    ),
    "supports-agreeing": (
        candidate("p-data-agree", produced_by="r")
        + ':r jf:usedDataset :d1 . :d1 dcterms:title "test" ; jf:digest "x" .\n',
        set(),
        "justified",
    ),
    "unknown-pattern-name": (
        follower("p-nowhere") + finished(),
        {("JF-PATTERN", "R1", False)},
        "failing",
    ),
}


@pytest.mark.parametrize("case", list(PATTERN_CASES), ids=list(PATTERN_CASES))
def test_pattern_slots_are_checked_by_both_engines(case: str, tmp_path: Path) -> None:
    import pyoxigraph

    from justify.judgement import judge
    from justify.store import EmbeddedStore

    turtle, expected, status = PATTERN_CASES[case]
    write(tmp_path / "justify.toml", 'patterns = ["patterns"]\n')
    write(tmp_path / "patterns" / "cases.yaml", CASE_PATTERNS)
    store = EmbeddedStore(tmp_path / "store")
    data = pyoxigraph.parse((PFX + turtle).encode(), format=pyoxigraph.RdfFormat.TURTLE)
    with store.write() as w:
        w.add(pyoxigraph.NamedNode("https://example.org/t/graph/test"), [q.triple for q in data])
    config = load_config(tmp_path / "justify.toml")
    fast = judge(engine="fast", config=config, store=store)
    reference = judge(engine="pyshacl", config=config, store=store)

    def seen(results: list) -> set[tuple[str, str, bool]]:
        return {(r.rule, r.focus.rsplit("/", 1)[-1], r.value in (None, r.focus)) for r in results}

    assert seen(fast.results) == expected
    assert fast.results == reference.results
    assert fast.requirements["R1"].status == status == reference.requirements["R1"].status
    # The materialised justification: a support per slot, linked to what fills it.
    derived = {
        (t.subject.value, t.predicate.value, getattr(t.object, "value", "")) for t in fast.derived
    }
    conforms = any(
        p.endswith("#conformsTo") and s.endswith("/R1/justification") for s, p, _ in derived
    )
    # Conforming is having every mandatory slot filled; failing evidence is the check's.
    assert conforms == (status != "unjustified" and case != "unknown-pattern-name")


# ------------------------------------------------------- on the demo, end to end


@pytest.fixture(scope="module")
def demo_copy(demo_template, tmp_path_factory: pytest.TempPathFactory):
    from tests.explorer_env import copy_demo

    return copy_demo(demo_template, tmp_path_factory.mktemp("patterns") / "ws")


def test_elicit_lists_what_each_slot_needs(demo_copy) -> None:
    text = run_justify("elicit", "REQ-FAIR-1", cwd=demo_copy.directory)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "REQ-FAIR-1 (failing): Equal recall across tumour sizes"
    review = next(i for i, line in enumerate(lines) if "attributes-reviewed" in line)
    assert (
        lines[review].strip().startswith("[ ] attributes-reviewed") and "missing" in lines[review]
    )
    assert "role: fairness-reviewer" in lines[review + 1]
    assert any("[!] gap" in line and "failing" in line for line in lines)
    assert any("[x] evaluation-data" in line for line in lines)

    data = json.loads(run_justify("elicit", "--format", "json", cwd=demo_copy.directory).stdout)[
        "requirements"
    ]
    # Sub-requirements first: REQ-TOP-1 rests on REQ-PREC-1 and REQ-REC-1.
    order = [r["requirement"] for r in data]
    assert order.index("REQ-PREC-1") < order.index("REQ-TOP-1")
    by_id = {r["requirement"]: r for r in data}
    assert by_id["REQ-REC-1"]["conforms"] and by_id["REQ-REC-1"]["to_do"] == 0
    assert by_id["REQ-TOP-1"]["pattern"] is None  # kind other: no pattern
    # The team's pattern's job_run slot, filled by the validation job's OpenLineage run.
    data_req = by_id["REQ-DATA-1"]
    assert (data_req["pattern"], data_req["conforms"], data_req["to_do"]) == (
        "validated-data",
        True,
        0,
    )
    validation = next(s for s in data_req["slots"] if s["id"] == "validation")
    assert validation["kind"] == "job_run" and validation["state"] == "filled"
    assert "/openlineage/run/" in validation["evidence"][0]

    out = demo_copy.directory / "todo.md"
    md = run_justify("elicit", "--format", "markdown", "-o", str(out), cwd=demo_copy.directory)
    # REQ-FAIR-1's failing gap and missing review; REQ-LAT-1's metrics come from DVC now.
    assert md.returncode == 0 and "2 slots to fill or fix" in md.stdout
    markdown = out.read_text(encoding="utf-8")
    assert markdown.startswith("## Justifications to complete: 2 slots")
    assert "- [ ] **attributes-reviewed**" in markdown and "- [x] **metrics**" in markdown

    unknown = run_justify("elicit", "REQ-FAI", cwd=demo_copy.directory)
    assert unknown.returncode == 2 and "did you mean REQ-FAIR-1" in unknown.stderr


def test_the_justification_query_shows_the_materialised_justifications(demo_copy) -> None:
    rows = json.loads(
        run_justify("query", "justification", "--format", "json", cwd=demo_copy.directory).stdout
    )
    rows = rows["results"]["bindings"]  # SPARQL 1.1 JSON results

    def value(row: dict, key: str) -> str | None:
        return row[key]["value"] if key in row else None

    slots = {(value(r, "id"), value(r, "slot")): r for r in rows}
    review = slots[("REQ-FAIR-1", "attributes-reviewed")]
    assert value(review, "evidence") is None and value(review, "conforms") == "false"
    metrics = slots[("REQ-REC-1", "metrics")]
    assert "/run/" in (value(metrics, "evidence") or "") and value(metrics, "conforms") == "true"


def test_roles_in_the_configuration_catch_a_mistyped_role(tmp_path: Path) -> None:
    write(tmp_path / "justify.toml", 'roles = ["fairness-reviewer", "data-steward"]\n')
    write(
        tmp_path / "requirements" / "reqs.yaml",
        """
        requirements:
          - id: R-FAIR
            title: Equal recall
            kind: fairness
            attestations:
              - by: Ada
                role: fairness-reviwer
                date: 2026-01-05
                statement: reviewed the protected attributes
        """,
    )
    loaded = run_justify("load", cwd=tmp_path)
    assert loaded.returncode == 2
    assert re.search(r"requirements/reqs.yaml:\d+: the attestation by Ada on 'R-FAIR' names the "
                     r"role 'fairness-reviwer'", loaded.stderr)  # fmt: skip
    # A built-in pattern asks for roles the list lacks: the pattern file is named.
    listed = run_justify("patterns", cwd=tmp_path)
    assert listed.returncode == 2
    assert "(built-in) process.yaml" in listed.stderr and "'process-owner'" in listed.stderr


def test_elicit_and_the_jpipe_export_refuse_an_empty_store(tmp_path: Path) -> None:
    """A to-do list of nothing would read as "nothing to do": exit 2, nothing written."""
    write(tmp_path / "justify.toml", "")
    for args in (("elicit",), ("export", "--format", "jpipe", "-o", "out")):
        done = run_justify(*args, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert "no requirement in the store" in done.stderr and "justify load" in done.stderr
    assert not (tmp_path / "out").exists()
