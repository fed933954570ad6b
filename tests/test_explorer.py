"""Every page of the explorer through Streamlit's AppTest, on the demo's real store."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow
import pytest

import justify
from justify import explore
from justify._demo import DemoResult
from justify._load import load
from justify.store import open_store
from tests.explorer_env import copy_demo, open_page, texts


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory, demo_template: DemoResult) -> DemoResult:
    return copy_demo(demo_template, tmp_path_factory.mktemp("explorer") / "ws")


@pytest.fixture(autouse=True)
def _point_at_demo(demo_ws: DemoResult, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("JUSTIFY_CONFIG", str(demo_ws.config.file))
    yield


def param(at, key: str) -> str:
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else str(value)


def frame(at, index: int = 0):
    return at.dataframe[index].value


def test_overview_shows_counts_and_the_planted_problems_first() -> None:
    at = open_page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["failing"] == "1" and metrics["unjustified"] == "1"
    assert metrics["stale"] == "2" and metrics["justified"] == "2" and metrics["draft"] == "1"
    text = texts(at)
    assert "recall_gap_size = 0.132" in text  # REQ-FAIR-1's threshold failure
    assert "REQ-EXPL-1 is approved but has no current evidence" in text
    # Violations come before the stale warning.
    assert text.index("REQ-FAIR-1:") < text.index("REQ-PREC-1 changed in commit")
    sources = frame(at, 2)
    assert set(sources["source"]) == {
        "requirements",
        "mlflow",
        "openlineage",
        "dvc",
        "git",
        "check",
    }
    # Counts are counts: no delta (an arrow reads as a trend), the share beside them.
    assert all(not m.delta for m in at.metric)
    assert "14% of 7" in [c.value for c in at.caption]
    # Zeros are 0 in the by-kind and by-model tables, not empty cells.
    for table in (frame(at, 0), frame(at, 1)):
        assert not table.isnull().to_numpy().any()


def test_requirements_table_filters_and_downloads() -> None:
    at = open_page("pages/requirements.py")
    assert len(frame(at)) == 7
    at.multiselect(key="status").set_value(["stale", "failing"]).run()
    assert sorted(frame(at)["id"]) == ["REQ-FAIR-1", "REQ-PREC-1", "REQ-TOP-1"]
    at.multiselect(key="status").set_value([]).run()
    at.text_input(key="q").set_value("recall").run()
    assert sorted(frame(at)["id"]) == ["REQ-FAIR-1", "REQ-REC-1"]
    assert list(frame(at)["link"]) == ["/requirement?id=REQ-FAIR-1", "/requirement?id=REQ-REC-1"]
    assert at.get("download_button")


def test_requirements_table_opens_from_a_shared_url_with_a_status_filter() -> None:
    at = open_page("pages/requirements.py", status="unjustified")
    assert list(frame(at)["id"]) == ["REQ-EXPL-1"]


def test_a_shared_link_with_an_unknown_status_shows_a_message_not_an_exception() -> None:
    at = open_page("pages/requirements.py", status="Failing")
    assert not at.exception
    assert "asks for status 'Failing'" in at.warning[0].value
    assert len(frame(at)) == 7  # the filter is ignored: every requirement is listed


@pytest.mark.parametrize("node", ["not an iri", "abc", 'https://x/"a'])
def test_a_shared_graph_link_that_is_not_an_iri_shows_a_message(node: str) -> None:
    at = open_page("pages/graph.py", node=node)
    assert not at.exception
    assert "is not an IRI" in at.error[0].value


def test_requirement_page_shows_checks_evidence_and_history() -> None:
    at = open_page("pages/requirement.py", id="REQ-FAIR-1")
    text = texts(at)
    assert "REQ-FAIR-1: Equal recall across tumour sizes" in text
    assert "JF-THRESHOLD" in text and "recall_gap_size <= 0.1" in text
    runs = frame(at)
    assert "candidate" in set(runs["run"]) and runs["current"].any()
    history = frame(at, 1)
    assert list(history["status"]) == ["failing"]
    # The criterion's plot: dates on the time axis, the threshold line labelled, each
    # point coloured by the judgement's verdict, one series per dataset, the current
    # evidence ringed.
    chart = at.get("vega_lite_chart")[0].proto
    spec = json.loads(chart.spec)
    layers = json.dumps(spec)
    assert '"title": "run ended (UTC' in layers and '"format": "%' in layers
    assert '"text": {"field": "label"' in layers  # the threshold line's label
    assert '"color": {"field": "verdict"' in layers and '"shape": {"field": "dataset"' in layers
    assert "ringed: the current evidence, run candidate" in layers
    # The points as the browser gets them (Streamlit sends the data beside the spec).
    points = {
        (p["dataset"], p["verdict"], p["evidence"])
        for p in pyarrow.ipc.open_stream(chart.data.data).read_all().to_pylist()
    }
    assert ("breast-cancer-test", "not met", "current evidence") in points
    assert ("breast-cancer-train", "not judged", "current evidence") in points


def test_requirement_page_diagram_and_plot_data(demo_ws: DemoResult) -> None:
    store = open_store(demo_ws.config.store_location)
    view = explore.requirement_view(store, demo_ws.config.base_iri, "REQ-REC-1")
    assert view is not None
    dot = explore.justification_dot(view)
    assert '"strategy" -> "conclusion"' in dot and "test_recall &gt;= 0.85" not in dot
    assert "criterion: test_recall >= 0.85 on test" in dot and "(current evidence)" in dot
    assert "REQ-TOP-1" in dot  # the parent it supports
    (current,) = [r for r in view.runs if r["run"] in view.current]
    assert current["metrics"]["test_recall"] >= 0.85
    assert len(view.metric_history["test_recall"]) > 1  # logged over steps


def test_diagram_is_drawn_from_the_judgement(demo_ws: DemoResult) -> None:
    store = open_store(demo_ws.config.store_location)
    fair = explore.requirement_view(store, demo_ws.config.base_iri, "REQ-FAIR-1")
    assert fair is not None
    dot = explore.justification_dot(fair)
    red, green, grey = "#c62828", "#2e7d32", "#757575"
    # The criterion fails, so it is red; the current evidence misses it, so it is red too.
    (criterion,) = [ln for ln in dot.splitlines() if "criterion: recall_gap_size" in ln]
    assert "not met" in criterion and red in criterion
    (current,) = [ln for ln in dot.splitlines() if "(current evidence)" in ln]
    assert red in current
    rec = explore.requirement_view(store, demo_ws.config.base_iri, "REQ-REC-1")
    assert rec is not None
    dot = explore.justification_dot(rec)
    # One node per commit: the Justifies: commit is also the one both runs ran.
    assert dot.count('label="commit ') == 1
    (criterion,) = [ln for ln in dot.splitlines() if "criterion: test_recall" in ln]
    assert "met" in criterion and green in criterion
    (older,) = [ln for ln in dot.splitlines() if "run baseline" in ln]
    assert grey in older and "not judged" in older
    # The commit that made REQ-PREC-1 stale is drawn, pointing at the conclusion.
    prec = explore.requirement_view(store, demo_ws.config.base_iri, "REQ-PREC-1")
    assert prec is not None
    dot = explore.justification_dot(prec)
    assert "Tighten the precision requirement" in dot and "changed it after its evidence" in dot
    for colour, meaning in explore.DIAGRAM_LEGEND.items():
        assert meaning.split(":")[0] in ("green", "red", "orange", "grey"), colour


def test_requirement_page_names_an_unknown_id() -> None:
    at = open_page("pages/requirement.py", id="REQ-NOPE-9")
    assert "No requirement with id 'REQ-NOPE-9'" in texts(at)


def test_requirement_selector_updates_the_shareable_url() -> None:
    at = open_page("pages/requirement.py", id="REQ-REC-1")
    at.selectbox(key="rid").set_value("REQ-PREC-1").run()
    assert param(at, "id") == "REQ-PREC-1"
    assert "REQ-PREC-1: Screening precision" in texts(at)


def test_models_page_says_do_not_ship_and_why() -> None:
    at = open_page("pages/models.py")
    text = texts(at)
    assert "screening-model version 1 @champion" in text
    assert "DO NOT SHIP" in text
    reasons = [t.value for t in at.text]
    assert any(r.startswith("• REQ-FAIR-1 JF-THRESHOLD") for r in reasons)
    # The requirements that apply: scoped to it, and REQ-FAIR-1, whose current evidence
    # is the run that produced it.
    assert set(frame(at)["id"]) == {"REQ-FAIR-1", "REQ-PREC-1", "REQ-REC-1", "REQ-TOP-1"}


def test_patterns_page_shows_conformance_per_pattern() -> None:
    at = open_page("pages/patterns.py")
    summary = frame(at)
    fairness = summary[summary["pattern"] == "fairness"].iloc[0]
    # REQ-FAIR-1: the protected attributes were not reviewed, and its gap misses.
    assert (fairness["requirements"], fairness["complete"], fairness["to do"]) == (1, 0, 2)
    assert "attributes-reviewed (1)" in fairness["most often missing"]
    performance = summary[summary["pattern"] == "performance"].iloc[0]
    assert (performance["requirements"], performance["complete"]) == (2, 2)
    per_pattern = [t.value for t in at.dataframe][1:]
    fair = next(f for f in per_pattern if "attributes-reviewed" in f.columns)
    row = fair.iloc[0]
    assert (row["id"], row["gap"], row["attributes-reviewed"], row["evaluation-data"]) == (
        "REQ-FAIR-1",
        "failing",
        "missing",
        "filled",
    )


def test_the_diagram_is_drawn_from_the_pattern(demo_ws: DemoResult) -> None:
    view = explore.requirement_view(
        open_store(demo_ws.config), demo_ws.config.base_iri, "REQ-FAIR-1"
    )
    assert view is not None
    diagram = explore.justification_diagram(view)
    slots = {n.name: n for n in diagram.nodes if n.label.startswith("slot ")}
    states = {n.label.split(":")[0]: n.label.rsplit("\n", 1)[-1] for n in slots.values()}
    assert states["slot gap"] == "failing"
    assert states["slot attributes-reviewed"] == "missing"
    assert states["slot evaluation-data"].startswith("filled by breast-cancer-test/")
    edges = {(e.source, e.target) for e in diagram.edges}
    assert all((name, "strategy") in edges for name in slots)
    gap = next(name for name, n in slots.items() if n.label.startswith("slot gap"))
    # The current evidence run and the criterion fill the gap slot.
    assert {src for src, dst in edges if dst == gap} == {"c0", "r0"}
    strategy = next(n for n in diagram.nodes if n.name == "strategy")
    assert strategy.label.startswith("strategy (fairness pattern): Argue from a per-group gap")


def test_runs_and_commits_link_to_each_other_and_to_requirements(demo_ws: DemoResult) -> None:
    at = open_page("pages/runs.py")
    runs = frame(at)
    assert {"baseline", "candidate"} <= set(runs["name"])
    candidate = runs[runs["name"] == "candidate"].iloc[0]
    assert "REQ-REC-1" in candidate["requirements"]
    run_id = candidate["open"].split("=")[1]
    at = open_page("pages/runs.py", run=run_id)
    text = texts(at)
    assert "Run candidate" in text
    assert "test_recall" in set(frame(at)["key"])  # metrics
    labels = [link.label for link in at.get("page_link")]
    assert "REQ-REC-1" in labels and any(label.startswith("built from commit") for label in labels)
    at = open_page("pages/runs.py", commit=candidate["sha"])
    text = texts(at)
    assert "Add the training script" in text
    labels = [link.label for link in at.get("page_link")]
    assert any(label.startswith("run candidate") for label in labels)


def test_graph_page_shows_a_bounded_neighbourhood_and_expands(demo_ws: DemoResult) -> None:
    base = demo_ws.config.base_iri
    at = open_page("pages/graph.py", node=f"{base}requirement/REQ-REC-1")
    links = frame(at)
    assert "REQ-TOP-1" in set(links["object"])
    # Predicates as prefixed names, not full IRIs.
    assert "jf:parent" in set(links["predicate"])
    assert not any(p.startswith("http") for p in links["predicate"])
    at.slider(key="limit").set_value(5).run()
    assert len(frame(at)) <= 10
    target = f"{base}requirement/REQ-TOP-1"
    at.selectbox(key="expand").set_value(target).run()
    assert param(at, "node") == target


def test_sparql_console_runs_queries_and_refuses_updates(demo_ws: DemoResult) -> None:
    store = open_store(demo_ws.config.store_location)
    before = store.version()
    at = open_page("pages/sparql.py")
    at.button(key="run").click().run()
    assert len(frame(at)) == 7
    for update in (
        'INSERT DATA { <urn:x> <urn:y> "z" }',
        "DROP ALL",
        "PREFIX ex: <urn:ex#>\nDELETE WHERE { ?s ?p ?o }",
        "CLEAR GRAPH <urn:g>",
    ):
        at.text_area(key="query-").set_value(update).run()
        at.button(key="run").click().run()
        assert "the console only reads" in texts(at), update
    # Read queries that merely contain an update keyword are queries (a real parser decides).
    for read in (
        'SELECT ?s { ?s rdfs:label "INSERT DATA" }',
        "SELECT ?insert WHERE { ?insert ?p ?o } LIMIT 1",
        "SELECT ?s WHERE { ?s ?p <urn:ends-with> } LIMIT 1",
    ):
        at.text_area(key="query-").set_value(read).run()
        at.button(key="run").click().run()
        assert "the console only reads" not in texts(at), read
        assert not at.exception, read
    # SERVICE would make the explorer send a request elsewhere: refused before sending.
    at.text_area(key="query-").set_value(
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/admin> { ?s ?p ?o } }"
    ).run()
    at.button(key="run").click().run()
    assert "uses SERVICE" in texts(at)
    assert store.version() == before


def test_sparql_console_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUSTIFY_CONSOLE_ROW_LIMIT", "2")
    at = open_page("pages/sparql.py")
    at.button(key="run").click().run()
    assert len(frame(at)) == 2 and "row limit reached" in texts(at)


def _console_workers() -> list[int]:
    """Child processes of this one running the console's worker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"justify.console_worker" in command:
            found.append(int(entry.name))
    return found


