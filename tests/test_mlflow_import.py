"""The MLflow importer against a real `mlflow server` (SQLite backend) and a direct
`sqlite:///` store; the graph is compared with what MLflow's own client returns."""

from __future__ import annotations

import dataclasses
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_justify
from mlflow_scenario import (
    COMMIT,
    LONG_PARAM,
    NON_ASCII_TAGS,
    ODD_METRICS,
    Scenario,
    all_active_runs,
    log_scenario,
)
from servers import KillingProxy, MlflowServer, free_port, mlflow_server

import justify
from justify.config import Config
from justify.errors import SourceUnavailable
from justify.importers import ImportSummary
from justify.importers.mlflow import import_mlflow
from justify.store import EmbeddedStore

pytestmark = pytest.mark.slow  # real mlflow servers, with and without authentication


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    with mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as srv:
        yield srv


@pytest.fixture(scope="module")
def scenario(server: MlflowServer) -> Scenario:
    return log_scenario(server.url)


@pytest.fixture
def imported(
    config: Config, store: EmbeddedStore, server: MlflowServer, scenario: Scenario
) -> ImportSummary:
    justify.load(config=config)
    return import_mlflow(tracking_uri=server.url, config=config, progress=False)


def q(config: Config, sparql: str) -> list[dict[str, str | None]]:
    return justify.query(sparql, config=config).values()


def run_values(config: Config, run_id: str, kind: str) -> dict[str, str]:
    predicate = {"param": "jf:hasParameter", "tag": "jf:hasTag"}[kind]
    rows = q(
        config,
        f"""SELECT ?k ?v WHERE {{ ?r jf:runId "{run_id}" ; {predicate} ?x .
                              ?x jf:key ?k ; jf:textValue ?v }}""",
    )
    return {r["k"]: r["v"] for r in rows}  # type: ignore[misc]


def test_runs_params_tags_and_latest_metrics_match_mlflow(imported, config, scenario) -> None:
    runs = all_active_runs(scenario.uri)
    assert imported["runs"] == len(runs) == 5  # the deleted run is not read
    graph_ids = {r["id"] for r in q(config, "SELECT ?id WHERE { ?r a jf:Run ; jf:runId ?id }")}
    assert graph_ids == {r.info.run_id for r in runs}
    for run in runs:
        rid = run.info.run_id
        assert run_values(config, rid, "param") == run.data.params
        assert run_values(config, rid, "tag") == {
            k: v.replace("bob:s3cr3t-t0ken@", "***@") for k, v in run.data.tags.items()
        }
        info = q(
            config,
            f"""SELECT ?status ?name ?exp ?start ?end ?user WHERE {{
            ?r jf:runId "{rid}" ; jf:runStatus ?status ; dcterms:title ?name ;
               jf:inExperiment/jf:experimentId ?exp ; prov:startedAtTime ?start ;
               prov:endedAtTime ?end ; jf:user ?user }}""",
        )[0]
        assert run.info.status == "FINISHED" and info["status"] == "finished"  # source-neutral
        assert info["name"] == run.info.run_name
        assert info["exp"] == run.info.experiment_id
        assert info["user"] == run.info.user_id
        assert abs(_epoch_ms(info["start"]) - run.info.start_time) < 1
        metrics = {
            r["k"]: (float(r["v"]), int(r["step"]))  # type: ignore[arg-type]
            for r in q(
                config,
                f"""SELECT ?k ?v ?step WHERE {{ ?r jf:runId "{rid}" ;
                jf:hasMeasurement ?m . ?m jf:metricKey ?k ; jf:value ?v ; jf:step ?step }}""",
            )
        }
        expected = {m.key: (m.value, m.step) for m in run.data._metric_objs}
        assert metrics.keys() == expected.keys()
        for key, (value, step) in expected.items():
            got_value, got_step = metrics[key]
            assert got_step == step
            assert (math.isnan(got_value) and math.isnan(value)) or got_value == value


