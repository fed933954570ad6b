"""The OpenLineage importer and receiver, fed by the real `openlineage-python` client
through its file transport and its HTTP transport; what lands in the graph is compared
with the events the client wrote."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers import run_justify, write
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import data_quality_assertions_dataset as dqa
from openlineage.client.facet_v2 import data_quality_metrics_input_dataset as dqm
from openlineage.client.facet_v2 import dataset_version_dataset, parent_run, schema_dataset
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import HttpConfig, HttpTransport

import justify
from justify import JustifyJobFacet, JustifyRunFacet
from justify.config import load_config

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
PRODUCER = "https://example.org/tests/pipeline"
RUN_IDS = {  # fixed ids, so the graph can be compared with what was emitted
    name: f"0193{n:04x}-0000-7000-8000-{n:012x}"
    for n, name in enumerate(("dag", "validate", "train", "aborted", "running", "later"), 1)
}
REQUIREMENTS = """requirements:
  - id: REQ-DATA-1
    title: Clean training data
    kind: data
    pattern: validated
    status: approved
    criteria:
      - {metric: rowCount, op: ">=", threshold: 100, dataset: train.csv}
      - {metric: age.nullCount, op: "<=", threshold: 0, dataset: train.csv}
"""
PATTERN = """patterns:
  - id: validated
    title: The data passed its validation
    conclusion: "{title}"
    strategy: {label: the validation job checks the data, rationale: r, usage_domain: d}
    supports:
      - id: validation
        label: the latest validation run completed with every assertion passed
        job_run: {job: validate_input}
        how: run the validation job
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(
        root / "justify.toml",
        'base_iri = "https://example.org/ol/"\nopenlineage_events = "lineage"\n'
        'patterns = ["patterns"]\n',
    )
    write(root / "requirements" / "data.yaml", REQUIREMENTS)
    write(root / "patterns" / "validated.yaml", PATTERN)
    assert run_justify("load", cwd=root).returncode == 0
    return root


def file_client(path: Path, **options: Any) -> OpenLineageClient:
    path.parent.mkdir(parents=True, exist_ok=True)
    return OpenLineageClient(transport=FileTransport(FileConfig(str(path), **options)))


def train_csv(rows: int, nulls: int, passed: bool, version: str = "v1") -> InputDataset:
    return InputDataset(
        namespace="s3://lake",
        name="train.csv",
        facets={
            "version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=version),
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[
                    schema_dataset.SchemaDatasetFacetFields(name="age", type="int"),
                    schema_dataset.SchemaDatasetFacetFields(name="income", type="double"),
                ]
            ),
        },
        inputFacets={
            "dataQualityMetrics": dqm.DataQualityMetricsInputDatasetFacet(
                rowCount=rows,
                columnMetrics={"age": dqm.ColumnMetrics(nullCount=nulls, distinctCount=40)},
            ),
            "dataQualityAssertions": dqa.DataQualityAssertionsDatasetFacet(
                assertions=[
                    dqa.Assertion(assertion="not_null", success=passed, column="age"),
                    dqa.Assertion(assertion="row_count", success=True),
                ]
            ),
        },
    )


def event(
    state: str,
    run: str,
    job: str,
    minutes: float,
    *,
    inputs: list[InputDataset] | None = None,
    outputs: list[OutputDataset] | None = None,
    requirements: list[str] | None = None,
    job_requirements: list[str] | None = None,
    parent: str | None = None,
) -> RunEvent:
    facets: dict[str, Any] = {}
    if requirements:
        facets["justify"] = JustifyRunFacet(requirements=requirements)
    if parent:
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=RUN_IDS[parent]),
            job=parent_run.Job(namespace="pipelines", name="nightly"),
        )
    job_facets = (
        {"justify": JustifyJobFacet(requirements=job_requirements)} if job_requirements else {}
    )
    return RunEvent(
        eventType=RunState[state],
        eventTime=(T0 + timedelta(minutes=minutes)).isoformat(),
        run=Run(runId=RUN_IDS[run], facets=facets),
        job=Job(namespace="pipelines", name=job, facets=job_facets),
        inputs=inputs or [],
        outputs=outputs or [],
        producer=PRODUCER,
    )


