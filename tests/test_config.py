"""Configuration: discovery, precedence, and refusal of bad or secret settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write

from justify.config import SETTINGS, all_settings, load_config
from justify.errors import ConfigError


def test_defaults_without_a_configuration_file(tmp_path: Path) -> None:
    config = load_config(cwd=tmp_path, environ={})
    assert config.file is None
    assert config.root == tmp_path.resolve()
    assert config.requirements == ("requirements",)
    assert config.store_location == str(tmp_path.resolve() / ".justify")


def test_found_by_walking_up_from_a_subfolder(tmp_path: Path) -> None:
    write(tmp_path / "justify.toml", 'store = "graph-store"\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    config = load_config(cwd=deep, environ={})
    assert config.file == (tmp_path / "justify.toml").resolve()
    assert config.store_location == str(tmp_path.resolve() / "graph-store")


def test_pyproject_tool_table(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.justify]\nrequirements = ["reqs"]\n',
    )
    config = load_config(cwd=tmp_path, environ={})
    assert config.requirements == ("reqs",)
    assert config.origins["requirements"].endswith("pyproject.toml")


def test_pyproject_without_the_table_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "justify.toml", 'store = "outer"\n')
    inner = tmp_path / "inner"
    write(inner / "pyproject.toml", '[project]\nname = "inner"\n')
    config = load_config(cwd=inner, environ={})
    assert config.file == (tmp_path / "justify.toml").resolve()


def test_environment_then_flags_override_the_file(tmp_path: Path) -> None:
    write(tmp_path / "justify.toml", 'store = "from-file"\nbase_iri = "https://example.org/a/"\n')
    env = {"JUSTIFY_STORE": "from-env", "JUSTIFY_REQUIREMENTS": "one:two"}
    config = load_config(cwd=tmp_path, environ=env)
    assert config.store == "from-env"
    assert config.requirements == ("one", "two")
    assert config.origins["store"] == "JUSTIFY_STORE"
    config = load_config(cwd=tmp_path, environ=env, overrides={"store": "from-flag"})
    assert config.store == "from-flag"
    assert config.base_iri == "https://example.org/a/"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('store = "x"\nstroe = "y"\n', "justify.toml:2: unknown setting 'stroe'"),
        (
            'store = "x"\nmlflow_token = "abc"\n',
            "justify.toml:2: 'mlflow_token' looks like a secret",
        ),
        ("requirements = 3\n", "'requirements' must be a list of strings"),
        ('store = "x\n', "not valid TOML"),
        ('base_iri = "not an iri"\n', "is not an absolute IRI"),
    ],
)
def test_bad_configuration_is_refused(tmp_path: Path, text: str, words: str) -> None:
    write(tmp_path / "justify.toml", text)
    with pytest.raises(ConfigError) as info:
        load_config(cwd=tmp_path, environ={})
    assert words in str(info.value)
    assert "abc" not in str(info.value)  # a secret's value is never printed


def test_every_setting_has_an_environment_variable_and_help() -> None:
    from justify.importers import registered_importers

    names = [s.name for s in SETTINGS]
    names += [s.name for i in registered_importers().values() for s in i.settings]
    assert len(names) == len(set(names))  # an importer's setting shadows none
    for s in all_settings().values():
        assert s.env == "JUSTIFY_" + s.name.upper()
        assert s.help.endswith(".")


def test_every_setting_is_documented_in_the_readme_and_help(run_cli) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    help_text = run_cli("--help").output
    for s in all_settings().values():
        assert f"`{s.name}`" in readme, f"README does not document {s.name}"
        assert s.env in readme, f"README does not name {s.env}"
        assert s.env in help_text