def _epoch_ms(text: str | None) -> float:
    from datetime import datetime

    assert text is not None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


def test_experiments_with_tags_and_lifecycle(imported, config, scenario) -> None:
    rows = q(
        config,
        """SELECT ?id ?name ?stage WHERE { ?e a jf:Experiment ; jf:experimentId ?id ;
                        dcterms:title ?name ; jf:lifecycleStage ?stage }""",
    )
    names = {r["name"] for r in rows}
    assert {"screening-training", "exploration", "Default"} <= names
    tag = q(
        config,
        """SELECT ?v WHERE { ?e dcterms:title "screening-training" ; jf:hasTag ?t .
                       ?t jf:key "team" ; jf:textValue ?v }""",
    )
    assert tag == [{"v": "ml"}]


def test_datasets_contexts_and_metric_datasets(imported, config, scenario) -> None:
    from mlflow import MlflowClient

    run = MlflowClient(scenario.uri).get_run(scenario.runs["baseline"])
    ds = run.inputs.dataset_inputs[0].dataset
    rows = q(
        config,
        f"""SELECT ?name ?digest ?type ?context WHERE {{
        ?r jf:runId "{scenario.runs["baseline"]}" ; prov:qualifiedUsage ?u .
        ?u prov:entity ?d ; jf:context ?context .
        ?d dcterms:title ?name ; jf:digest ?digest ; jf:sourceType ?type }}""",
    )
    assert rows == [
        {"name": ds.name, "digest": ds.digest, "type": ds.source_type, "context": "test"}
    ]
    assert imported["datasets"] == 1  # both runs used the same dataset: one node
    on = q(
        config,
        f"""SELECT ?name WHERE {{ ?r jf:runId "{scenario.runs["candidate"]}" ;
        jf:hasMeasurement ?m .
        ?m jf:metricKey "test_recall" ; jf:onDataset/dcterms:title ?name }}""",
    )
    assert on == [{"name": "bc-test"}]


def test_logged_model_registry_versions_and_aliases(imported, config, scenario) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(scenario.uri)
    model = client.get_logged_model(scenario.model_id)
    rows = q(
        config,
        f"""SELECT ?name ?status ?run WHERE {{ ?m jf:modelId "{scenario.model_id}" ;
        dcterms:title ?name ; jf:modelStatus ?status ; jf:producedBy/jf:runId ?run }}""",
    )
    assert rows == [{"name": model.name, "status": "READY", "run": scenario.runs["candidate"]}]
    version = client.get_model_version_by_alias("screening-model", "champion")
    rows = q(
        config,
        """SELECT ?n ?alias ?run ?model ?status ?tag WHERE {
        ?v a jf:ModelVersion ; jf:versionNumber ?n ; jf:alias ?alias ; jf:modelStatus ?status ;
           jf:versionOf/dcterms:title "screening-model" ; jf:producedBy/jf:runId ?run ;
           jf:loggedModel/jf:modelId ?model ; jf:hasTag/jf:textValue ?tag }""",
    )
    assert rows == [
        {
            "n": str(version.version),
            "alias": "champion",
            "run": version.run_id,
            "model": scenario.model_id,
            "status": "READY",
            "tag": "yes",
        }
    ]
    assert (imported["logged models"], imported["registered models"], imported["versions"]) == (
        1,
        1,
        1,
    )


