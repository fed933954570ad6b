"""Requirement files are read with limits: a hostile or careless file gets a message
naming the file and line, exit 2, and the store keeps its previous requirements.

The property-based tests feed the loader arbitrary YAML documents and arbitrary
bytes: ``justify load`` exits 0 or 2, never with a traceback, and loads all of a
set of files or nothing.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_requirements import requirement_ids

import justify
from justify._demo import build_workspace
from justify.cli import cli
from justify.store import EmbeddedStore

BILLION_LAUGHS = (
    "requirements:\n  - id: A\n    title: a\n    lol0: &l0 [lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"    lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10))
)


def _load(root: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["load"], env=env or {}, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: the test fails with it
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def test_a_billion_laughs_is_refused_naming_file_and_line(workspace: Path, monkeypatch) -> None:
    monkeypatch.chdir(workspace)
    assert _load(workspace)[0] == 0
    (workspace / "requirements" / "bomb.yaml").write_text(BILLION_LAUGHS)
    code, output = _load(workspace)
    assert code == 2
    assert "requirements/bomb.yaml:9: YAML aliases expand to more than 100,000 values" in output


def test_a_file_over_the_size_limit_is_refused_with_the_setting_to_raise(
    workspace: Path, monkeypatch
) -> None:
    monkeypatch.chdir(workspace)
    big = workspace / "requirements" / "big.yaml"
    big.write_text("requirements:\n" + "# padding\n" * 120_000)  # 1.2 MB
    code, output = _load(workspace, {"JUSTIFY_REQUIREMENT_FILE_LIMIT_MB": "1"})
    assert code == 2
    assert "requirements/big.yaml:1: the file is 1.2 MB, over the 1 MB limit" in output
    assert "requirement_file_limit_mb" in output
    assert _load(workspace, {"JUSTIFY_REQUIREMENT_FILE_LIMIT_MB": "2"})[0] == 0


# Plain data as people write it, and YAML's odder corners.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["REQ-1", "A", "approved", ">=", "accuracy", "2026-02-30", "~", "*x", "&a"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=10) | scalars, inner, max_size=4),
    ),
    max_leaves=25,
)
fields = st.sampled_from(
    ["id", "title", "statement", "kind", "status", "parent", "parents", "criteria", "metric",
     "op", "threshold", "dataset", "model", "attestations", "by", "date", "critera", "x"]
)  # fmt: skip
requirement = st.dictionaries(fields, values, max_size=8)
documents = st.one_of(
    st.fixed_dictionaries({"requirements": st.lists(requirement, max_size=4)}),
    values,
)
tricky_text = st.sampled_from(
    ["!foo x", "!!python/object/apply:os.system [x]", "&a [*a]", "*undefined", "{", "- - -",
     "\t", "\ufeff", "%YAML 1.1\n---", "--- a\n--- b", "? [a]\n: b", "<<: {a: 1}"]
)  # fmt: skip


def _check_all_or_nothing(content: bytes) -> None:
    """In a fresh demo workspace whose requirements are loaded, add a file holding
    ``content`` and load again."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        root = build_workspace(Path(tmp) / "ws")
        with contextlib.chdir(root):
            assert _load(root)[0] == 0
            _load_added_file(root, content)


def _load_added_file(root: Path, content: bytes) -> None:
    store = EmbeddedStore(str(root / ".justify"))
    before = requirement_ids(store)
    (root / "requirements" / "fuzz.yaml").write_bytes(content)
    code, output = _load(root)
    assert code in (0, 2), output
    assert "Traceback" not in output
    after = requirement_ids(store)
    if code == 2:
        assert after == before, "a failed load changed the store"
        assert "requirements/fuzz.yaml:" in output or "requirement" in output
    else:
        loaded = {r.id for r in justify.read_requirements(
            sorted((root / "requirements").glob("*.yaml")), root=root)}  # fmt: skip
        assert after == loaded, "the store does not hold exactly the files' requirements"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents, extra=st.lists(tricky_text, max_size=2))
def test_any_yaml_document_loads_fully_or_not_at_all(document: object, extra: list[str]) -> None:
    text = yaml.safe_dump(document, allow_unicode=True) + "\n".join(extra)
    _check_all_or_nothing(text.encode("utf-8"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.binary(max_size=300) | st.text(max_size=200).map(lambda t: t.encode("utf-8")))
def test_any_bytes_load_fully_or_not_at_all(content: bytes) -> None:
    _check_all_or_nothing(content)