def pipeline() -> list[RunEvent]:
    """A nightly DAG run with a validation task (justifying REQ-DATA-1 through its run
    facet), a training task that fails, one aborted, one still running."""
    data = train_csv(rows=1200, nulls=0, passed=True)
    model = OutputDataset(namespace="s3://lake", name="model.pkl")
    return [
        event("START", "dag", "nightly", 0),
        event("START", "validate", "validate_input", 1, parent="dag", requirements=["REQ-DATA-1"]),
        event("COMPLETE", "validate", "validate_input", 3, inputs=[data], parent="dag"),
        event(
            "START",
            "train",
            "train",
            4,
            inputs=[InputDataset("s3://lake", "train.csv")],
            parent="dag",
        ),
        event("FAIL", "train", "train", 9, outputs=[model], parent="dag"),
        event("START", "aborted", "train", 10),
        event("ABORT", "aborted", "train", 11),
        event("START", "running", "score", 12, job_requirements=["REQ-SCORE-1"]),
        event("COMPLETE", "dag", "nightly", 13),
    ]


def rows(project: Path, sparql: str) -> list[dict[str, str | None]]:
    return justify.query(sparql, config=load_config(project / "justify.toml")).values()


def runs_in_graph(project: Path) -> dict[str, dict[str, str | None]]:
    found = rows(
        project,
        """SELECT ?id ?status ?start ?end ?job ?parent WHERE {
             ?r a jf:Run ; jf:runId ?id ; jf:runStatus ?status ; prov:startedAtTime ?start ;
                jf:inExperiment/dcterms:title ?job .
             OPTIONAL { ?r prov:endedAtTime ?end }
             OPTIONAL { ?r jf:parentRun/jf:runId ?parent } }""",
    )
    return {str(r["id"]): r for r in found}