def test_requirement_links_from_tags_and_model_scope(imported, config, scenario) -> None:
    tagged = {
        r["id"]
        for r in q(
            config,
            """SELECT ?id WHERE {
        ?r jf:supports/dcterms:identifier "REQ-REC-1" ; a jf:Run ; jf:runId ?id }""",
        )
    }
    assert tagged == {scenario.runs["baseline"], scenario.runs["candidate"]}
    # REQ-TOP-1, REQ-REC-1 and REQ-PREC-1 are scoped to screening-model@champion: the
    # importer writes no link for that (it would freeze the alias as it was); the
    # judgement resolves the scope when it checks.
    assert not justify.query("ASK { ?v a jf:ModelVersion ; jf:supports ?r }", config=config).boolean
    judged = justify.judge(config=config)
    champion = next(m for m in judged.models if "champion" in m.aliases)
    scoped = {rid for rid, req in judged.requirements.items() if req.scoped_version == champion.iri}
    assert scoped == {"REQ-TOP-1", "REQ-REC-1", "REQ-PREC-1"}


def test_unknown_requirement_in_a_tag_is_kept_and_reported(imported, config, scenario) -> None:
    assert any("unknown requirement 'REQ-NOPE'" in w for w in imported.warnings)
    kept = q(
        config,
        f"""SELECT ?req WHERE {{ ?r jf:runId "{scenario.runs["candidate"]}" ;
        jf:supports ?req FILTER NOT EXISTS {{ ?req a jf:Requirement }} }}""",
    )
    assert len(kept) == 1 and kept[0]["req"].endswith("requirement/REQ-NOPE")  # type: ignore[union-attr]


def test_history_only_for_criteria_metrics_of_evidence_runs(imported, config, scenario) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(scenario.uri)
    rows = q(
        config,
        """SELECT ?run ?key ?step ?v WHERE { ?r jf:runId ?run ; jf:hasMeasurement ?m .
        ?m jf:metricKey ?key ; jf:historyPoint ?h . ?h jf:step ?step ; jf:value ?v }""",
    )
    got = {(r["run"], r["key"], int(r["step"]), float(r["v"])) for r in rows}  # type: ignore[arg-type]
    expected = {
        (run_id, "test_recall", m.step, m.value)
        for run_id in (scenario.runs["baseline"], scenario.runs["candidate"])
        for m in client.get_metric_history(run_id, "test_recall")
    }
    assert got == expected
    assert len(got) == 5  # 3 baseline + 2 candidate; nothing for other metrics or runs


def test_git_link_is_stored_without_credentials(imported, config, scenario, tmp_path) -> None:
    rows = q(
        config,
        f"""SELECT ?sha ?branch ?url WHERE {{ ?r jf:runId "{scenario.runs["baseline"]}" ;
        jf:gitCommitSha ?sha ; jf:gitBranch ?branch ; jf:remoteUrl ?url }}""",
    )
    assert rows == [
        {"sha": COMMIT, "branch": "main", "url": "https://git.example.com/org/screening.git"}
    ]
    dump = tmp_path / "all.nq"
    justify.export("nquads", output=dump, config=config)
    assert "s3cr3t" not in dump.read_text(encoding="utf-8")


def test_odd_data_imports_without_loss(imported, config, scenario) -> None:
    rid = scenario.runs["odd"]
    assert run_values(config, rid, "param") == {"long": LONG_PARAM}
    tags = run_values(config, rid, "tag")
    for key, value in NON_ASCII_TAGS.items():
        assert tags[key] == value
    values = {
        r["k"]: r["v"]
        for r in q(
            config,
            f"""SELECT ?k ?v WHERE {{ ?r jf:runId "{rid}" ;
        jf:hasMeasurement ?m . ?m jf:metricKey ?k ; jf:value ?v }}""",
        )
    }
    assert set(values) == set(ODD_METRICS)
    assert values["not a number"] == "NaN"
    assert float(values["val loss/epoch 1"]) == 0.5
    assert float(values["too big"]) > 1e300  # MLflow's SQL store caps infinity


def test_nested_run_links_its_parent(imported, config, scenario) -> None:
    rows = q(
        config,
        f"""SELECT ?parent WHERE {{ ?r jf:runId "{scenario.runs["child"]}" ;
        jf:parentRun/jf:runId ?parent }}""",
    )
    assert rows == [{"parent": scenario.runs["candidate"]}]


