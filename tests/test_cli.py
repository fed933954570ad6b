"""The command line: every command, its help, exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
from helpers import run_justify, write

from justify.cli import cli

COMMANDS = [
    "init",
    "load",
    "import",
    "sync",
    "check",
    "history",
    "trace",
    "query",
    "export",
    "status",
    "demo",
]
SUBCOMMANDS = [["import", "mlflow"], ["import", "git"]]


@pytest.mark.parametrize("command", [[c] for c in COMMANDS] + SUBCOMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(run_cli, command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output
    assert f"justify {' '.join(command)}" in result.output


def test_top_level_help_lists_commands_exit_codes_and_settings(run_cli) -> None:
    out = run_cli("--help").output
    for command in COMMANDS:
        assert command in out
    assert "Exit codes: 0 ok, 1 justification failures, 2 invalid input or usage" in out
    assert "JUSTIFY_STORE" in out
    assert set(COMMANDS) <= set(cli.commands)


def test_python_dash_m_and_version(tmp_path: Path) -> None:
    result = run_justify("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("justify, version ")


def test_init_scaffolds_and_then_load_works(run_cli, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    result = run_cli("init", str(project))
    assert result.exit_code == 0, result.output
    assert (project / "justify.toml").is_file()
    assert (project / "requirements" / "example.yaml").is_file()
    assert ".justify/" in (project / ".gitignore").read_text().splitlines()
    loaded = run_cli("load", cwd=project)
    assert loaded.exit_code == 0, loaded.output
    assert "loaded 1 requirements with 1 criteria" in loaded.output
    # Running init again keeps everything.
    again = run_cli("init", str(project))
    assert "wrote" not in again.output


def test_init_adds_a_tool_table_to_an_existing_pyproject(run_cli, tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "mine"\n')
    write(tmp_path / ".gitignore", "dist/\n")
    assert run_cli("init", str(tmp_path)).exit_code == 0
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "mine"\n')
    assert "[tool.justify]" in text
    ignored = (tmp_path / ".gitignore").read_text().splitlines()
    assert ignored[0] == "dist/" and ignored[-1] == ".justify/"
    assert not (tmp_path / "justify.toml").exists()
    assert run_cli("load", cwd=tmp_path).exit_code == 0


def test_status_shows_graphs_counts_and_last_import(run_cli, workspace: Path) -> None:
    empty = run_cli("status", cwd=workspace)
    assert empty.exit_code == 0 and "the store is empty" in empty.output
    run_cli("load", cwd=workspace)
    out = run_cli("status", cwd=workspace).output
    line = next(ln for ln in out.splitlines() if "graph/requirements" in ln)
    fields = line.split()
    assert fields[2] == "requirements" and fields[3] == "7"
    assert int(fields[1]) > 100
    assert fields[4].startswith("20") and fields[4].endswith("Z")


@pytest.mark.parametrize(
    ("fmt", "parse_as"),
    [
        ("turtle", "turtle"),
        ("ntriples", "nt"),
        ("nquads", "nquads"),
        ("trig", "trig"),
        ("jsonld", "json-ld"),
    ],
)
def test_export_formats_parse_back(run_cli, workspace: Path, fmt: str, parse_as: str) -> None:
    run_cli("load", cwd=workspace)
    out = workspace / f"export.{fmt}"
    result = run_cli("export", "--format", fmt, "-o", str(out), cwd=workspace)
    assert result.exit_code == 0, result.output
    data = rdflib.Dataset() if fmt in ("nquads", "trig", "jsonld") else rdflib.Graph()
    data.parse(out, format=parse_as)
    triples = {
        (s, p, o) for s, p, o, *_ in (data.quads() if isinstance(data, rdflib.Dataset) else data)
    }
    assert any(str(o) == "REQ-REC-1" for _, _, o in triples)
    assert len(triples) > 200


def test_export_one_graph_to_stdout(run_cli, workspace: Path) -> None:
    run_cli("load", cwd=workspace)
    result = run_cli("export", "--graph", "requirements", "--format", "ntriples", cwd=workspace)
    assert result.exit_code == 0
    parsed = list(pyoxigraph.parse(result.stdout_bytes, format=pyoxigraph.RdfFormat.N_TRIPLES))
    assert len(parsed) > 200
    bad = run_cli("export", "--graph", "nope", cwd=workspace)
    assert bad.exit_code == 2
    assert "no graph named 'nope'" in bad.stderr


def test_query_formats_from_the_cli(run_cli, workspace: Path) -> None:
    run_cli("load", cwd=workspace)
    run_cli("check", cwd=workspace)  # the canned query reads the recorded judgement
    out = run_cli("query", "unjustified", "--format", "json", cwd=workspace)
    assert out.exit_code == 0
    ids = {b["id"]["value"] for b in json.loads(out.stdout)["results"]["bindings"]}
    assert "REQ-REC-1" in ids
    listing = run_cli("query", "--list", cwd=workspace).output
    assert "trace" in listing and "id" in listing
    traced = run_cli("query", "trace", "--param", "id=REQ-REC-1", cwd=workspace)
    assert "test_recall >= 0.85 on test" in traced.output


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["query", "SELECT ?s WHERE { ?s ?p }"], 2, "SPARQL syntax error"),
        (["query", "nope"], 2, "no canned query named 'nope'"),
        (["query", "trace"], 2, "needs a value for: id"),
        (["query", "trace", "--param", "id"], 2, "is not NAME=VALUE"),
        (["query"], 2, "give a QUERY"),
        (["load", "missing-folder"], 2, "no such requirement file or folder"),
        (["export", "--format", "rdfxml"], 2, "Invalid value for '--format'"),
        (["nosuchcommand"], 2, "No such command"),
    ],
)
def test_errors_exit_with_the_contract_code_and_no_traceback(
    workspace: Path, args: list[str], code: int, words: str
) -> None:
    result = run_justify(*args, cwd=workspace)
    assert result.returncode == code, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_store_option_before_or_after_the_command(run_cli, workspace: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-store"
    assert run_cli("load", "--store", str(other), cwd=workspace).exit_code == 0
    assert (other / "CURRENT").is_file()
    before = run_cli("--store", str(other), "status", cwd=workspace).output
    assert "graph/requirements" in before
    # The default store was not touched.
    assert "the store is empty" in run_cli("status", cwd=workspace).output


def test_store_that_cannot_be_created_exits_3(workspace: Path) -> None:
    blocker = workspace / "blocker"
    blocker.write_text("a file where a folder should be")
    result = run_justify("load", "--store", str(blocker / "store"), cwd=workspace)
    assert result.returncode == 3
    assert str(blocker / "store") in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_configuration_exits_2_naming_the_file(tmp_path: Path) -> None:
    write(tmp_path / "justify.toml", 'store = ".justify"\nstroe = "x"\n')
    result = run_justify("status", cwd=tmp_path)
    assert result.returncode == 2
    assert "justify.toml:2: unknown setting 'stroe'" in result.stderr


def test_config_option_points_at_another_project(run_cli, workspace: Path, tmp_path: Path) -> None:
    result = run_cli("--config", str(workspace / "justify.toml"), "load", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert (workspace / ".justify" / "CURRENT").is_file()


def test_check_fails_closed_without_configuration_or_requirements(tmp_path: Path) -> None:
    """A CI job in the wrong folder must not pass green on nothing."""
    nowhere = run_justify("check", cwd=tmp_path)
    assert nowhere.returncode == 2
    assert "no justify configuration" in nowhere.stderr and "justify init" in nowhere.stderr
    assert "Traceback" not in nowhere.stderr
    (tmp_path / "justify.toml").write_text("")
    empty = run_justify("check", cwd=tmp_path)
    assert empty.returncode == 2
    assert "no requirement in the store" in empty.stderr and "justify load" in empty.stderr
    allowed = run_justify("check", "--allow-empty", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert "0 requirements" in allowed.stdout


def test_app_refuses_an_invalid_or_busy_port_before_printing_a_url(workspace: Path) -> None:
    import socket

    invalid = run_justify("app", "--port", "99999", cwd=workspace)
    assert invalid.returncode == 2 and "port 99999 is not a TCP port" in invalid.stderr
    assert "Traceback" not in invalid.stderr and "http://" not in invalid.stdout
    assert run_justify("load", cwd=workspace).returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run_justify("app", "--port", str(port), cwd=workspace)
    assert busy.returncode == 2 and f"port {port} on 127.0.0.1 is not free" in busy.stderr
    assert "http://" not in busy.stdout


def test_sync_skips_git_only_when_the_project_is_not_a_repository(tmp_path: Path) -> None:
    """A mistyped git_repo once made sync skip Git and pass: now only the default is
    skipped, and only outside a Git work tree."""
    from helpers import run_justify, write

    write(tmp_path / "requirements" / "r.yaml", "requirements:\n  - id: R1\n    title: r\n")
    write(tmp_path / "justify.toml", "")
    env = {"MLFLOW_TRACKING_URI": ""}
    plain = run_justify("sync", cwd=tmp_path, env=env)
    assert plain.returncode == 0, plain.stderr
    assert "git: skipped (the project is not a Git repository" in plain.stdout
    write(tmp_path / "justify.toml", 'git_repo = "../no-such-repo"\n')
    mistyped = run_justify("sync", cwd=tmp_path, env=env)
    assert mistyped.returncode == 2
    assert "no-such-repo: no such folder" in mistyped.stderr


def test_every_importers_help_reads_as_wrapped_prose(run_cli) -> None:
    """An importer's description is written like a docstring; its help must not carry
    the source's indentation into the middle of a sentence."""
    from justify.importers import registered_importers

    for name in registered_importers():
        text = run_cli("import", name, "--help").output
        prose = [line.strip() for line in text.split("Options:")[0].splitlines()]
        assert not [line for line in prose if "   " in line], (name, text)