def test_file_transport_events_become_jobs_runs_datasets_and_quality_figures(project) -> None:
    client = file_client(project / "lineage" / "events.jsonl", append=True)
    for e in pipeline():
        client.emit(e)
    result = run_justify("import", "openlineage", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "openlineage full import" in result.stdout and "9 events, 5 runs" in result.stdout
    assert "unknown requirement 'REQ-SCORE-1'" in result.stderr  # from the job facet

    runs = runs_in_graph(project)
    expected = {"dag": "finished", "validate": "finished", "train": "failed",
                "aborted": "killed", "running": "running"}  # fmt: skip
    assert {name: runs[RUN_IDS[name]]["status"] for name in expected} == expected
    for e in pipeline():  # each run starts at its START and ends at its last end event
        got = runs[e.run.runId]
        when = datetime.fromisoformat(e.eventTime)
        if e.eventType == RunState.START:
            assert datetime.fromisoformat(str(got["start"]).replace("Z", "+00:00")) == when
        elif e.eventType in (RunState.COMPLETE, RunState.FAIL, RunState.ABORT):
            assert datetime.fromisoformat(str(got["end"]).replace("Z", "+00:00")) == when
    assert runs[RUN_IDS["running"]]["end"] is None
    assert runs[RUN_IDS["validate"]]["parent"] == runs[RUN_IDS["train"]]["parent"] == RUN_IDS["dag"]
    assert runs[RUN_IDS["train"]]["job"] == "train"

    # The data-quality facets, as measurements of the run on the dataset version.
    figures = rows(
        project,
        """SELECT ?id ?key ?value ?dataset ?version WHERE {
             ?r jf:runId ?id ; jf:hasMeasurement ?m .
             ?m jf:metricKey ?key ; jf:value ?value ; jf:onDataset ?d .
             ?d dcterms:title ?dataset ; jf:digest ?version }""",
    )
    assert {f["id"] for f in figures} == {RUN_IDS["validate"]}  # the only run with facets
    assert {(f["key"], float(str(f["value"]))) for f in figures} == {
        ("rowCount", 1200.0),
        ("age.nullCount", 0.0),
        ("age.distinctCount", 40.0),
        ("assertion.not_null.age", 1.0),
        ("assertion.row_count", 1.0),
    }
    assert {(f["dataset"], f["version"]) for f in figures} == {("train.csv", "v1")}
    schema = rows(
        project,
        """SELECT ?name ?type ?position WHERE { ?d a jf:Dataset ; dcterms:title "train.csv" ;
             jf:hasField [ jf:key ?name ; jf:textValue ?type ; jf:position ?position ] }
           ORDER BY ?position""",
    )
    assert [(s["name"], s["type"]) for s in schema] == [("age", "int"), ("income", "double")]
    lineage = rows(
        project,
        """SELECT ?id ?used ?made WHERE { ?r jf:runId ?id .
             OPTIONAL { ?r jf:usedDataset/dcterms:title ?used }
             OPTIONAL { ?out prov:wasGeneratedBy ?r ; dcterms:title ?made } }""",
    )
    used = {(r["used"], r["made"]) for r in lineage if r["id"] == RUN_IDS["train"]}
    assert used == {("train.csv", "model.pkl")}

    # The validation run is the requirement's evidence; the criteria and the pattern's
    # job_run slot are judged on it, by both engines alike.
    outcome = {}
    for engine in ("fast", "pyshacl"):
        checked = run_justify("check", "--engine", engine, "--format", "json", cwd=project)
        report = json.loads(checked.stdout)
        outcome[engine] = (
            checked.returncode,
            [(r["id"], r["status"]) for r in report["requirements"]],
        )
    assert outcome["fast"] == outcome["pyshacl"] == (0, [("REQ-DATA-1", "justified")])
    traced = run_justify("trace", "REQ-DATA-1", cwd=project).stdout
    assert "via justify facet  <- current evidence" in traced  # named in the source's words


def test_one_pretty_printed_event_per_file_and_a_folder_of_them(project) -> None:
    """The file transport's default (one timestamped file per event) in debug mode
    (indented JSON over many lines)."""
    client = file_client(project / "lineage" / "ol", append=False, debug_mode=True)
    for e in pipeline():
        client.emit(e)
    files = sorted((project / "lineage").glob("ol-*.json"))
    assert len(files) == 9 and all(f.read_text().count("\n") > 5 for f in files)
    result = run_justify("import", "openlineage", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "9 files, 9 events, 5 runs" in result.stdout
    assert runs_in_graph(project)[RUN_IDS["train"]]["status"] == "failed"


def graph_triples(project: Path) -> set[tuple[str | None, ...]]:
    """The OpenLineage graph's triples but its import record (times differ)."""
    found = rows(
        project,
        """SELECT ?s ?p ?o WHERE { ?s ?p ?o .
             FILTER (STRSTARTS(STR(?s), "https://example.org/ol/openlineage/")) }""",
    )
    return {(r["s"], r["p"], r["o"]) for r in found}


def test_incremental_imports_read_what_was_appended_and_match_a_full_import(project) -> None:
    events = project / "lineage" / "events.jsonl"
    client = file_client(events, append=True)
    for e in pipeline():
        client.emit(e)
    assert run_justify("import", "openlineage", cwd=project).returncode == 0
    # The running run ends; a new validation run finds missing ages and fails an assertion.
    client.emit(event("COMPLETE", "running", "score", 20))
    bad = train_csv(rows=1200, nulls=7, passed=False, version="v2")
    client.emit(event("START", "later", "validate_input", 21, requirements=["REQ-DATA-1"]))
    client.emit(event("COMPLETE", "later", "validate_input", 22, inputs=[bad]))
    result = run_justify("import", "openlineage", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "incremental import" in result.stdout
    assert "3 events, 2 runs, 1 new runs" in result.stdout
    runs = runs_in_graph(project)
    assert runs[RUN_IDS["running"]]["status"] == "finished" and runs[RUN_IDS["running"]]["end"]
    assert len(runs) == 6
    incremental = graph_triples(project)
    assert run_justify("import", "openlineage", "--full", cwd=project).returncode == 0
    assert graph_triples(project) == incremental

    # The newer validation run is now the evidence: a null count and a failed assertion.
    checked = run_justify("check", "--format", "json", cwd=project)
    report = json.loads(checked.stdout)
    assert checked.returncode == 1
    assert [(r["id"], r["status"]) for r in report["requirements"]] == [("REQ-DATA-1", "failing")]
    about = {r["rule"] for r in report["results"] if r["requirement"] == "REQ-DATA-1"}
    assert about == {"JF-THRESHOLD", "JF-PATTERN-validated-validation"}

    # A file rewritten in place (not appended to): everything is read again.
    lines = events.read_text().splitlines(keepends=True)
    events.write_text("".join(lines[:-2]))  # the last validation run never happened
    result = run_justify("import", "openlineage", cwd=project)
    assert result.returncode == 0 and "read again from the start" in result.stderr
    assert RUN_IDS["later"] not in runs_in_graph(project)
    assert run_justify("check", cwd=project).returncode == 0


def test_an_invalid_event_is_named_by_file_and_line_and_the_graph_keeps_its_import(
    project,
) -> None:
    events = project / "lineage" / "events.jsonl"
    client = file_client(events, append=True)
    for e in pipeline()[:3]:
        client.emit(e)
    assert run_justify("import", "openlineage", cwd=project).returncode == 0
    before = graph_triples(project)
    broken = json.loads(events.read_text().splitlines()[0])
    del broken["run"]["runId"]
    with events.open("a") as f:
        f.write(json.dumps(broken) + "\n")  # line 4
    for e in pipeline()[3:5]:
        client.emit(e)  # lines 5 and 6
    result = run_justify("import", "openlineage", cwd=project)
    assert result.returncode == 2
    assert (
        f'{events}:4: not a valid OpenLineage event: run: "runId" is a required property'
        in result.stderr
    )
    assert "Traceback" not in result.stderr and graph_triples(project) == before
    skipped = run_justify("import", "openlineage", "--skip-invalid", cwd=project)
    assert skipped.returncode == 0, skipped.stderr
    assert f"{events}:4:" in skipped.stderr and "skipped" in skipped.stderr
    assert "1 invalid events skipped" in skipped.stdout
    assert runs_in_graph(project)[RUN_IDS["train"]]["status"] == "failed"  # lines 5-6 read

    with events.open("a") as f:
        f.write('{"eventType": "START", \n')  # not JSON, from line 7
    result = run_justify("import", "openlineage", cwd=project)
    assert result.returncode == 2 and f"{events}:8: not JSON" in result.stderr
    wrong = run_justify("import", "openlineage", "--events", "nowhere", cwd=project)
    assert wrong.returncode == 3 and "nowhere: no such file or folder" in wrong.stderr
    write(project / "justify.toml", "")
    unset = run_justify("import", "openlineage", cwd=project)
    assert unset.returncode == 2 and "give --events PATH" in unset.stderr


class Receiver:
    """`justify lineage receive` as a separate process on a free port."""

    def __init__(self, cwd: Path, *args: str, token: str | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUSTIFY_")}
        if token:
            env["JUSTIFY_LINEAGE_TOKEN"] = token
        self.process = subprocess.Popen(
            [sys.executable, "-m", "justify", "lineage", "receive", "--port", "0", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/api/v1/lineage", first)
        assert match, first + (self.process.stderr.read() if self.process.stderr else "")
        self.url = match.group(1)
        self.banner = first

    def stop(self) -> str:
        self.process.terminate()
        out, err = self.process.communicate(timeout=30)
        return out + err


def http_client(url: str, **config: Any) -> OpenLineageClient:
    return OpenLineageClient(transport=HttpTransport(HttpConfig.from_dict({"url": url, **config})))


def test_the_receiver_appends_what_the_http_transport_sends(project) -> None:
    receiver = Receiver(project)
    try:
        plain, gzipped = http_client(receiver.url), http_client(receiver.url, compression="gzip")
        for n, e in enumerate(pipeline()):
            (gzipped if n % 2 else plain).emit(e)
        endpoint = receiver.url + "/api/v1/lineage"
        refused = requests.post(endpoint, json={"eventType": "START"}, timeout=10)
        assert refused.status_code == 400 and "not a valid OpenLineage event" in refused.text
        assert requests.post(endpoint, data=b"{no", timeout=10).status_code == 400
        assert requests.get(endpoint, timeout=10).status_code == 405  # never reads back
        assert requests.post(receiver.url + "/other", json={}, timeout=10).status_code == 404
    finally:
        log = receiver.stop()
    received = sorted((project / "lineage").glob("received-*.jsonl"))
    assert len(received) == 1
    lines = [json.loads(line) for line in received[0].read_text().splitlines()]
    assert [(e["run"]["runId"], e["eventType"]) for e in lines] == [
        (e.run.runId, e.eventType.value) for e in pipeline()
    ]
    assert log.count("201 POST /api/v1/lineage") == 9 and "400 POST" in log
    result = run_justify("import", "openlineage", cwd=project)
    assert result.returncode == 0 and "9 events, 5 runs" in result.stdout


def test_the_receiver_with_a_token_refuses_requests_without_it(project) -> None:
    receiver = Receiver(project, "--events", "received", token="s3cret-token")
    try:
        with pytest.raises(requests.HTTPError) as refused:
            http_client(receiver.url).emit(pipeline()[0])
        assert refused.value.response.status_code == 401
        allowed = http_client(receiver.url, auth={"type": "api_key", "apiKey": "s3cret-token"})
        allowed.emit(pipeline()[0])
    finally:
        log = receiver.stop()
    assert "s3cret-token" not in log + receiver.banner
    assert "bearer token required" in receiver.banner
    received = list((project / "received").glob("received-*.jsonl"))
    assert len(received) == 1 and len(received[0].read_text().splitlines()) == 1
    exposed = run_justify("lineage", "receive", "--host", "0.0.0.0", "--port", "0", cwd=project)
    assert exposed.returncode == 2 and "JUSTIFY_LINEAGE_TOKEN" in exposed.stderr


def test_sync_imports_the_configured_events_and_the_job_facet_links_every_run(project) -> None:
    client = file_client(project / "lineage" / "events.jsonl", append=True)
    client.emit(event("START", "validate", "validate_input", 1, job_requirements=["REQ-DATA-1"]))
    client.emit(
        event("COMPLETE", "validate", "validate_input", 2, inputs=[train_csv(150, 0, True)])
    )
    synced = run_justify("sync", cwd=project, env={"MLFLOW_TRACKING_URI": ""})  # no MLflow
    assert synced.returncode == 0, synced.stderr
    assert "openlineage full import" in synced.stdout
    linked = rows(
        project,
        'SELECT ?id WHERE { ?r jf:supports/dcterms:identifier "REQ-DATA-1" ; jf:runId ?id }',
    )
    assert [r["id"] for r in linked] == [RUN_IDS["validate"]]
    assert run_justify("check", cwd=project).returncode == 0


def test_the_readme_example_emits_events_that_justify_a_requirement(
    project, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## OpenLineage") : readme.index("## Write an importer")]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    (project / "lineage").mkdir()
    monkeypatch.chdir(project)
    exec(compile(example, "README.md", "exec"), {})  # the README's own code
    result = run_justify("import", "openlineage", cwd=project)
    assert result.returncode == 0 and "2 events, 1 runs" in result.stdout, result.stderr
    found = rows(
        project,
        """SELECT ?key ?value WHERE { ?r jf:supports/dcterms:identifier "REQ-DATA-1" ;
             jf:runStatus "finished" ;
             jf:hasMeasurement [ jf:metricKey ?key ; jf:value ?value ] }""",
    )
    assert [(f["key"], float(str(f["value"]))) for f in found] == [("assertion.not_null.age", 1.0)]


def test_an_event_still_being_appended_is_read_when_it_is_whole(project) -> None:
    """A pipeline or the receiver may be writing the last line while justify reads."""
    events = project / "lineage" / "events.jsonl"
    client = file_client(events, append=True)
    for e in pipeline()[:2]:
        client.emit(e)
    line = json.dumps(json.loads(events.read_text().splitlines()[0]) | {"eventType": "COMPLETE"})
    with events.open("a") as f:
        f.write(line[:40])  # half an event, no newline yet
    result = run_justify("import", "openlineage", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "2 events" in result.stdout
    assert runs_in_graph(project)[RUN_IDS["dag"]]["status"] == "running"
    with events.open("a") as f:
        f.write(line[40:] + "\n")
    result = run_justify("import", "openlineage", cwd=project)
    assert result.returncode == 0 and "incremental import" in result.stdout, result.stderr
    assert "1 events" in result.stdout and "read again" not in result.stderr
    assert runs_in_graph(project)[RUN_IDS["dag"]]["status"] == "finished"


def test_a_nan_figure_from_the_client_is_refused_with_its_path(project) -> None:
    """The client's JSON writer emits NaN, which JSON and the schema do not allow."""
    events = project / "lineage" / "events.jsonl"
    client = file_client(events, append=True)
    data = train_csv(rows=100, nulls=0, passed=True)
    data.inputFacets["dataQualityMetrics"].columnMetrics["age"].sum = float("nan")
    client.emit(event("START", "validate", "validate_input", 1, inputs=[data]))
    assert "NaN" in events.read_text()
    result = run_justify("import", "openlineage", cwd=project)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        f"{events}:1: not a valid OpenLineage event: inputs[0].inputFacets.dataQualityMetrics"
        ".columnMetrics.age.sum: NaN or Infinity is not a JSON number"
    ) in result.stderr