def test_cli_import_then_query_requirement_run_metric(run_cli, workspace, server, scenario) -> None:
    assert run_cli("load", cwd=workspace).exit_code == 0
    result = run_cli("import", "mlflow", "--tracking-uri", server.url, cwd=workspace)
    assert result.exit_code == 0, result.output
    assert "5 runs, 5 added, 0 updated, 0 removed" in result.stdout
    assert (
        "warning: run tag 'justify.requirements' names unknown requirement 'REQ-NOPE'"
        in result.stderr
    )
    shown = run_cli(
        "query",
        """SELECT ?req ?run ?value WHERE { ?r jf:supports/dcterms:identifier ?req ;
        dcterms:title ?run ; jf:hasMeasurement [ jf:metricKey "test_recall" ; jf:value ?value ] }
        ORDER BY ?run""",
        "--format",
        "csv",
        cwd=workspace,
    )
    lines = shown.stdout.splitlines()
    assert lines[0] == "req,run,value"
    assert lines[1].startswith("REQ-REC-1,baseline,0.8")


# ------------------------------------------------------------- incremental


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Scenario]:
    """The scenario logged once into a direct sqlite:/// store, copied by each test."""
    folder = tmp_path_factory.mktemp("template")
    sc = log_scenario(f"sqlite:///{folder / 'mlflow.db'}", (folder / "artifacts").as_uri())
    return folder / "mlflow.db", sc


def copy_of(template: tuple[Path, Scenario], folder: Path) -> Scenario:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(template[0], folder / "mlflow.db")
    return dataclasses.replace(template[1], uri=f"sqlite:///{folder / 'mlflow.db'}")


@pytest.fixture
def sqlite_source(template: tuple[Path, Scenario], tmp_path: Path) -> Scenario:
    """A direct sqlite:/// store holding the scenario, for this test alone."""
    return copy_of(template, tmp_path / "source")


def _log_run(uri: str, experiment_id: str, name: str, **metrics: float) -> str:
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    run = client.create_run(
        experiment_id, run_name=name, tags={"justify.requirements": "REQ-REC-1"}
    )
    for key, value in metrics.items():
        client.log_metric(run.info.run_id, key, value)
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def test_incremental_import_reads_only_what_changed(config, sqlite_source) -> None:
    from mlflow import MlflowClient

    justify.load(config=config)
    first = import_mlflow(tracking_uri=sqlite_source.uri, config=config, progress=False)
    assert first.full and first["added"] == 5

    client = MlflowClient(sqlite_source.uri)
    new = [
        _log_run(sqlite_source.uri, sqlite_source.experiment_id, f"new-{i}", test_recall=0.9)
        for i in range(2)
    ]
    client.delete_run(sqlite_source.runs["odd"])
    second = import_mlflow(tracking_uri=sqlite_source.uri, config=config, progress=False)
    assert not second.full
    assert (second["added"], second["removed"]) == (2, 1)
    assert second["runs"] == 2  # only the new runs were read
    graph_ids = {r["id"] for r in q(config, "SELECT ?id WHERE { ?r a jf:Run ; jf:runId ?id }")}
    assert graph_ids == {r.info.run_id for r in all_active_runs(sqlite_source.uri)}
    assert set(new) <= graph_ids and sqlite_source.runs["odd"] not in graph_ids
    # Nothing of the deleted run is left behind.
    left = q(
        config,
        f"""SELECT ?s WHERE {{ ?s ?p ?o FILTER(CONTAINS(STR(?s),
        "{sqlite_source.runs["odd"]}")) }}""",
    )
    assert left == []
    # A run that was running is re-read when it ends.
    running = client.create_run(sqlite_source.experiment_id, run_name="long")
    client.log_metric(running.info.run_id, "test_recall", 0.1)
    third = import_mlflow(tracking_uri=sqlite_source.uri, config=config, progress=False)
    assert third["added"] == 1
    client.log_metric(running.info.run_id, "test_recall", 0.95)
    client.set_terminated(running.info.run_id)
    fourth = import_mlflow(tracking_uri=sqlite_source.uri, config=config, progress=False)
    assert (fourth["added"], fourth["updated"]) == (0, 1)
    rows = q(
        config,
        f"""SELECT ?status ?v WHERE {{ ?r jf:runId "{running.info.run_id}" ;
        jf:runStatus ?status ; jf:hasMeasurement [ jf:value ?v ] }}""",
    )
    assert rows == [{"status": "finished", "v": "0.95"}]


