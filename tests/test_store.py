"""The embedded store: atomic graph replacement, readers beside a writer, killed writers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import run_justify
from pyoxigraph import Literal, NamedNode, Triple

from justify.errors import StoreError
from justify.store import BackgroundLoader, EmbeddedStore, embedded
from justify.store.embedded import KEEP_GENERATIONS

G1 = NamedNode("https://example.org/t/graph/one")
G2 = NamedNode("https://example.org/t/graph/two")
P = NamedNode("https://example.org/t/p")


def triples(n: int, tag: str = "x") -> list[Triple]:
    return [
        Triple(NamedNode(f"https://example.org/t/s{i}"), P, Literal(f"{tag}{i}")) for i in range(n)
    ]


def generation_folders(path: Path) -> int:
    return sum(1 for p in (path / "generations").iterdir() if p.is_dir())


def count(store: EmbeddedStore, graph: NamedNode) -> int:
    return store.graph_sizes().get(graph.value, 0)


def test_replace_graph_replaces_only_that_graph(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s")
    with store.write() as w:
        assert w.replace_graph(G1, triples(10)) == 10
        w.replace_graph(G2, triples(3))
    with store.write() as w:
        w.replace_graph(G1, triples(4, "y"))
    assert store.graph_sizes() == {G1.value: 4, G2.value: 3}
    values = {
        r["o"]
        for r in store.query(f"SELECT ?o WHERE {{ GRAPH <{G1.value}> {{ ?s ?p ?o }} }}").values()
    }
    assert values == {f"y{i}" for i in range(4)}


def test_replacing_a_graph_with_a_little_change_gives_exactly_the_new_graph(
    tmp_path: Path,
) -> None:
    """A graph replaced by a similar one is changed in place (what is gone deleted, what
    is new added); by a different or an empty one, rewritten. Each time the graph holds
    exactly the new triples, and the other graphs are untouched."""
    store = EmbeddedStore(tmp_path / "s")
    with store.write() as w:
        w.replace_graph(G1, triples(100))
        w.replace_graph(G2, triples(300, "other"))  # G1 is not most of the store

    def objects() -> set[str]:
        rows = store.query(f"SELECT ?o WHERE {{ GRAPH <{G1.value}> {{ ?s ?p ?o }} }}").values()
        return {r["o"] or "" for r in rows}

    similar = triples(90) + triples(5, "new")  # ten gone, five new
    with store.write() as w:
        assert w.replace_graph(G1, similar + similar[:3]) == 95  # duplicates count once
    assert objects() == {f"x{i}" for i in range(90)} | {f"new{i}" for i in range(5)}
    with store.write() as w:
        w.replace_graph(G1, triples(40, "fresh"))
    assert objects() == {f"fresh{i}" for i in range(40)}
    with store.write() as w:
        assert w.replace_graph(G1, ()) == 0
    assert objects() == set()
    assert store.graph_sizes() == {G2.value: 300}


def test_replacing_the_largest_graph_keeps_the_others(tmp_path: Path) -> None:
    """The rebuild path (copy the others into a fresh database) keeps everything else."""
    store = EmbeddedStore(tmp_path / "s")
    with store.write() as w:
        w.replace_graph(G1, triples(50))
        w.replace_graph(G2, triples(5, "b"))
    with store.write() as w:
        w.replace_graph(G1, triples(20, "c"))  # G1 is most of the store
    assert store.graph_sizes() == {G1.value: 20, G2.value: 5}
    rows = store.query(f"SELECT ?o WHERE {{ GRAPH <{G2.value}> {{ ?s ?p ?o }} }}").values()
    assert {r["o"] for r in rows} == {f"b{i}" for i in range(5)}
    assert store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0][0].value == "25"


def test_sizes_count_stored_triples_not_duplicates(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s")
    with store.write() as w:
        w.add(G1, triples(4) + triples(4))
    assert store.graph_sizes() == {G1.value: 4}


def test_the_writer_cannot_be_used_after_its_block(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s")
    with store.write() as w:
        w.add(G1, triples(1))
    with pytest.raises(StoreError, match="write block has ended"):
        w.add(G1, triples(1))


def test_add_appends_in_bulk(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s")
    with store.write() as w:
        w.add(G1, triples(5))
        w.add(G1, triples(5, "z"))
    assert count(store, G1) == 10


def test_union_query_sees_every_graph(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s")
    with store.write() as w:
        w.replace_graph(G1, triples(2, "a"))
        w.replace_graph(G2, triples(2, "b"))
    rows = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows
    assert int(rows[0][0].value) == 4  # type: ignore[attr-defined]


def test_a_failed_write_leaves_the_previous_graphs(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s")
    with store.write() as w:
        w.replace_graph(G1, triples(10))

    def broken():
        yield from triples(5, "new")
        raise RuntimeError("source died mid-import")

    with pytest.raises(RuntimeError), store.write() as w:
        w.replace_graph(G1, broken())
    assert count(store, G1) == 10
    assert {r["o"] for r in store.query("SELECT ?o WHERE { ?s ?p ?o }").values()} == {
        f"x{i}" for i in range(10)
    }
    # Nothing half-written is left behind.
    assert generation_folders(tmp_path / "s") == 1


def test_the_background_loader_writes_every_chunk_and_fails_the_block_on_a_bad_one(
    tmp_path: Path,
) -> None:
    """Chunks that queue up while a load runs are loaded together: none is lost, and
    a chunk Oxigraph refuses ends the write block with the graph as it was."""
    store = EmbeddedStore(tmp_path / "s")
    lines = [f"{t} .\n".encode() for t in triples(3000)]
    with store.write() as w, BackgroundLoader(w, G1, depth=4, batch_bytes=20_000) as loader:
        for i in range(0, len(lines), 7):  # many small chunks: most are merged
            loader.put(b"".join(lines[i : i + 7]))
    assert count(store, G1) == 3000

    with pytest.raises(StoreError, match="invalid N-Triples"), store.write() as w:
        w.replace_graph(G1, ())
        with BackgroundLoader(w, G1, depth=4, batch_bytes=20_000) as loader:
            for i in range(0, 1000, 10):
                loader.put(b"".join(lines[i : i + 10]))
            loader.put(b"<https://example.org/t/s> <https://example.org/t/p> broken .\n")
            for i in range(1000, 2000, 10):
                loader.put(b"".join(lines[i : i + 10]))
    assert count(store, G1) == 3000
    assert generation_folders(tmp_path / "s") == 1


def test_empty_store_answers_queries(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "nothing-yet")
    assert store.graph_sizes() == {}
    assert store.query("ASK { ?s ?p ?o }").boolean is False


def test_a_file_in_place_of_the_store_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "s").write_text("not a folder")
    with pytest.raises(StoreError, match="is a file, not a folder"):
        EmbeddedStore(tmp_path / "s")


def test_old_generations_are_removed(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s")
    for i in range(6):
        with store.write() as w:
            w.replace_graph(G1, triples(i + 1))
    assert generation_folders(tmp_path / "s") == 3
    assert count(store, G1) == 6


def test_another_process_reads_while_a_writer_has_the_store_open(config, run_cli) -> None:
    """A reader in a second process sees the last published graph, then the new one."""
    assert run_cli("load", cwd=config.root).exit_code == 0
    store = EmbeddedStore(config.store_location)
    graph = NamedNode(config.base_iri + "graph/requirements")
    with store.write() as w:
        w.replace_graph(graph, triples(3))  # written, not yet published
        during = run_justify("query", "requirements", "--format", "csv", cwd=config.root)
        assert during.returncode == 0, during.stderr
        assert "REQ-REC-1" in during.stdout
    after = run_justify("query", "requirements", "--format", "csv", cwd=config.root)
    assert after.returncode == 0, after.stderr
    assert "REQ-REC-1" not in after.stdout


WRITER = textwrap.dedent("""
    import sys, pathlib
    from pyoxigraph import Literal, NamedNode, Triple
    from justify.store import EmbeddedStore
    store = EmbeddedStore(sys.argv[1])
    g = NamedNode("https://example.org/t/graph/one")
    def endless():
        i = 0
        while True:
            i += 1
            if i == 1000:
                pathlib.Path(sys.argv[2]).write_text("writing")
            yield Triple(NamedNode(f"https://example.org/t/s{i}"), NamedNode("https://example.org/t/p"),
                         Literal("new"))
    with store.write() as w:
        w.replace_graph(g, endless())
