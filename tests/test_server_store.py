"""The shared store against a real SPARQL server: Virtuoso Open Source, started here.

The demo workspace (real MLflow runs, a real Git repository) is synced and checked
once on the embedded store and once on the server; every command must answer the
same. Then the faults a team meets: wrong credentials, a wrong URL, a slow server,
a server that stops in the middle of an import.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import astuple
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pyoxigraph import Literal, NamedNode, Triple

from justify._demo import DemoResult, demo
from justify.cli import cli
from justify.config import load_config
from justify.judgement import check
from justify.store import EmbeddedStore, ServerSettings, SparqlStore
from tests.explorer_env import open_page, texts
from tests.helpers import needs
from tests.servers import KillingProxy, VirtuosoServer, free_port, virtuoso_server
from tests.test_check import CASES
from tests.test_check import _store as rule_case_store

pytestmark = [pytest.mark.server, needs("virtuoso-t", "virtuoso-opensource")]

NUMERIC = {
    "http://www.w3.org/2001/XMLSchema#double",
    "http://www.w3.org/2001/XMLSchema#decimal",
    "http://www.w3.org/2001/XMLSchema#integer",
}


def invoke(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
    """The real CLI, with ``env`` on top of an environment without JUSTIFY_* variables."""
    clean = {k: None for k in os.environ if k.startswith("JUSTIFY_")}
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), env={**clean, **(env or {})})
    finally:
        os.chdir(old)


def server_store(server: VirtuosoServer) -> SparqlStore:
    settings = ServerSettings(server.query_url, graph_store_url=server.graph_store_url)
    return SparqlStore(
        settings,
        environ={"JUSTIFY_STORE_USER": server.user, "JUSTIFY_STORE_PASSWORD": server.password},
    )


def wipe(server: VirtuosoServer) -> None:
    """Remove justify's graphs from the server (a fresh shared store)."""
    store = server_store(server)
    with store.write() as writer:
        for name in store.graph_names():
            writer.drop_graph(NamedNode(name))


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


