"""Requirement files: what loads, what is kept, and every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import write

import justify
from justify.config import Config
from justify.errors import RequirementFileError
from justify.requirements import read_requirements
from justify.store import EmbeddedStore

GOOD = """\
requirements:
  - id: REQ-TOP-1
    title: Fit for release
    kind: other
    status: approved
  - id: REQ-REC-1
    title: Fraud model recall
    statement: The fraud classifier shall reach a recall of at least 0.85.
    kind: performance
    status: approved
    priority: high
    parent: REQ-TOP-1
    rationale: Missed fraud is costly.
    owner: ml-team
    model: fraud-detector@champion
    experiment: fraud-training
    review_board: guild            # unknown: kept as an annotation
    tags: [a, b]
    criteria:
      - metric: test_recall
        op: ">="
        threshold: 0.85
        dataset: test
        note: from the audit      # unknown: kept too
      - metric: test_loss
        op: "<"
        threshold: 1
"""


def requirement_ids(store: EmbeddedStore) -> set[str]:
    result = store.query(
        "SELECT ?id WHERE { ?r a <https://w3id.org/justify/ns#Requirement> ; "
        "<http://purl.org/dc/terms/identifier> ?id }"
    )
    return {row[0].value for row in result.rows}  # type: ignore[attr-defined]


def test_core_fields_become_triples(tmp_path: Path) -> None:
    write(tmp_path / "justify.toml", 'base_iri = "https://example.org/t/"\n')
    write(tmp_path / "requirements" / "a.yaml", GOOD)
    config = justify.load_config(tmp_path / "justify.toml")
    summary = justify.load(config=config)
    assert summary.requirements == 2
    assert summary.criteria == 2
    assert summary.files == ("requirements/a.yaml",)

    rec = justify.query(
        """SELECT ?title ?statement ?kind ?status ?priority ?rationale ?owner ?scope ?name
                  ?alias ?experiment ?file ?line ?parent WHERE {
             ?r dcterms:identifier "REQ-REC-1" ; dcterms:title ?title ; jf:statement ?statement ;
                jf:kind ?kind ; jf:status ?status ; jf:priority ?priority ;
                jf:rationale ?rationale ; jf:owner ?owner ; jf:modelScope ?scope ;
                jf:scopeModelName ?name ; jf:scopeAlias ?alias ; jf:experimentName ?experiment ;
                jf:sourceFile ?file ; jf:sourceLine ?line ;
                jf:parent/dcterms:identifier ?parent }""",
        config=config,
    ).values()
    assert rec == [
        {
            "title": "Fraud model recall",
            "statement": "The fraud classifier shall reach a recall of at least 0.85.",
            "kind": "performance",
            "status": "approved",
            "priority": "high",
            "rationale": "Missed fraud is costly.",
            "owner": "ml-team",
            "scope": "fraud-detector@champion",
            "name": "fraud-detector",
            "alias": "champion",
            "experiment": "fraud-training",
            "file": "requirements/a.yaml",
            "line": "6",
            "parent": "REQ-TOP-1",
        }
    ]
    criteria = justify.query(
        """SELECT ?metric ?op ?threshold ?dataset ?line WHERE {
             ?r dcterms:identifier "REQ-REC-1" ; jf:hasCriterion ?c .
             ?c jf:metricKey ?metric ; jf:comparator ?op ; jf:threshold ?threshold ;
                jf:sourceLine ?line . OPTIONAL { ?c jf:datasetRef ?dataset } } ORDER BY ?line""",
        config=config,
    ).values()
    for row in criteria:
        row["threshold"] = float(row["threshold"])  # type: ignore[arg-type]
    assert criteria == [
        {"metric": "test_recall", "op": ">=", "threshold": 0.85, "dataset": "test", "line": "20"},
        {"metric": "test_loss", "op": "<", "threshold": 1.0, "dataset": None, "line": "25"},
    ]
    # The top requirement gets a default-free record: no priority, status as given.
    top = justify.query(
        'SELECT ?status ?kind WHERE { ?r dcterms:identifier "REQ-TOP-1" ; jf:status ?status ; '
        "jf:kind ?kind }",
        config=config,
    ).values()
    assert top == [{"status": "approved", "kind": "other"}]


def test_model_scope_by_version_and_content_hash(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.yaml",
        "requirements:\n  - id: A\n    title: a\n    model: clf/3\n"
        "  - id: B\n    title: b\n    model: clf@champion\n",
    )
    a, b = read_requirements([path])
    assert (a.model_name, a.model_alias, a.model_version) == ("clf", None, 3)
    assert (b.model_name, b.model_alias, b.model_version) == ("clf", "champion", None)
    assert a.content_hash and a.content_hash != b.content_hash


def test_unknown_fields_are_kept_as_annotations(tmp_path: Path) -> None:
    write(tmp_path / "justify.toml", "")
    write(tmp_path / "requirements" / "a.yaml", GOOD)
    config = justify.load_config(tmp_path / "justify.toml")
    justify.load(config=config)
    rows = justify.query(
        """SELECT ?owner ?key ?value WHERE { ?o jf:hasAnnotation ?a . ?a jf:key ?key ;
             jf:textValue ?value . ?o rdfs:label ?owner } ORDER BY ?key""",
        config=config,
    ).values()
    by_key = {r["key"]: r for r in rows}
    assert by_key["review_board"]["value"] == "guild"
    assert json.loads(by_key["tags"]["value"]) == ["a", "b"]
    assert by_key["note"]["value"] == "from the audit"
    assert by_key["note"]["owner"] == "test_recall >= 0.85 on test"


def test_attestations_become_evidence(tmp_path: Path) -> None:
    write(tmp_path / "justify.toml", "")
    write(
        tmp_path / "requirements" / "a.yaml",
        """requirements:
  - id: PROC-1
    title: Model card reviewed
    kind: other
    status: approved
    attestations:
      - by: Grace Hopper
        date: 2026-01-05
        statement: The model card was reviewed with the clinical team.
        link: https://example.org/reviews/42