""")


def test_a_killed_writer_leaves_the_store_intact(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s")
    with store.write() as w:
        w.replace_graph(G1, triples(7))
    flag = tmp_path / "started"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "s"), str(flag)])
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert time.monotonic() < deadline, "the writer never started"
            assert proc.poll() is None, "the writer exited early"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    fresh = EmbeddedStore(tmp_path / "s")
    assert fresh.graph_sizes() == {G1.value: 7}
    # The next writer cleans up what the killed one left and works normally.
    with fresh.write() as w:
        w.replace_graph(G2, triples(2))
    assert fresh.graph_sizes() == {G1.value: 7, G2.value: 2}


def _project(folder: Path) -> Path:
    """A project with one approved requirement, R1, loaded."""
    (folder / "justify.toml").write_text("")
    (folder / "requirements").mkdir()
    (folder / "requirements" / "r.yaml").write_text(
        "requirements:\n  - id: R1\n    title: r\n    status: approved\n"
    )
    assert run_justify("load", cwd=folder).returncode == 0
    return folder


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project checked once (a check history); each damage case damages a copy."""
    folder = _project(tmp_path_factory.mktemp("checked"))
    assert run_justify("check", cwd=folder).returncode == 1  # R1 has no evidence
    return folder


@pytest.fixture(scope="module")
def reloaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The project loaded again after R2 was added (two generations), and the name of
    the older generation."""
    folder = _project(tmp_path_factory.mktemp("reloaded"))
    older = (folder / ".justify" / "CURRENT").read_text().strip()
    reqs = folder / "requirements" / "r.yaml"
    reqs.write_text(reqs.read_text() + "  - id: R2\n    title: r2\n")
    assert run_justify("load", cwd=folder).returncode == 0
    return folder, older


@pytest.mark.parametrize(
    "damage", ["empty", "garbage", "missing", "names-a-missing-generation", "not-utf8"]
)
def test_a_damaged_pointer_is_refused_and_repaired_without_losing_history(
    checked: Path, tmp_path: Path, damage: str
) -> None:
    """A damaged CURRENT was once taken for "no store": the next write deleted every
    generation, the check history with them."""
    tmp_path = Path(shutil.copytree(checked, tmp_path / "project"))
    pointer = tmp_path / ".justify" / "CURRENT"
    good = pointer.read_text()
    generations = sorted(p.name for p in (tmp_path / ".justify" / "generations").iterdir())
    if damage == "empty":
        pointer.write_text("")
    elif damage == "garbage":
        pointer.write_text("\x00\x01 nonsense\n")
    elif damage == "missing":
        pointer.unlink()
    elif damage == "names-a-missing-generation":
        pointer.write_text("gen-999999\n")
    else:
        pointer.write_bytes(b"\xff\xfe")
    for command in (["load"], ["check"], ["status"]):
        refused = run_justify(*command, cwd=tmp_path)
        assert refused.returncode == 3, (command, refused.stderr)
        assert "is damaged" in refused.stderr and "justify store repair" in refused.stderr
        assert "Traceback" not in refused.stderr
    # Nothing was removed by the refused writes.
    assert sorted(p.name for p in (tmp_path / ".justify" / "generations").iterdir()) == (
        generations
    )
    repaired = run_justify("store", "repair", cwd=tmp_path)
    assert repaired.returncode == 0, repaired.stderr
    assert pointer.read_text() == good
    history = run_justify("history", cwd=tmp_path)
    assert history.returncode == 0 and "R1" in history.stdout


@pytest.mark.parametrize(
    "damage", ["graph-list-truncated", "graph-list-not-utf8", "table-truncated",
               "manifest-truncated", "database-pointer-not-utf8"],
)  # fmt: skip
def test_a_damaged_generation_exits_3_naming_it_and_repair_falls_back(
    reloaded: tuple[Path, str], tmp_path: Path, damage: str
) -> None:
    """Truncated or non-UTF-8 files inside the published generation (its graph list,
    RocksDB's tables, manifest or pointer) once gave a traceback and exit 1, which CI
    reads as a failing check."""
    project, older = reloaded
    tmp_path = Path(shutil.copytree(project, tmp_path / "project"))
    newest = (
        tmp_path
        / ".justify"
        / "generations"
        / ((tmp_path / ".justify" / "CURRENT").read_text().strip())
    )
    if damage == "graph-list-truncated":
        newest.with_suffix(".json").write_text('{"https://ex')
    elif damage == "graph-list-not-utf8":
        newest.with_suffix(".json").write_bytes(b"\xff\xfe{")
    elif damage == "table-truncated":
        table = max(newest.glob("*.sst"), key=lambda p: p.stat().st_size)
        table.unlink()  # a new file, not the hard-linked one the older generation shares
        table.write_bytes(b"\x00" * 10)
    elif damage == "manifest-truncated":
        manifest = next(newest.glob("MANIFEST-*"))
        manifest.write_bytes(manifest.read_bytes()[:10])
    else:
        (newest / "CURRENT").write_bytes(b"\xff\xfe")
    commands = [["check"], ["status"], ["load"]]
    if not damage.startswith("graph-list"):  # a query reads the database, not the list
        commands.append(["query", "requirements"])
    for command in commands:
        refused = run_justify(*command, cwd=tmp_path)
        assert refused.returncode == 3, (command, refused.stderr)
        assert "is damaged" in refused.stderr and newest.name in refused.stderr
        assert "justify store repair" in refused.stderr
        assert "Traceback" not in refused.stderr
    repaired = run_justify("store", "repair", cwd=tmp_path)
    assert repaired.returncode == 0, repaired.stderr
    assert (tmp_path / ".justify" / "CURRENT").read_text().strip() == older
    assert run_justify("status", cwd=tmp_path).returncode == 0


def test_a_read_only_handle_refuses_every_write(tmp_path: Path) -> None:
    """The explorer's handle: read-only was once ignored by the embedded store."""
    from justify.errors import StoreError
    from justify.store import open_store

    writable = EmbeddedStore(tmp_path / "s")
    with writable.write() as w:
        w.replace_graph(G1, triples(3))
    before = writable.version()
    handle = open_store(str(tmp_path / "s"), read_only=True)
    assert handle.graph_sizes() == {G1.value: 3}  # it reads
    with pytest.raises(StoreError, match="opened read-only"), handle.write() as w:
        w.replace_graph(G1, triples(1))
    with pytest.raises(StoreError, match="opened read-only"):
        handle.repair()  # type: ignore[attr-defined]
    assert writable.version() == before and writable.graph_sizes() == {G1.value: 3}


# ------------------------------------------------- the judgement's graphs kept apart

A1 = NamedNode("https://example.org/t/graph/derived")
A2 = NamedNode("https://example.org/t/graph/history")
APART = (A1.value, A2.value)


def contents(quads) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for q in quads:
        found.setdefault(q.graph_name.value, set()).add(str(q.triple))
    return found


@pytest.mark.parametrize("replayed", [True, False], ids=["data-writes-replayed", "copied-back"])
def test_every_write_keeps_the_data_and_the_graphs_kept_apart_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replayed: bool
) -> None:
    """Blocks that write data, graphs kept apart (the judgement's), both, or come from a
    handle that keeps nothing apart, in a seeded random order: after each, the store
    holds exactly what was written, and the copy a check starts from (every graph but
    those kept apart) holds exactly the data, from the data copy whenever one is noted.
    A data write reaches the generation by replaying it on the source, or (past the
    replay limit) by copying the graphs kept apart into the new data."""
    import random

    if not replayed:
        monkeypatch.setattr(embedded, "_REPLAY_LIMIT", -1)

    rng = random.Random(7)
    path = tmp_path / "s"
    keeping, plain = EmbeddedStore(path, apart=APART), EmbeddedStore(path)
    model: dict[str, set[Triple]] = {}
    noted = holding = tokened = 0
    named: dict[str, dict[str, set[str]]] = {}  # each data token, and the data it named
    for step in range(40):
        store = plain if rng.random() < 0.15 else keeping
        kinds = rng.choice([["data"], ["apart"], ["apart"], ["data", "apart"]])
        with store.write() as w:
            for kind in kinds:
                graph = rng.choice([G1, G2] if kind == "data" else [A1, A2])
                new = triples(rng.randint(1, 30), f"{step}-")
                old = model.get(graph.value, set())
                op = rng.choice(["replace", "add", "add", "drop"] if kind == "apart" else
                                ["replace", "add", "drop", "edit", "delete"])  # fmt: skip
                if op == "edit":  # most triples kept: the graph is changed in place
                    new = [*sorted(old, key=str)[3:], *new[:2]]
                    op = "replace"
                if op == "replace":
                    w.replace_graph(graph, new)
                    model[graph.value] = set(new)
                elif op == "add":
                    w.add(graph, new)
                    model.setdefault(graph.value, set()).update(new)
                elif op == "delete":  # an incremental import's deletions
                    gone = NamedNode("https://example.org/t/s1")
                    w.delete_subjects(graph, subjects=[gone])
                    model[graph.value] = {t for t in old if t.subject != gone}
                else:
                    w.drop_graph(graph)
                    model.pop(graph.value, None)
        model = {g: ts for g, ts in model.items() if ts}
        written = {g: {str(t) for t in ts} for g, ts in model.items()}
        assert contents(keeping.quads()) == written, step
        assert keeping.graph_sizes() == {g: len(ts) for g, ts in model.items()}, step
        data = {g: ts for g, ts in written.items() if g not in APART}
        generation = keeping.current_generation()
        holding += any(g in APART for g in model)
        noted += (path / "generations" / f"{generation}.twin").is_file()
        copy = keeping.snapshot(data)
        try:
            assert contents(copy.quads()) == data, step
        finally:
            copy.close()
        token = keeping.data_token(APART)
        if token is not None:  # one token never names two contents of the data
            tokened += 1
            assert named.setdefault(token, data) == data, step
    # Judgement-only writes kept the token; data writes made new ones.
    assert tokened >= 20 and 1 < len(named) < tokened
    # Half the checks, of a store that held the judgement's graphs, started from a copy of
    # the data alone (the others follow a block that wrote both, or a plain handle).
    assert noted >= holding // 2
    # Old generations went; the data copies the kept ones name stayed.
    names = {p.name for p in (path / "generations").iterdir()}
    assert len([n for n in names if n.endswith(".json")]) == 3


