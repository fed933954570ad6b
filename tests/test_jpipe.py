"""jPipe interop with the real jpipe-runner from PyPI, in a virtual environment of its
own (it pins networkx and pyyaml exactly): the demo's export validates against the
schema shipped in the package, dry-runs cleanly, and runs with PASS and FAIL where
`justify check` says; `.jd` patterns read back to the patterns they came from."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from justify._jd import ident, pattern_jd, read_jd_patterns
from justify._patterns import read_patterns
from justify.judgement import blocks, current
from tests.explorer_env import copy_demo
from tests.helpers import run_justify, tool_environment

pytestmark = pytest.mark.jpipe

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-jpipe"  # kept between runs (ignored by Git), like .venv
SPEC = "jpipe-runner>=3.6"


@pytest.fixture(scope="session")
def jpipe_runner() -> Path:
    """jpipe-runner installed from PyPI into its own environment (once)."""
    return tool_environment(VENV, SPEC, "jpipe-runner")


@pytest.fixture(scope="module")
def exported(demo_template, tmp_path_factory: pytest.TempPathFactory):
    demo = copy_demo(demo_template, tmp_path_factory.mktemp("jpipe") / "ws")
    out = demo.directory / "jpipe"
    cli = run_justify("export", "--format", "jpipe", "-o", str(out), cwd=demo.directory)
    assert cli.returncode == 0, cli.stderr
    return demo, out, cli.stdout


def _run(runner: Path, folder: Path, rid: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(runner), "-q", *extra, "--library", f"{rid}_steps.py", f"{rid}.json"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_exported_diagram_validates_against_jpipe_runners_schema(
    exported, jpipe_runner: Path
) -> None:
    import jsonschema

    _, out, stdout = exported
    schema_file = next((VENV / "lib").glob("python*/site-packages/jpipe_runner/schema/*.json"))
    schema = json.loads(schema_file.read_text())
    diagrams = sorted(out.glob("*.json"))
    # The approved requirements that follow a pattern; REQ-TOP-1 follows none, REQ-LAT-1
    # is a draft the check does not judge.
    assert [d.stem for d in diagrams] == ["REQ-DATA-1", "REQ-FAIR-1", "REQ-PREC-1", "REQ-REC-1"]
    assert "REQ-LAT-1" in stdout and "REQ-TOP-1" in stdout
    for path in diagrams:
        data = json.loads(path.read_text())
        jsonschema.validate(data, schema)
        types = [e["type"] for e in data["elements"]]
        assert types.count("conclusion") == 1 and types.count("strategy") == 1
        dry = _run(jpipe_runner, out, path.stem, "--dry-run")
        assert dry.returncode == 0, dry.stdout + dry.stderr


def test_jpipe_runner_passes_and_fails_as_justify_check_does(exported, jpipe_runner: Path) -> None:
    demo, out, _ = exported
    judgement = current(config=demo.config)
    for path in sorted(out.glob("*.json")):
        rid = path.stem
        req = judgement.requirements[rid]
        passes = not any(blocks(r, judgement.fail_on) for r in judgement.results_about(req.iri))
        done = _run(jpipe_runner, out, rid)
        rows = re.findall(r"(\w[\w-]*)<(\w+)> :: .*?\|\s*\x1b\[\d+m(PASS|FAIL|SKIP)", done.stdout)
        status = {node: state for _, node, state in rows}
        assert status.get("conclusion") == ("PASS" if passes else "SKIP"), done.stdout
        assert done.returncode == (0 if passes else 1), done.stdout + done.stderr
    # The demo's fairness requirement: its gap misses the threshold and nobody reviewed
    # the protected attributes; the evaluation data is recorded.
    fair = _run(jpipe_runner, out, "REQ-FAIR-1")
    states = dict(
        (node, state)
        for _, node, state in re.findall(
            r"(\w[\w-]*)<(\w+)> :: .*?\|\s*\x1b\[\d+m(PASS|FAIL|SKIP)", fair.stdout
        )
    )
    assert states["gap"] == "FAIL" and states["attributes_reviewed"] == "FAIL"
    assert states["evaluation_data"] == "PASS" and states["strategy"] == "SKIP"


def test_jd_patterns_round_trip(tmp_path: Path) -> None:
    """Built-in patterns -> jPipe `pattern` blocks -> justify patterns (selectors bound
    by slot id) -> the same jPipe text and the same slots."""
    patterns = read_patterns([])
    text = "\n".join(pattern_jd(p) for p in patterns.values())
    path = tmp_path / "patterns.jd"
    path.write_text(text, encoding="utf-8")
    bindings = {ident(p.id): {s.id: s for s in p.supports} for p in patterns.values()}
    back = read_jd_patterns(path, bindings)
    assert sorted(back) == sorted(ident(p) for p in patterns)
    for pid, pattern in patterns.items():
        again = back[ident(pid)]
        assert again.strategy == pattern.strategy
        assert [(s.id, s.label, s.kind, s.selector, s.optional) for s in again.supports] == [
            (s.id, s.label, s.kind, s.selector, s.optional) for s in pattern.supports
        ]

    def lines(jd: str) -> list[str]:  # without the title comments (jPipe has no titles)
        return [line for line in jd.splitlines() if not line.startswith("//")]

    assert lines("\n".join(pattern_jd(p) for p in back.values())) == lines(text)


def test_a_jd_slot_without_a_selector_names_file_and_line(tmp_path: Path) -> None:
    from justify.errors import RequirementFileError

    path = tmp_path / "team.jd"
    path.write_text(
        'pattern team {\n    @support reviewed is "a review"\n    strategy s is "argue"\n'
        '    reviewed supports s\n    conclusion c is "ok"\n    s supports c\n}\n',
        encoding="utf-8",
    )
    with pytest.raises(RequirementFileError) as caught:
        read_jd_patterns(path, {})
    (problem,) = caught.value.problems
    assert (problem.line, "reviewed" in problem.message) == (2, True)


def test_a_jd_pattern_in_a_pattern_folder_gives_the_structure(tmp_path: Path) -> None:
    """A team writes its pattern in jPipe: the `.jd` gives the structure, a YAML
    pattern of the same id binds each slot's evidence by slot id."""
    folder = tmp_path / "patterns"
    folder.mkdir()
    (folder / "team.yaml").write_text(
        "patterns:\n"
        "  - id: team\n"
        "    title: The team's claim\n"
        '    conclusion: "{title}"\n'
        "    strategy: {label: from yaml, rationale: r, usage_domain: d}\n"
        "    supports:\n"
        "      - {id: reviewed, label: from yaml, attestation: {role: reviewer}}\n"
        "      - {id: measured, label: from yaml, criterion: {}}\n",
        encoding="utf-8",
    )
    (folder / "team.jd").write_text(
        "pattern team {\n"
        '    @support measured is "the criteria, measured"\n'
        '    @support reviewed is "a reviewer signed it"\n'
        '    strategy s is "argue from both"\n'
        "    measured supports s\n    reviewed supports s\n"
        '    conclusion c is "the claim holds"\n    s supports c\n}\n',
        encoding="utf-8",
    )
    patterns = read_patterns([folder], root=tmp_path)
    team = patterns["team"]
    assert (team.strategy, team.conclusion, team.title) == (
        "argue from both",
        "the claim holds",
        "The team's claim",
    )
    assert [(s.id, s.label, s.kind) for s in team.supports] == [
        ("measured", "the criteria, measured", "criterion"),
        ("reviewed", "a reviewer signed it", "attestation"),
    ]
    assert (team.file, team.supports[0].line) == ("patterns/team.jd", 2)