""",
    )
    config = justify.load_config(tmp_path / "justify.toml")
    justify.load(config=config)
    rows = justify.query(
        """SELECT ?by ?date ?statement ?link WHERE { ?r dcterms:identifier "PROC-1" ;
             jf:hasAttestation ?a . ?a jf:supports ?r ; jf:attestedBy ?by ; dcterms:date ?date ;
             jf:statement ?statement ; jf:link ?link }""",
        config=config,
    ).values()
    assert rows == [
        {
            "by": "Grace Hopper",
            "date": "2026-01-05",
            "statement": "The model card was reviewed with the clinical team.",
            "link": "https://example.org/reviews/42",
        }
    ]
    assert justify.check(config=config).statuses == {"PROC-1": "justified"}


def test_defaults_and_parents_list(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.yml",
        """\
requirements:
  - id: A
    title: a
  - id: B
    title: b
  - id: C
    title: c
    parents: [A, B]
""",
    )
    reqs = {r.id: r for r in read_requirements([path])}
    assert reqs["A"].status == "draft" and reqs["A"].kind == "other"
    assert reqs["C"].parents == ("A", "B")


def test_folders_are_searched_for_yaml_and_yml(tmp_path: Path) -> None:
    write(tmp_path / "justify.toml", "")
    write(tmp_path / "requirements" / "x" / "a.yml", "requirements:\n  - id: A\n    title: a\n")
    write(tmp_path / "requirements" / "b.yaml", "requirements:\n  - id: B\n    title: b\n")
    write(tmp_path / "requirements" / "notes.txt", "not read")
    summary = justify.load(config=justify.load_config(tmp_path / "justify.toml"))
    assert sorted(summary.files) == ["requirements/b.yaml", "requirements/x/a.yml"]


# Each case: files to write, and the problems expected as (file, line, words in the message).
BAD_CASES = {
    "yaml-syntax": (
        {"a.yaml": 'requirements:\n  - id: A\n    title: "unterminated\n'},
        [("a.yaml", 4, "YAML syntax error")],
    ),
    "yaml-bad-indent": (
        {"a.yaml": "requirements:\n  - id: A\n   title: x\n  - id: B\n"},
        [("a.yaml", 3, "YAML syntax error")],
    ),
    "missing-id-and-title": (
        {"a.yaml": "requirements:\n  - statement: no id\n  - id: B\n"},
        [
            ("a.yaml", 2, "missing required field 'id'"),
            ("a.yaml", 2, "missing required field 'title'"),
            ("a.yaml", 3, "missing required field 'title'"),
        ],
    ),
    "wrong-types": (
        {
            "a.yaml": "requirements:\n  - id: A\n    title: [x]\n    owner: 3\n"
            "    criteria:\n      - metric: m\n        op: '>='\n        threshold: 'high'\n"
        },
        [
            ("a.yaml", 3, "'title' must be non-empty text, got a list"),
            ("a.yaml", 4, "'owner' must be non-empty text, got a number (3)"),
            ("a.yaml", 8, "'threshold' must be a number, got text ('high')"),
        ],
    ),
    "boolean-threshold": (
        {
            "a.yaml": "requirements:\n  - id: A\n    title: a\n    criteria:\n"
            "      - {metric: m, op: '>=', threshold: yes}\n"
        },
        [("a.yaml", 5, "'threshold' must be a number, got a boolean (true)")],
    ),
    "unknown-kind-status-op-priority": (
        {
            "a.yaml": "requirements:\n  - id: A\n    title: a\n    kind: speed\n    status: done\n"
            "    priority: urgent\n    criteria:\n      - metric: m\n        op: '=>'\n"
            "        threshold: 1\n"
        },
        [
            ("a.yaml", 4, "unknown kind 'speed'"),
            ("a.yaml", 5, "unknown status 'done'"),
            ("a.yaml", 6, "unknown priority 'urgent'"),
            ("a.yaml", 9, "unknown op '=>'"),
        ],
    ),
    "bad-id": (
        {"a.yaml": "requirements:\n  - id: 1-REQ\n    title: a\n  - id: 42\n    title: b\n"},
        [("a.yaml", 2, "id '1-REQ' is not valid"), ("a.yaml", 4, "'id' must be non-empty text")],
    ),
    "duplicate-id-across-files": (
        {
            "a.yaml": "requirements:\n  - id: A\n    title: a\n",
            "b.yaml": "# another file\nrequirements:\n  - id: B\n    title: b\n"
            "  - id: A\n    title: again\n",
        },
        [("b.yaml", 5, "duplicate id 'A': already defined at requirements/a.yaml:2")],
    ),
    "unknown-parent": (
        {"a.yaml": "requirements:\n  - id: A\n    title: a\n    parent: NOPE\n"},
        [("a.yaml", 2, "'A' names parent 'NOPE', which is not defined")],
    ),
    "parent-cycle": (
        {
            "a.yaml": "requirements:\n  - id: A\n    title: a\n    parent: C\n"
            "  - id: B\n    title: b\n    parent: A\n",
            "c.yaml": "requirements:\n  - id: C\n    title: c\n    parent: B\n",
        },
        [("a.yaml", 2, "parent cycle: A -> C -> B -> A")],
    ),
    "self-parent": (
        {"a.yaml": "requirements:\n  - id: A\n    title: a\n    parent: A\n"},
        [("a.yaml", 2, "parent cycle: A -> A")],
    ),
    "duplicate-field": (
        {"a.yaml": "requirements:\n  - id: A\n    title: a\n    title: b\n"},
        [("a.yaml", 4, "field 'title' is given twice (first at line 3)")],
    ),
    "no-requirements-list": (
        {"a.yaml": "reqs:\n  - id: A\n"},
        [
            ("a.yaml", 1, "unknown top-level key 'reqs'"),
            ("a.yaml", 1, "missing the top-level 'requirements:' list"),
        ],
    ),
    "empty-file": ({"a.yaml": ""}, [("a.yaml", 1, "the file is empty")]),
    "not-utf8": (
        {"a.yaml": b"requirements:\n  - id: A\n    title: caf\xe9\n"},
        [("a.yaml", 1, "not UTF-8")],
    ),
    "attestation-bad-date": (
        {
            "a.yaml": "requirements:\n  - id: A\n    title: a\n    attestations:\n"
            "      - by: Ada\n        date: last week\n        statement: checked\n"
        },
        [("a.yaml", 6, "'date' must be YYYY-MM-DD")],
    ),
    "attestation-missing-by": (
        {
            "a.yaml": "requirements:\n  - id: A\n    title: a\n    attestations:\n"
            "      - date: 2026-01-05\n        statement: checked\n"
        },
        [("a.yaml", 5, "missing required field 'by'")],
    ),
    # A misspelt core field would leave the requirement silently without criteria.
    "misspelt-fields": (
        {
            "a.yaml": "requirements:\n  - id: A\n    title: a\n    statment: s\n    critera:\n"
            "      - {metric: m, op: '>=', threshhold: 1}\n    Criteria: []\n"
        },
        [
            ("a.yaml", 4, "unknown requirement field 'statment'; did you mean 'statement'?"),
            ("a.yaml", 5, "unknown requirement field 'critera'; did you mean 'criteria'?"),
            ("a.yaml", 7, "unknown requirement field 'Criteria'; did you mean 'criteria'?"),
        ],
    ),
    "misspelt-criterion-field": (
        {
            "a.yaml": "requirements:\n  - id: A\n    title: a\n    criteria:\n"
            "      - metric: m\n        op: '>='\n        threshold: 1\n        datset: test\n"
        },
        [("a.yaml", 8, "unknown criterion field 'datset'; did you mean 'dataset'?")],
    ),
    "threshold-not-finite": (
        {
            "a.yaml": "requirements:\n  - id: A\n    title: a\n    criteria:\n"
            "      - {metric: m, op: '>=', threshold: .nan}\n"
            "      - {metric: m, op: '<=', threshold: .inf}\n"
            "      - {metric: m, op: '<=', threshold: -.inf}\n"
            f"      - {{metric: m, op: '<=', threshold: {'9' * 400}}}\n"
        },
        [
            ("a.yaml", 5, "'threshold' must be a finite number, got nan"),
            ("a.yaml", 6, "'threshold' must be a finite number, got inf"),
            ("a.yaml", 7, "'threshold' must be a finite number, got -inf"),
            ("a.yaml", 8, "is too large for a number justify can compare"),
        ],
    ),
    "bad-model-scope": (
        {"a.yaml": "requirements:\n  - id: A\n    title: a\n    model: m@champion/3\n"},
        [("a.yaml", 4, "model 'm@champion/3' must be 'name'")],
    ),
    # Plain data only: no tags (a local one, or PyYAML's Python tags), no recursive alias,
    # no alias bomb (checked on the node tree, before anything is built).
    "local-tag": (
        {"a.yaml": "requirements:\n  - id: A\n    title: !foo x\n"},
        [("a.yaml", 3, "YAML tag '!foo' is not allowed")],
    ),
    "python-tag": (
        {"a.yaml": "requirements:\n  - id: A\n    title: !!python/object/apply:os.system [x]\n"},
        [("a.yaml", 3, "YAML tag 'python/object/apply:os.system' is not allowed")],
    ),
    "recursive-alias": (
        {"a.yaml": "requirements:\n  - &a\n    id: A\n    title: a\n    more: [*a]\n"},
        [("a.yaml", 5, "the alias *a refers to a node that contains it")],
    ),
    "alias-bomb": (
        {
            "a.yaml": "requirements:\n  - id: A\n    title: a\n    x0: &a0 [lol, lol, lol]\n"
            + "".join(f"    x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 8))
        },
        [("a.yaml", 9, "YAML aliases expand to more than 100,000 values by this line")],
    ),
    "too-deep": (
        {"a.yaml": "requirements:\n  - id: A\n    title: a\n    deep: " + "[" * 150 + "]" * 150},
        [("a.yaml", 4, "nested deeper than 100 levels")],
    ),
    "huge-integer-annotation": (
        {"a.yaml": f"requirements:\n  - id: A\n    title: a\n    budget: {'7' * 320}\n"},
        [("a.yaml", 4, "is too large for a number justify can compare")],
    ),
    "undefined-alias": (
        {"a.yaml": "requirements:\n  - id: A\n    title: *nowhere\n"},
        [("a.yaml", 3, "the alias *nowhere names no anchor before it")],
    ),
    "parent-and-parents": (
        {
            "a.yaml": "requirements:\n  - id: A\n    title: a\n  - id: B\n    title: b\n"
            "    parent: A\n    parents: [A]\n"
        },
        [("a.yaml", 7, "give either 'parent' or 'parents'")],
    ),
}


def _write_case(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize("case", list(BAD_CASES), ids=list(BAD_CASES))
def test_bad_input_is_reported_with_file_and_line_and_store_is_kept(
    case: str, config: Config, store: EmbeddedStore
) -> None:
    justify.load(config=config)
    before = requirement_ids(store)
    assert "REQ-REC-1" in before

    files, expected = BAD_CASES[case]
    folder = config.root / "requirements"
    _write_case(folder, files)
    with pytest.raises(RequirementFileError) as info:
        justify.load(config=config)
    found = [(p.file, p.line, p.message) for p in info.value.problems]
    for name, line, words in expected:
        path = f"requirements/{name}"
        assert any(f == path and ln == line and words in msg for f, ln, msg in found), (
            f"expected {path}:{line}: ...{words}... in {found}"
        )
    # The messages read as file:line: message.
    assert f"requirements/{expected[0][0]}:{expected[0][1]}: " in str(info.value)
    # Nothing was loaded: the previous requirements graph is intact.
    assert requirement_ids(store) == before


def test_all_problems_of_all_files_in_one_run(config: Config) -> None:
    folder = config.root / "requirements"
    _write_case(
        folder, {**BAD_CASES["wrong-types"][0], "z.yaml": BAD_CASES["unknown-parent"][0]["a.yaml"]}
    )
    with pytest.raises(RequirementFileError) as info:
        justify.load(config=config)
    files = {p.file for p in info.value.problems}
    assert files == {"requirements/a.yaml", "requirements/z.yaml"}
    assert len(info.value.problems) == 4


def test_cli_reports_every_problem_and_exits_2(run_cli, workspace: Path) -> None:
    assert run_cli("load", cwd=workspace).exit_code == 0
    _write_case(workspace / "requirements", BAD_CASES["unknown-kind-status-op-priority"][0])
    result = run_cli("load", cwd=workspace)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    for line in (4, 5, 6, 9):
        assert f"requirements/a.yaml:{line}: " in result.stderr
    assert "the store still holds the requirements it had before" in result.stderr