def test_the_data_copy_checks_start_from_outlives_old_generations(tmp_path: Path) -> None:
    """Checks recorded one after another never change the data: each generation names
    the same copy of it, which must stay when its own generation is removed."""
    path = tmp_path / "s"
    store = EmbeddedStore(path, apart=APART)
    with store.write() as w:
        w.replace_graph(G1, triples(10))
    first_token = store.data_token(APART)
    for i in range(KEEP_GENERATIONS + 3):
        with store.write() as w:
            w.replace_graph(A1, triples(5, f"check{i}"))
            w.add(A2, triples(1, f"change{i}"))
    note = json.loads((path / "generations" / f"{store.current_generation()}.twin").read_text())
    assert note == {"folder": "gen-000001", "without": sorted(APART)}
    assert (path / "generations" / "gen-000001").is_dir()
    # The data never changed: its token either (what a judgement's fingerprint reads).
    assert store.data_token(APART) == first_token is not None
    copy = store.snapshot([G1.value])
    try:
        assert contents(copy.quads()) == {G1.value: {str(t) for t in triples(10)}}
    finally:
        copy.close()
    assert count(store, A2) == KEEP_GENERATIONS + 3


def test_a_small_record_into_a_large_store_whose_graphs_nobody_counted_does_not_compact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compacting is for a block that bulk-loaded a large share of the store. A graph
    no reader counted since an import is not empty for that (a record once compacted
    2 M triples for it: 3.4 s)."""
    monkeypatch.setattr(embedded, "_COMPACT_AFTER", 10)
    decided: list[bool] = []
    should = embedded._EmbeddedWriter._should_compact

    def spy(writer: embedded._EmbeddedWriter) -> bool:
        decided.append(should(writer))
        return decided[-1]

    monkeypatch.setattr(embedded._EmbeddedWriter, "_should_compact", spy)
    store = EmbeddedStore(tmp_path / "s", apart=APART)
    with store.write() as w:
        w.replace_graph(G1, triples(1000))
    assert json.loads((tmp_path / "s" / "generations" / "gen-000001.json").read_text()) == {
        G1.value: None  # not counted by the writer
    }
    with store.write() as w:  # as a check records: the history first
        w.add(A2, triples(5, "changed"))
        w.replace_graph(A1, triples(20, "judged"))
    assert decided == [True, False]  # the import into nothing compacts; the record not
    assert store.graph_sizes() == {G1.value: 1000, A1.value: 20, A2.value: 5}