def test_registry_changes_are_picked_up_incrementally(config, sqlite_source) -> None:
    import mlflow
    from mlflow import MlflowClient

    justify.load(config=config)
    import_mlflow(tracking_uri=sqlite_source.uri, config=config, progress=False)
    client = MlflowClient(sqlite_source.uri)
    mlflow.set_tracking_uri(sqlite_source.uri)  # the registry looks the logged model up there
    newer = client.create_model_version(
        "screening-model",
        f"models:/{sqlite_source.model_id}",
        run_id=sqlite_source.runs["baseline"],
        model_id=sqlite_source.model_id,
    )
    client.set_registered_model_alias("screening-model", "champion", newer.version)
    import_mlflow(tracking_uri=sqlite_source.uri, config=config, progress=False)
    rows = q(
        config,
        """SELECT ?n ?alias ?run WHERE { ?v jf:versionNumber ?n ;
        jf:producedBy/dcterms:title ?run OPTIONAL { ?v jf:alias ?alias } } ORDER BY ?n""",
    )
    assert rows == [
        {"n": "1", "alias": None, "run": "candidate"},
        {"n": "2", "alias": "champion", "run": "baseline"},
    ]
    judged = justify.judge(config=config)
    scoped = {judged.model(req.scoped_version).version for req in judged.requirements.values()
              if req.scoped_version}  # fmt: skip
    assert scoped == {2}  # the alias as it is now


def test_full_reimport_rereads_everything(config, sqlite_source) -> None:
    justify.load(config=config)
    import_mlflow(tracking_uri=sqlite_source.uri, config=config, progress=False)
    again = import_mlflow(tracking_uri=sqlite_source.uri, full=True, config=config, progress=False)
    assert again.full and again["runs"] == 5 and again["updated"] == 5 and again["added"] == 0


def test_one_experiment_only(config, sqlite_source) -> None:
    summary = import_mlflow(
        tracking_uri=sqlite_source.uri, experiments=["exploration"], config=config, progress=False
    )
    assert summary["runs"] == 1
    with pytest.raises(justify.UsageError, match="no experiment named 'nope'"):
        import_mlflow(
            tracking_uri=sqlite_source.uri, experiments=["nope"], config=config, progress=False
        )


# ------------------------------------------------------------------ faults