@pytest.fixture(scope="module")
def demo_both(
    virtuoso: VirtuosoServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[DemoResult, dict[str, str]]:
    """The demo on the embedded store, then synced and checked on the server too."""
    result = demo(tmp_path_factory.mktemp("server-demo") / "ws")
    wipe(virtuoso)
    env = virtuoso.env()
    synced = invoke("sync", env=env, cwd=result.directory)
    assert synced.exit_code == 0, synced.output
    for store_env in ({}, env):
        checked = invoke("check", env=store_env, cwd=result.directory)
        assert checked.exit_code == 1, checked.output
    return result, env


def rounded(data: object) -> object:
    """Numbers in text to 6 significant digits: Virtuoso writes xsd:double values so in
    its answers (it compares them at full precision)."""
    text = json.dumps(data) if not isinstance(data, str) else data
    text = re.sub(r"\d+\.\d+(?:[eE]-?\d+)?", lambda m: f"{float(m.group()):.6g}", text)
    return text if isinstance(data, str) else json.loads(text)


def numeric_normal(triples: set[Triple]) -> set[tuple[str, str, str]]:
    """Triples as text, numbers by value: servers may rewrite 1.50 as 1.5."""
    out = set()
    for t in triples:
        o = t.object
        if isinstance(o, Literal) and o.datatype.value in NUMERIC:
            text = repr(float(o.value))
        else:
            text = str(o)
        out.add((str(t.subject), str(t.predicate), text))
    return out


def stable(triples: set[Triple]) -> set[tuple[str, str, str]]:
    """Without the import records, which carry the time of their import."""
    return {t for t in numeric_normal(triples) if not re.search(r"/import>|/graph/", t[0])}


# ------------------------------------------------------------ same answers


def test_check_gives_the_same_report_on_the_server(demo_both: tuple[DemoResult, dict]) -> None:
    result, env = demo_both
    reports = []
    for store_env in ({}, env):
        out = invoke("check", "--format", "json", env=store_env, cwd=result.directory)
        assert out.exit_code == 1, out.output
        reports.append(json.loads(out.output))
    embedded, server = reports
    assert server["requirements"] == embedded["requirements"]
    assert rounded(server["results"]) == rounded(embedded["results"])
    statuses = {r["id"]: r["status"] for r in server["requirements"]}
    assert statuses["REQ-FAIR-1"] == "failing"
    assert statuses["REQ-EXPL-1"] == "unjustified"
    assert statuses["REQ-DATA-1"] == "justified"
    assert statuses["REQ-PREC-1"] == "stale"


def test_pyshacl_engine_fetches_the_union_graph_from_the_server(
    demo_both: tuple[DemoResult, dict],
) -> None:
    result, env = demo_both
    fast = invoke("check", "--format", "json", env=env, cwd=result.directory)
    reference = invoke(
        "check", "--engine", "pyshacl", "--format", "json", env=env, cwd=result.directory
    )
    assert reference.exit_code == fast.exit_code == 1
    assert rounded(json.loads(reference.output)["results"]) == rounded(
        json.loads(fast.output)["results"]
    )


def test_queries_trace_and_history_are_the_same(demo_both: tuple[DemoResult, dict]) -> None:
    result, env = demo_both
    commands = [
        ("query", "requirements", "--format", "csv"),
        ("query", "unjustified", "--format", "csv"),
        ("query", "trace", "--param", "id=REQ-PREC-1", "--format", "csv"),
        ("query", "SELECT ?run ?v WHERE { ?m jf:metricKey 'test_recall' ; jf:value ?v . "
         "?r jf:hasMeasurement ?m ; dcterms:title ?run } ORDER BY ?run", "--format", "csv"),
        ("trace", "REQ-PREC-1"),
        ("trace", "REQ-FAIR-1"),
    ]  # fmt: skip
    for command in commands:
        answers = [invoke(*command, env=e, cwd=result.directory) for e in ({}, env)]
        for answer in answers:
            assert answer.exit_code == 0, (command, answer.output)
        embedded, server = (sorted(rounded(a.output).splitlines()) for a in answers)
        assert server == embedded, command


def test_the_imported_graphs_hold_the_same_triples(
    demo_both: tuple[DemoResult, dict], virtuoso: VirtuosoServer
) -> None:
    result, _ = demo_both
    embedded = EmbeddedStore(result.config.store_location)
    server = server_store(virtuoso)
    names = [
        n for n in embedded.graph_names() if re.search(r"/graph/(requirements|git/|mlflow/)", n)
    ]
    assert len(names) == 3
    assert sorted(server.graph_names()) == sorted(embedded.graph_names())
    for name in names:
        graph = NamedNode(name)
        ours = {q.triple for q in embedded.quads(graph)}
        theirs = {q.triple for q in server.quads(graph)}
        assert stable(theirs) == stable(ours), name
        assert len(theirs) == len(ours), name


def test_report_is_the_same_on_the_server(
    demo_both: tuple[DemoResult, dict], tmp_path: Path
) -> None:
    result, env = demo_both
    texts_, figures = [], []
    for i, store_env in enumerate(({}, env)):
        out = tmp_path / str(i) / "audit.md"
        answer = invoke(
            "report", "--format", "markdown", "-o", str(out), env=store_env, cwd=result.directory
        )
        assert answer.exit_code == 0, answer.output
        # The date and the store differ; the story must not.
        texts_.append(
            [
                line
                for line in str(rounded(out.read_text())).splitlines()
                if not re.search(
                    r"[Gg]enerated|[Ss]tore|UTC|"
                    r"^\| (git|mlflow|openlineage|dvc|requirements) \|",
                    line,
                )
            ]
        )
        figures.append(
            {f.name: f.read_text() for f in (out.parent / "audit-figures").glob("*-diagram.svg")}
        )
    assert texts_[1] == texts_[0]
    assert any("REQ-FAIR-1" in line and "failing" in line for line in texts_[1])
    assert figures[1] == figures[0] and len(figures[0]) == 7  # one diagram per requirement


def test_status_lists_only_justifys_graphs(
    demo_both: tuple[DemoResult, dict], virtuoso: VirtuosoServer
) -> None:
    result, env = demo_both
    answer = invoke("status", env=env, cwd=result.directory)
    assert answer.exit_code == 0, answer.output
    assert virtuoso.query_url in answer.output
    assert "/graph/requirements" in answer.output
    # Virtuoso's own system graphs share the server; justify neither lists nor reads them.
    assert "openlinksw" not in answer.output
    sources = (
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        'FILTER(REGEX(STR(?g), "/graph/(requirements|git/|mlflow/)")) }'
    )
    count = invoke(
        "query",
        sources,
        "--format",
        "csv",
        env=env,
        cwd=result.directory,
    )
    embedded = invoke(
        "query",
        sources,
        "--format",
        "csv",
        cwd=result.directory,
    )
    assert count.output.splitlines()[1] == embedded.output.splitlines()[1]
    assert env["JUSTIFY_STORE_PASSWORD"] not in answer.output + count.output


def test_explorer_reads_the_server_and_refuses_updates(
    demo_both: tuple[DemoResult, dict], virtuoso: VirtuosoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, env = demo_both
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("JUSTIFY_CONFIG", str(result.directory / "justify.toml"))
    monkeypatch.chdir(result.directory)
    before = server_store(virtuoso).version()
    at = open_page()
    shown = texts(at)
    for rid in ("REQ-FAIR-1", "REQ-EXPL-1", "REQ-PREC-1"):
        assert rid in shown
    at = open_page("pages/sparql.py")
    at.button(key="run").click().run()
    assert not at.exception and "REQ-FAIR-1" in at.dataframe[0].value.to_string()
    at.text_area(key="query-").set_value('INSERT DATA { <urn:x> <urn:y> "z" }').run()
    at.button(key="run").click().run()
    assert "the console only reads" in texts(at)
    assert server_store(virtuoso).version() == before


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_rule_cases_on_the_server(case: str, virtuoso: VirtuosoServer, tmp_path: Path) -> None:
    """The checks' rule cases, run by the fast engine on the server: the same results
    as on the embedded store (which the check tests compare with pySHACL)."""
    turtle, expected = CASES[case]
    embedded = rule_case_store(tmp_path, turtle)
    server = server_store(virtuoso)
    wipe(virtuoso)
    with server.write() as writer:
        graph = NamedNode("https://example.org/t/graph/test")
        writer.add(graph, (q.triple for q in embedded.quads(graph)))
    (tmp_path / "justify.toml").write_text("")
    config = load_config(tmp_path / "justify.toml")
    on_server = check(engine="fast", config=config, store=server)
    reference = check(engine="fast", config=config, store=embedded)
    assert {(r.rule, r.focus.rsplit("/", 1)[-1]) for r in on_server.results} == expected
    assert rounded([list(astuple(r)) for r in on_server.results]) == rounded(
        [list(astuple(r)) for r in reference.results]
    )


def test_a_graph_read_in_pages_is_read_whole(virtuoso: VirtuosoServer) -> None:
    """Without the Graph Store Protocol (and where the server writes no answer that
    large: Virtuoso at some million triples), a graph is read in pages in the server's
    order, and counted: every triple, once, as a check's copy needs it."""
    wipe(virtuoso)
    graph = NamedNode("https://example.org/t/graph/paged")
    written = {
        Triple(NamedNode(f"https://example.org/t/s{i % 2500}"), NamedNode(f"urn:p{i % 7}"),
               Literal(str(i)))
        for i in range(25_000)
    }  # fmt: skip
    with server_store(virtuoso).write() as writer:
        writer.add(graph, written)
    paged = SparqlStore(
        ServerSettings(virtuoso.query_url, batch_size=10_000),  # three pages
        environ={"JUSTIFY_STORE_USER": virtuoso.user, "JUSTIFY_STORE_PASSWORD": virtuoso.password},
    )
    read = [q.triple for q in paged.quads(graph)]
    assert len(read) == len(written) and set(read) == written
    copy = paged.snapshot([graph.value])
    try:
        assert {q.triple for q in copy.quads(graph)} == written
    finally:
        copy.close()


# ------------------------------------------------------------ moving stores


def test_store_copy_both_ways(
    demo_both: tuple[DemoResult, dict], virtuoso: VirtuosoServer, tmp_path: Path
) -> None:
    result, env = demo_both
    wipe(virtuoso)
    up = invoke("store", "copy", ".justify", virtuoso.query_url, env=env, cwd=result.directory)
    assert up.exit_code == 0, up.output
    assert "copied" in up.output
    back = tmp_path / "back"
    down = invoke("store", "copy", virtuoso.query_url, str(back), env=env, cwd=result.directory)
    assert down.exit_code == 0, down.output
    original = EmbeddedStore(result.config.store_location)
    copy = EmbeddedStore(back)
    assert copy.graph_names() == original.graph_names()
    for name in original.graph_names():
        graph = NamedNode(name)
        assert numeric_normal({q.triple for q in copy.quads(graph)}) == numeric_normal(
            {q.triple for q in original.quads(graph)}
        ), name
    # The server, filled by the copy, checks as the embedded store does.
    checked = invoke("check", "--format", "json", env=env, cwd=result.directory)
    local = invoke("check", "--format", "json", cwd=result.directory)
    assert rounded(json.loads(checked.output)["results"]) == rounded(
        json.loads(local.output)["results"]
    )


# ------------------------------------------------------------ faults


@pytest.fixture
def loaded(
    demo_both: tuple[DemoResult, dict], virtuoso: VirtuosoServer
) -> tuple[Path, dict[str, str], dict[str, int]]:
    """The demo's graphs on the server, with their sizes before the fault."""
    result, env = demo_both
    wipe(virtuoso)
    synced = invoke("sync", env=env, cwd=result.directory)
    assert synced.exit_code == 0, synced.output
    return result.directory, env, server_store(virtuoso).graph_sizes()


def test_wrong_credentials_exit_3_without_printing_them(loaded: tuple[Path, dict, dict]) -> None:
    ws, env, _ = loaded
    answer = invoke("status", env={**env, "JUSTIFY_STORE_PASSWORD": "not-the-password"}, cwd=ws)
    assert answer.exit_code == 3
    assert env["JUSTIFY_STORE"] in answer.output
    assert "credentials" in answer.output and "JUSTIFY_STORE_PASSWORD" in answer.output
    assert "not-the-password" not in answer.output


def test_credentials_in_the_url_are_refused_and_not_printed(
    loaded: tuple[Path, dict, dict],
) -> None:
    ws, env, _ = loaded
    url = env["JUSTIFY_STORE"].replace("http://", "http://justify:hunter2@")
    answer = invoke("status", env={**env, "JUSTIFY_STORE": url}, cwd=ws)
    assert answer.exit_code == 2
    assert "hunter2" not in answer.output
    assert "JUSTIFY_STORE_USER" in answer.output


def test_wrong_url_exit_3_naming_it(
    loaded: tuple[Path, dict, dict], virtuoso: VirtuosoServer
) -> None:
    ws, env, _ = loaded
    nobody = f"http://127.0.0.1:{free_port()}/sparql"
    answer = invoke("check", env={**env, "JUSTIFY_STORE": nobody}, cwd=ws)
    assert answer.exit_code == 3
    assert nobody in answer.output and "cannot reach" in answer.output
    wrong_path = f"{virtuoso.base}/no-such-endpoint"
    answer = invoke("status", env={**env, "JUSTIFY_STORE": wrong_path}, cwd=ws)
    assert answer.exit_code == 3
    assert wrong_path in answer.output


def test_slow_server_past_the_timeout_keeps_the_previous_graph(
    loaded: tuple[Path, dict, dict], virtuoso: VirtuosoServer
) -> None:
    ws, env, before = loaded
    (ws / "requirements" / "extra.yaml").write_text(
        "requirements:\n  - id: REQ-NEW-1\n    title: New\n    statement: A new one.\n"
        "    kind: other\n    status: draft\n"
    )
    with KillingProxy(virtuoso, delay=3) as slow:
        proxied = {
            **env,
            "JUSTIFY_STORE": slow.url + "/sparql-auth",
            "JUSTIFY_STORE_GRAPH_STORE_URL": slow.url + "/sparql-graph-crud-auth",
            "JUSTIFY_STORE_TIMEOUT": "1",
        }
        answer = invoke("load", env=proxied, cwd=ws)
    (ws / "requirements" / "extra.yaml").unlink()
    assert answer.exit_code == 3, answer.output
    assert "did not answer within 1 s" in answer.output and "store_timeout" in answer.output
    assert server_store(virtuoso).graph_sizes() == before


def test_server_stopped_mid_import_keeps_the_previous_graph(
    loaded: tuple[Path, dict, dict], virtuoso: VirtuosoServer
) -> None:
    ws, env, before = loaded
    try:
        with KillingProxy(virtuoso, kill_on=12) as dying:
            proxied = {
                **env,
                "JUSTIFY_STORE": dying.url + "/sparql-auth",
                "JUSTIFY_STORE_GRAPH_STORE_URL": dying.url + "/sparql-graph-crud-auth",
                "JUSTIFY_STORE_BATCH_SIZE": "10",  # many small writes: the kill lands mid-import
            }
            answer = invoke("import", "mlflow", "--full", env=proxied, cwd=ws)
            assert dying.count >= 12
    finally:
        virtuoso.start()
    assert answer.exit_code == 3, answer.output
    assert dying.url in answer.output
    assert "keeps its previous graphs" in answer.output or "cannot reach" in answer.output
    store = server_store(virtuoso)
    assert store.graph_sizes() == before
    # The interrupted import's staging graph is not among justify's graphs...
    assert not [n for n in store.graph_names() if "staging" in n]
    # ... but is logged; once it is a day old, the next writer removes it.
    log = "SELECT ?g ?started WHERE { GRAPH <urn:justify:staging> { ?g ?p ?started } }"
    left = store._select(log, dataset=None, what="test")["results"]["bindings"]
    assert left, "the killed import's staging graph is logged"
    leftover = left[0]["g"]["value"]
    store.update(
        "DELETE WHERE { GRAPH <urn:justify:staging> { ?g ?p ?o } } ;\n"
        f"INSERT DATA {{ GRAPH <urn:justify:staging> {{ <{leftover}> "
        f'<urn:justify:store#started> "{int(time.time()) - 2 * 86400}" }} }} ;\n'
        # What it had written before the kill (it may have died before its first batch).
        f"INSERT DATA {{ GRAPH <{leftover}> {{ <urn:x:s> <urn:x:p> <urn:x:o> }} }}",
        what="age the leftover",
    )
    again = invoke("import", "mlflow", "--full", env=env, cwd=ws)
    assert again.exit_code == 0, again.output
    assert store.graph_sizes() == before
    assert not store._select(
        f"ASK {{ GRAPH <{leftover}> {{ ?s ?p ?o }} }}", dataset=None, what="test"
    )["boolean"]
    assert not store._select(log, dataset=None, what="test")["results"]["bindings"]