CROSS_PRODUCT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def test_the_console_time_limit_stops_the_query(demo_ws: DemoResult) -> None:
    """A time-out once left the query running on a leaked thread for good: now the
    query runs in a child process, which the time limit kills."""
    outcome: list[BaseException] = []
    seen: list[int] = []

    def run() -> None:
        try:
            explore.console_query(demo_ws.config, CROSS_PRODUCT, row_limit=10, time_limit=4)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    while worker.is_alive():  # the query runs in a child process, not in this one
        seen.extend(p for p in _console_workers() if p not in seen)
        worker.join(0.05)
    assert seen, "the query did not run in a child process"
    assert outcome and "did not finish within 4 s" in str(outcome[0])
    assert "it was stopped" in str(outcome[0])
    assert _console_workers() == []  # killed, not abandoned
    for pid in seen:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def test_the_console_page_reports_a_stopped_query(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUSTIFY_CONSOLE_TIME_LIMIT", "2")
    at = open_page("pages/sparql.py")
    at.text_area(key="query-").set_value(CROSS_PRODUCT).run()
    at.button(key="run").click().run()
    assert "did not finish within 2 s" in texts(at)
    assert _console_workers() == []
    at.text_area(key="query-").set_value("SELECT ?s WHERE { ?s ?p ?o } LIMIT 3").run()
    at.button(key="run").click().run()
    assert len(frame(at)) == 3  # the console answers the next query at once


def test_sparql_console_example_and_syntax_error() -> None:
    at = open_page("pages/sparql.py")
    example = next(o for o in at.selectbox(key="example").options if "unjustified" in o)
    at.selectbox(key="example").set_value(example).run()
    at.button(key="run").click().run()
    assert "REQ-EXPL-1" in set(frame(at).iloc[:, 0])
    at.text_area(key=f"query-{example}").set_value("SELECT ?x WHERE { ?x").run()
    at.button(key="run").click().run()
    assert "error at line" in texts(at).lower() or "syntax" in texts(at).lower()


def test_the_app_shows_new_data_after_a_write(demo_ws: DemoResult, tmp_path: Path) -> None:
    at = open_page("pages/requirements.py")
    assert len(frame(at)) == 7
    extra = demo_ws.directory / "requirements" / "extra.yaml"
    extra.write_text(
        "requirements:\n  - id: REQ-NEW-1\n    title: A new one\n"
        "    statement: Something new shall hold.\n    kind: other\n    status: draft\n",
        encoding="utf-8",
    )
    try:
        load(config=demo_ws.config)
        at.run()  # a refresh
        assert "REQ-NEW-1" in set(frame(at)["id"])
    finally:
        extra.unlink()
        load(config=demo_ws.config)


def test_every_renderer_shows_the_same_judgement_of_the_demo(demo_ws: DemoResult) -> None:
    """check --format json, trace, the Markdown report, history, the explorer's data
    functions and its pages: one judgement, rendered alike."""
    import json

    from helpers import run_justify

    root = demo_ws.directory
    cli = run_justify("check", "--format", "json", cwd=root)
    report = json.loads(cli.stdout)
    statuses = {r["id"]: r["status"] for r in report["requirements"]}
    store = open_store(demo_ws.config.store_location)
    base = demo_ws.config.base_iri
    markdown = run_justify("report", "--format", "markdown", "-o", "same.md", cwd=root)
    assert markdown.returncode == 0, markdown.stderr
    text = (root / "same.md").read_text(encoding="utf-8")
    history = {c.requirement: c.status for c in justify.history(None, store=store, base=base)}
    for req in report["requirements"]:
        rid, status = req["id"], req["status"]
        traced = run_justify("trace", rid, cwd=root).stdout
        assert f"[{status}]" in traced.splitlines()[0], rid
        assert f"### {rid}: " in text and f"[{status}]" in text.split(f"### {rid}: ")[1]
        assert history[rid] == status
        view = explore.requirement_view(store, base, rid)
        assert view is not None and view.head["status"] == status
        assert [c.verdict for c in view.criteria] == [c["verdict"] for c in req["criteria"]]
        evidence = req["current_evidence"]
        assert view.current == ([evidence["run"]] if evidence else [])
        for c in req["criteria"]:
            on = f" on {c['dataset']}" if c["dataset"] else ""
            line = f"{c['metric']} {c['op']} {c['threshold']:g}{on}: {c['verdict']}"
            assert line in traced and line in text
    at = open_page("pages/requirements.py")
    table = frame(at)
    assert dict(zip(table["id"], table["status"], strict=True)) == statuses
    at = open_page("pages/models.py")
    (model,) = report["models"]
    assert model["verdict"].upper() in texts(at)
    at = open_page()
    assert f"{model['verdict'].upper()}: " in texts(at)  # the overview leads with it


def test_diagram_labels_escape_backslashes_and_quotes() -> None:
    view = explore.RequirementView(
        head={"id": "R1", "title": 'ends with a backslash \\ and "quotes" \\', "status": "draft"},
        criteria=[],
        runs=[],
        current=[],
        commits=[{"sha": "abcdef0123", "title": 'say "hi" \\'}],
        attestations=[],
        family=[],
        results=[],
        changes=[],
        versions=[],
    )
    dot = explore.justification_dot(view)
    assert 'backslash \\\\ and \\"quotes\\" \\\\\\n[draft]' in dot
    assert 'say \\"hi\\" \\\\"' in dot