def test_closed_port_exits_3_naming_the_url(workspace: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_justify("import", "mlflow", "--tracking-uri", url, cwd=workspace)
    assert result.returncode == 3
    assert f"cannot read MLflow at {url}" in result.stderr
    assert "check that the tracking server is running" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_sqlite_file_exits_3_and_creates_nothing(workspace: Path) -> None:
    result = run_justify(
        "import", "mlflow", "--tracking-uri", "sqlite:///nowhere/mlflow.db", cwd=workspace
    )
    assert result.returncode == 3
    assert "no MLflow database at" in result.stderr and "nowhere/mlflow.db" in result.stderr
    assert not (workspace / "nowhere").exists()


def test_no_tracking_uri_is_a_usage_error(workspace: Path) -> None:
    (workspace / "justify.toml").write_text('base_iri = "https://example.org/x/"\n')
    result = run_justify("import", "mlflow", cwd=workspace, env={"MLFLOW_TRACKING_URI": ""})
    assert result.returncode == 2
    assert "no MLflow tracking URI is set" in result.stderr


def test_not_an_mlflow_server_exits_3(workspace: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    port = free_port()
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from servers import wait_for_http

        wait_for_http(f"http://127.0.0.1:{port}/", web, tmp_path / "none.log")
        result = run_justify(
            "import", "mlflow", "--tracking-uri", f"http://127.0.0.1:{port}", cwd=workspace
        )
    finally:
        web.kill()
    assert result.returncode == 3
    assert f"http://127.0.0.1:{port}" in result.stderr


def test_server_dying_mid_import_keeps_the_previous_graph(config, template, tmp_path) -> None:
    copy_of(template, tmp_path / "dying")  # the server serves a copy of the scenario
    srv = MlflowServer(tmp_path / "dying").start()
    try:
        justify.load(config=config)
        with KillingProxy(srv, kill_on=10_000) as proxy:
            first = import_mlflow(tracking_uri=proxy.url, config=config, progress=False)
            store = EmbeddedStore(config.store_location)
            before = store.graph_sizes()[first.graph]
            # The same source (same URL) again; the server dies half-way through.
            proxy.kill_on, proxy.count = proxy.count // 2, 0
            with pytest.raises(SourceUnavailable, match="cannot read MLflow at"):
                import_mlflow(tracking_uri=proxy.url, config=config, progress=False, full=True)
            assert srv.proc is not None and srv.proc.poll() is not None  # it really died
    finally:
        srv.stop()
    assert store.graph_sizes()[first.graph] == before


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    with mlflow_server(tmp_path_factory.mktemp("mlflow-auth"), auth=True) as srv:
        yield srv


@pytest.mark.parametrize("password", ["wrong-password", None])
def test_refused_credentials_exit_3_without_printing_them(workspace, auth_server, password) -> None:
    env = {"MLFLOW_TRACKING_USERNAME": "admin"} if password else {}
    if password:
        env["MLFLOW_TRACKING_PASSWORD"] = password
    result = run_justify(
        "import", "mlflow", "--tracking-uri", auth_server.url, cwd=workspace, env=env
    )
    assert result.returncode == 3
    assert f"the MLflow server at {auth_server.url} refused the request" in result.stderr
    assert "MLFLOW_TRACKING_USERNAME" in result.stderr
    assert "wrong-password" not in result.stderr + result.stdout


def test_right_credentials_import(workspace, auth_server) -> None:
    env = {
        "MLFLOW_TRACKING_USERNAME": "admin",
        "MLFLOW_TRACKING_PASSWORD": auth_server.admin_password,
    }
    result = run_justify(
        "import", "mlflow", "--tracking-uri", auth_server.url, cwd=workspace, env=env
    )
    assert result.returncode == 0, result.stderr
    assert auth_server.admin_password not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("uri", "code", "words"),
    [
        ("file:///nonexistent", 2, "names a file store"),
        ("garbage-uri", 2, "is not a URL"),
        ("ftp://example.org/x", 2, "unsupported scheme 'ftp'"),
        ("http://[::1", 2, "is not a valid URL"),
        ("sqlite:///empty.db", 3, "holds no MLflow tables"),
        ("sqlite:///text.db", 3, "is not an SQLite database"),
    ],
)
def test_bad_tracking_uris_exit_with_the_contract_code_and_leave_files_alone(
    tmp_path: Path, uri: str, code: int, words: str
) -> None:
    (tmp_path / "justify.toml").write_text("")
    (tmp_path / "empty.db").write_bytes(b"")
    (tmp_path / "text.db").write_text("not a database\n")
    result = run_justify("import", "mlflow", "--tracking-uri", uri, cwd=tmp_path)
    assert result.returncode == code, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
    # A source is only read: MLflow did not create its tables in the user's files.
    assert (tmp_path / "empty.db").read_bytes() == b""
    assert (tmp_path / "text.db").read_text() == "not a database\n"
