"""The embedded backend: an Oxigraph database on disk, in generations.

Each write starts from a hard-linked snapshot of the current Oxigraph database
(cheap, see ``Store.backup``), writes into it, and then swaps a pointer file.
Readers open the generation the pointer names, read-only, so a second process
can read while a writer works (Oxigraph leaves a read-only open of a database
that another process writes undefined; a published generation is never written
again).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    RdfFormat,
    Store,
    Triple,
)

from justify.errors import QueryError, StoreError
from justify.store.base import (
    GraphStore,
    GraphWriter,
    MemoryStore,
    QueryResult,
    count_graph,
    query_graphs,
    to_result,
)

# ----------------------------------------------------------------- embedded

CURRENT = "CURRENT"
LOCK = "write.lock"
KEEP_GENERATIONS = 3


_COMPACT_AFTER = 50_000
# Compact when bulk loads since the last compaction reach this share of the store, or
# its files this number: a small write (a check's record) into a large store leaves
# a few files behind, and compacting 2 M triples for it took 11 s.
_COMPACT_SHARE = 10
_COMPACT_FILES = 150
_BULK_SLICE = 200_000
# A data write up to this size (bytes of N-Triples and updates) is written twice,
# into the data copy and into the generation, rather than copying the judgement's
# graphs into a copy of the data.
_REPLAY_LIMIT = 32_000_000


class _EmbeddedWriter(GraphWriter):
    """Writes into a new generation folder, made on the first write.

    Replacing a graph that holds most of the store is cheaper by copying the
    other graphs into a fresh database than by deleting its quads one by one
    (Oxigraph deletes ~60,000 quads a second); the first write chooses.

    The graphs kept ``apart`` (the judgement's own) stay out of a copy of the data
    that checks start from (``base``: the source generation itself while it holds
    none of them). A block that writes only data writes into a copy of the base,
    beside the generation, which becomes the next base; the generation is a copy of
    it with the graphs kept apart added back. A block that writes only graphs kept
    apart starts the generation from the base too (no deletions to leave behind),
    adds back those it does not replace, and leaves the base as it was.
    """

    def __init__(
        self,
        folder: Path,
        source: Path | None,
        sizes: dict[str, int | None],
        *,
        apart: frozenset[str] = frozenset(),
        base: Path | None = None,
    ) -> None:
        self._folder = folder
        self._source = source
        self._sizes = dict(sizes)
        self._apart = apart
        self._base = base
        # The graphs kept apart that the source holds, and those of them already in
        # the database written (all of them when it started from the source itself).
        self._source_apart = sorted(apart & set(sizes)) if source is not None else []
        self._present: set[str] = set()
        self._store_or_none: Store | None = None
        self._where = folder  # the folder of the database written
        self._mode = ""  # "data", "apart" or "whole": what the block has written so far
        self._touched: set[str] = set()
        self._released = False
        self._bulk = 0  # roughly how many quads were bulk-loaded, to decide on compaction
        self._copied = False
        # A block that writes a little data (a sync's import records, a few new runs)
        # notes its writes, to replay them on a copy of the source at the end instead
        # of copying the judgement's graphs back in (0.6 s for 45,000 quads).
        self._replay: list[tuple[str, NamedNode, Any]] | None = []
        self._replay_size = 0

    def _note(self, kind: str, graph: NamedNode, payload: Any, size: int) -> None:
        if self._mode != "data" or self._replay is None:
            return
        self._replay_size += size
        if self._replay_size > _REPLAY_LIMIT:
            self._replay = None
        else:
            self._replay.append((kind, graph, payload))

    @property
    def data_copy(self) -> Path | None:
        """After ``finish``: the folder holding the generation's graphs but those kept
        apart, when it holds some of them (None: it holds none, or there is no copy)."""
        if not self._apart & set(self._sizes):
            return None
        if self._mode == "data":
            return self._where
        return self._base if self._mode == "apart" else None

    @property
    def _data_folder(self) -> Path:
        return self._folder.with_name(self._folder.name + ".data")

    def _target(self, graph: NamedNode, *, skip: bool = False, fresh: bool = False) -> Store:
        """The database a write to ``graph`` goes to. ``skip``: the first write replaces
        this graph, which holds most of the store (copy the others instead); ``fresh``:
        the write replaces the graph (its old triples need not be copied in first)."""
        if self._released:
            raise StoreError("this write block has ended; start a new `store.write()`")
        apart = graph.value in self._apart
        if self._store_or_none is None:
            if not apart and self._source_apart:
                self._mode, self._where = "data", self._data_folder
            else:
                self._mode = "apart" if apart else "whole"
            self._store_or_none = self._create(skip=graph if skip else None)
            if skip:
                self._replay = None
        elif apart and self._mode == "data":
            # Data and graphs kept apart in one block: the copy becomes the generation.
            self._mode = "whole"
            self._copy_apart(self._store_or_none)
        elif not apart and self._mode == "apart":
            self._mode = "whole"
        store = self._store_or_none
        if apart and graph.value not in self._present:
            if not fresh and graph.value in self._source_apart:
                self._copy_apart(store, [graph.value])
            self._present.add(graph.value)
        return store

    def _create(self, *, skip: NamedNode | None) -> Store:
        folder = str(self._where)
        source = self._base or self._source
        if source == self._source:
            self._present.update(self._source_apart)
        try:
            if source is None:
                return Store(folder)
            if skip is None:
                if self._mode == "data" and self._base is None:
                    self._present.clear()
                    return self._data_only(self._where)
                _read_only(source).backup(folder)
                return Store(folder)
            reader = _read_only(source)
            store = Store(folder)
            # Copy graph by graph through a file, natively: no quad crosses into Python.
            # (justify writes no blank nodes, so none need to keep their identity.)
            self._copied = True  # everything was bulk-loaded: compact at the end
            names = [n for n in self._sizes if n != skip.value]
            if self._mode == "data":
                names = [n for n in names if n not in self._apart]
                self._present.clear()
            self._copy(reader, store, names)
            return store
        except (OSError, RuntimeError) as exc:  # RocksDB reports damage as RuntimeError
            raise StoreError(f"cannot prepare a write in {self._where}: {exc}") from exc

    def _data_only(self, folder: Path) -> Store:
        """A backup of the source in ``folder`` without its graphs kept apart (deleted:
        only for a source that names no such copy, once)."""
        assert self._source is not None
        _read_only(self._source).backup(str(folder))
        store = Store(str(folder))
        for name in self._source_apart:
            store.remove_graph(NamedNode(name))
        return store

    def _copy(self, source: Store, target: Store, names: Iterable[str]) -> None:
        spool = self._folder.with_name(self._folder.name + ".copy.nt")
        try:
            for name in names:
                graph = NamedNode(name)
                source.dump(str(spool), RdfFormat.N_TRIPLES, from_graph=graph)
                target.bulk_load(path=str(spool), format=RdfFormat.N_TRIPLES, to_graph=graph)
        finally:
            spool.unlink(missing_ok=True)

    def _copy_apart(self, target: Store, names: list[str] | None = None) -> None:
        """Copy in, from the source, graphs kept apart that the database written lacks."""
        missing = [n for n in names or self._source_apart if n not in self._present]
        if missing and self._source is not None:
            self._copy(_read_only(self._source), target, missing)
        self._present.update(missing)

    def _known_sizes(self, names: Iterable[str] | None = None) -> dict[str, int]:
        """Graph sizes of the source generation (of ``names``, or all), counting those
        not counted yet."""
        wanted = list(self._sizes) if names is None else list(names)
        missing = [name for name in wanted if self._sizes.get(name, 0) is None]
        if missing and self._source is not None:
            source = _read_only(self._source)
            for name in missing:
                self._sizes[name] = count_graph(source, name)
        return {name: self._sizes.get(name) or 0 for name in wanted}

    def replace_graph(self, graph: NamedNode, triples: Iterable[Triple]) -> int:
        if self._store_or_none is None and not self._released:
            sizes = self._known_sizes()
            size = sizes.get(graph.value, 0)
            if size > sum(sizes.values()) - size:
                self._target(graph, skip=True, fresh=True)
                self._sizes.pop(graph.value, None)
        if graph.value in self._sizes and self._target(graph, fresh=True).contains_named_graph(
            graph
        ):
            return self._replace_by_difference(graph, triples)
        self.drop_graph(graph)
        return self.add(graph, triples)

    def _replace_by_difference(self, graph: NamedNode, triples: Iterable[Triple]) -> int:
        """Replace a graph that exists by deleting what is gone and adding what is new:
        a graph rewritten with little change (a check's derived links, checked again)
        costs a few deletions instead of deleting every quad one by one (Oxigraph deletes
        ~60,000 a second) and loading them all again."""
        wanted = dict.fromkeys(triples)
        if not wanted:
            self.drop_graph(graph)
            return 0
        store = self._target(graph)
        stored = {q.triple for q in store.quads_for_pattern(None, None, None, graph)}
        gone = [t for t in stored if t not in wanted]
        if len(gone) > len(wanted):  # mostly new: dropping and loading in bulk is cheaper
            self.drop_graph(graph)
            return self.add(graph, wanted)
        for t in gone:
            store.remove(Quad(t.subject, t.predicate, t.object, graph))
        self._note("remove", graph, gone, 100 * len(gone))
        self.add(graph, (t for t in wanted if t not in stored))
        return len(wanted)

    def add(self, graph: NamedNode, triples: Iterable[Triple]) -> int:
        # As N-Triples text, in slices: Oxigraph parses text twice as fast as it takes
        # term objects, and holds what one call is given in memory before it writes,
        # so one call with millions of quads would cost gigabytes.
        count = 0
        stream = iter(triples)
        while chunk := list(itertools.islice(stream, _BULK_SLICE)):
            count += len(chunk)
            data = "".join(f"{t} .\n" for t in chunk).encode("utf-8")
            self.load_ntriples(graph, data)
        self._touched.add(graph.value)
        return count

    def drop_graph(self, graph: NamedNode) -> None:
        self._touched.add(graph.value)
        if graph.value in self._sizes:
            store = self._target(graph, fresh=True)
            if store.contains_named_graph(graph):
                store.remove_graph(graph)
                self._note("drop", graph, None, 0)
        self._sizes.pop(graph.value, None)

    def _update_graph(self, graph: NamedNode, build: Callable[[str], str]) -> None:
        self._touched.add(graph.value)
        update = build(str(graph))
        self._target(graph).update(update)
        self._note("update", graph, update, len(update))

    def load_ntriples(self, graph: NamedNode, data: bytes) -> None:
        self._touched.add(graph.value)
        # A line a quad: a byte count took the judgement's JSON (one literal of some
        # megabytes) for tens of thousands of quads.
        self._bulk += data.count(b"\n")
        try:
            self._target(graph).bulk_load(data, format=RdfFormat.N_TRIPLES, to_graph=graph)
        except SyntaxError as exc:
            raise StoreError(
                f"justify produced invalid N-Triples for <{graph.value}>: {exc}"
            ) from exc
        self._note("load", graph, data, len(data))

    def finish(self) -> dict[str, int | None] | None:
        """Flush and close; the sizes of every graph, or None if nothing was written."""
        store = self._store_or_none
        if store is None:
            return None
        if self._mode != "data":
            self._copy_apart(store)  # those not written, when it started from the base
        compact = self._should_compact()
        for name in self._touched:
            # Counting a large graph takes a while: leave it to the first reader
            # that asks (None = not counted yet); only note whether it exists.
            if store.query(f"ASK {{ GRAPH <{name}> {{ ?s ?p ?o }} }}"):
                self._sizes[name] = None
            else:
                self._sizes.pop(name, None)
        if compact:
            # Bulk loads leave many unsorted files behind; readers open this
            # generation read-only and cannot compact it, and each lookup would
            # visit every file (queries 2-3x slower on a 2M-triple graph).
            store.optimize()
        if self._mode == "data":
            store.flush()
            source, replay = self._source, self._replay
            if (
                source is not None
                and replay is not None
                and not compact
                and (self._files(source) < _COMPACT_FILES)
            ):
                # The generation: the source, with this block's few writes again.
                _read_only(source).backup(str(self._folder))
                whole = Store(str(self._folder))
                for kind, graph, payload in replay:
                    _replay(whole, kind, graph, payload)
            else:
                # The generation: this copy of the data, with the graphs kept apart
                # added back (hard links to its files, and a few files more).
                store.backup(str(self._folder))
                whole = Store(str(self._folder))
                self._copy_apart(whole)
            try:
                whole.flush()
            finally:
                del whole
        elif self._mode == "apart" and self._base is None and self._source_apart:
            # The source had no copy of its data alone (a store from before such
            # copies, or after a block that wrote both): make one, once.
            healed = self._data_only(self._data_folder)
            try:
                healed.flush()
            finally:
                del healed
            self._base = self._data_folder
        elif self._where != self._folder:
            # The copy became the generation (it was given graphs kept apart too).
            store.flush()
            del store
            self.release()  # closes the database before its folder moves
            self._where.rename(self._folder)
            return dict(sorted(self._sizes.items()))
        store.flush()
        self.release()
        return dict(sorted(self._sizes.items()))

    @staticmethod
    def _files(folder: Path | None) -> int:
        return sum(1 for _ in folder.glob("*.sst")) if folder is not None else 0

    def _should_compact(self) -> bool:
        if self._copied:
            return True
        if self._bulk < _COMPACT_AFTER:
            return False
        # The graphs this block left as they were, counted if no reader counted them yet
        # (taken as empty, a 2 M-triple graph once made a record compact it: 3.4 s).
        kept = [name for name in self._sizes if name not in self._touched]
        stored = sum(self._known_sizes(kept).values())
        files = self._files(self._where)
        return self._bulk * _COMPACT_SHARE >= stored or files >= _COMPACT_FILES

    def release(self) -> None:
        # Close the database: a read-write instance left open would go on
        # compacting files that readers and later snapshots rely on.
        self._store_or_none = None
        self._released = True


class EmbeddedStore(GraphStore):
    """An Oxigraph database on disk, in generations swapped atomically."""

    def __init__(
        self,
        path: str | Path,
        *,
        lock_timeout: float = 60.0,
        read_only: bool = False,
        apart: Iterable[str] = (),
    ) -> None:
        """``apart``: the graphs a check writes and never reads (the judgement's own).
        Writes keep a copy of the data without them, which a check starts from."""
        self.path = Path(path)
        self.apart = frozenset(apart)
        self.location = str(self.path)
        self.lock_timeout = lock_timeout
        self.read_only = read_only
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(
                f"store location {self.path} is a file, not a folder",
                hint="point the 'store' setting (or --store) at a folder",
            )
        self._reader: Store | None = None
        self._reader_generation: str | None = None

    # -- generations -------------------------------------------------------------
    @property
    def generations(self) -> Path:
        return self.path / "generations"

    def current_generation(self) -> str | None:
        """The name of the published generation, or None for an empty store.

        A damaged pointer is never taken for "no store": the next write would then
        start from nothing and remove every generation, the check history with them,
        which no source can rebuild. ``repair`` points it at the newest complete one.
        """
        pointer = self.path / CURRENT
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            # A first writer killed before it published leaves a folder without its
            # graph list: that store is empty. One that published is not.
            if any((self.generations / f"{p.name}.json").is_file()
                   for p in self._generation_folders()):  # fmt: skip
                raise self._damaged(f"{pointer} is missing") from None
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise self._damaged(f"cannot read {pointer} ({exc})") from exc
        if not re.fullmatch(r"gen-\d{6}", name):
            raise self._damaged(f"{pointer} does not name a generation ({name[:40]!r})")
        if (
            not (self.generations / name).is_dir()
            or not (self.generations / f"{name}.json").is_file()
        ):
            raise self._damaged(f"{pointer} names {name}, which is not there whole")
        return name

    def _generation_folders(self) -> list[Path]:
        if not self.generations.is_dir():
            return []
        return sorted(p for p in self.generations.iterdir() if re.fullmatch(r"gen-\d{6}", p.name))

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise StoreError(
                f"the store at {self.path} was opened read-only; nothing was written",
                hint="write with justify's commands (load, import, sync, check), not through "
                "a read-only handle such as the explorer's",
            )

    def _damaged(self, what: str) -> StoreError:
        return _damaged(self.path, what)

    def repair(self) -> str:
        """Point the store at its newest complete generation (a folder that opens, with
        its graph list); return its name."""
        self._refuse_if_read_only()
        with self._lock():
            for folder in reversed(self._generation_folders()):
                manifest = self.generations / f"{folder.name}.json"
                try:
                    json.loads(manifest.read_text(encoding="utf-8"))
                    _read_only(folder)
                except (OSError, ValueError, StoreError):
                    continue
                _write_atomically(self.path / CURRENT, folder.name + "\n")
                self._reader = None
                return folder.name
        raise StoreError(
            f"the store at {self.path} holds no complete generation to repair from",
            hint=f"the graph is derived from its sources: delete {self.path} and run "
            "`justify sync`; the check history cannot be rebuilt",
        )

    def _manifest(self, generation: str | None) -> dict[str, int | None]:
        if generation is None:
            return {}
        path = self.generations / f"{generation}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {str(k): None if v is None else int(v) for k, v in data.items()}
        except (OSError, ValueError, AttributeError) as exc:
            raise self._damaged(f"cannot read the graph list {path} ({exc})") from exc

    def _open_reader(self) -> Store:
        generation = self.current_generation()
        if generation != self._reader_generation or self._reader is None:
            if generation is None:
                self._reader = Store()  # nothing published yet: an empty store
            else:
                folder = self.generations / generation
                self._reader = _read_only(folder)
            self._reader_generation = generation
        return self._reader

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = open(self.path / LOCK, "a+")  # noqa: SIM115 - held for the block
        except OSError as exc:
            raise StoreError(
                f"cannot create the store at {self.path}: {exc}",
                hint="check that the folder is writable, or set 'store' to another folder",
            ) from exc
        deadline = time.monotonic() + self.lock_timeout
        try:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() > deadline:
                        raise StoreError(
                            f"another justify process has been writing to {self.path} "
                            f"for over {self.lock_timeout:.0f} s",
                            hint="wait for it to finish, then run the command again",
                        ) from exc
                    time.sleep(0.1)
            yield
        finally:
            handle.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[GraphWriter]:
        self._refuse_if_read_only()
        with self._lock():
            self.generations.mkdir(exist_ok=True)
            current = self.current_generation()
            self._remove_unpublished(current)
            number = 1 + max((_gen_number(p.name) for p in self.generations.iterdir()), default=0)
            name = f"gen-{number:06d}"
            folder = self.generations / name
            source = self.generations / current if current else None
            sizes = self._manifest(current)
            writer = _EmbeddedWriter(
                folder, source, sizes, apart=self.apart, base=self._base_of(current, sizes)
            )
            try:
                yield writer
                written = writer.finish()
            except BaseException:
                writer.release()
                shutil.rmtree(folder, ignore_errors=True)
                shutil.rmtree(folder.with_name(name + ".data"), ignore_errors=True)
                raise
            if written is None:
                return  # nothing written: nothing to publish
            copy = writer.data_copy
            if copy is not None:
                without = sorted(self.apart & set(written))
                _write_atomically(
                    self.generations / f"{name}.twin",
                    json.dumps({"folder": copy.name, "without": without}, indent=1),
                )
            # The folder that holds the data alone gets a token, once: a folder never
            # changes once written, so its token names its content (a fingerprint reads
            # it instead of counting each graph again after an import).
            data = self._base_of(name, written) if self.apart else None
            token = data.with_name(data.name + ".token") if data is not None else None
            if token is not None and not token.exists():
                _write_atomically(token, uuid.uuid4().hex + "\n")
            _write_atomically(self.generations / f"{name}.json", json.dumps(written, indent=1))
            _write_atomically(self.path / CURRENT, name + "\n")
            self._remove_old(name)

    def _remove_unpublished(self, current: str | None) -> None:
        # Left by a killed writer: newer than the published generation.
        floor = _gen_number(current) if current else 0
        for p in self.generations.iterdir():
            if _gen_number(p.name) > floor:
                _remove(p)

    def _remove_old(self, current: str) -> None:
        # Keep a few older generations: a reader may still have one open; and the
        # copies of the data that those kept start their checks from.
        keep = _gen_number(current) - KEEP_GENERATIONS + 1
        kept = {f"gen-{n:06d}" for n in range(keep, _gen_number(current) + 1)}
        copies = {twin[0].name for twin in map(self._data_copy, kept) if twin is not None}
        for p in self.generations.iterdir():
            if _gen_number(p.name) < keep and p.name.removesuffix(".token") not in copies:
                _remove(p)

    def _data_copy(self, generation: str | None) -> tuple[Path, frozenset[str]] | None:
        """The folder that holds ``generation``'s graphs but some kept apart, with the
        names of those; None when there is none (or its note is unreadable: then a
        check copies the generation itself, slower, never wrong)."""
        if generation is None:
            return None
        try:
            note = json.loads((self.generations / f"{generation}.twin").read_text("utf-8"))
            name, without = str(note["folder"]), frozenset(map(str, note["without"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        folder = self.generations / name
        if not re.fullmatch(r"gen-\d{6}(\.data)?", name) or not folder.is_dir():
            return None
        return folder, without

    def data_token(self, kept_apart: Iterable[str]) -> str | None:
        generation = self.current_generation()
        folder = self._base_of(generation, self._manifest(generation), frozenset(kept_apart))
        if folder is None:
            return None  # no copy of exactly the other graphs: sizes must do
        try:
            token = folder.with_name(folder.name + ".token").read_text("utf-8").strip()
        except OSError:
            return None
        return f"{folder.name} {token}" if re.fullmatch(r"[0-9a-f]{32}", token) else None

    def _base_of(
        self, generation: str | None, names: Iterable[str], apart: frozenset[str] | None = None
    ) -> Path | None:
        """The folder with ``generation``'s graphs (``names``) but those kept ``apart``
        (default: this handle's): the generation itself when it holds none of them."""
        apart = self.apart if apart is None else apart
        if generation is None:
            return None
        if not apart & set(names):
            return self.generations / generation
        twin = self._data_copy(generation)
        if twin is None or twin[1] != apart & set(names):
            return None
        return twin[0]

    # -- reading -----------------------------------------------------------------
    def query(
        self, sparql: str, *, max_rows: int | None = None, graphs: Sequence[str] | None = None
    ) -> QueryResult:
        store = self._open_reader()
        try:
            answer = query_graphs(store, sparql, graphs)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc
        except (OSError, RuntimeError) as exc:
            raise self._damaged(f"reading failed ({exc})") from exc
        return to_result(answer, max_rows)

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        store = self._open_reader()
        if graph is None:
            return (q for q in store if not isinstance(q.graph_name, DefaultGraph))
        return iter(store.quads_for_pattern(None, None, None, graph))

    def graph_names(self) -> list[str]:
        return list(self._manifest(self.current_generation()))

    def snapshot(self, graphs: Iterable[str]) -> MemoryStore:
        # A hard-linked backup of the published generation (milliseconds, where copying
        # 2 M quads into memory takes half a minute), opened writable in a scratch
        # folder beside it, without the graphs not asked for. When a copy of the data
        # without the graphs kept apart is there, and none of those is asked for, the
        # backup is of that copy: deleting the judgement's graphs (tens of thousands of
        # quads, one by one) took 0.4 s and left every lookup of the check slower.
        wanted = set(graphs)
        generation = self.current_generation()
        if generation is None:
            return MemoryStore(f"{self.location} (empty)")
        names = set(self.graph_names())
        twin = self._data_copy(generation)
        if twin is not None and not twin[1] & wanted:
            source, without = _read_only(twin[0]), twin[1]
        else:
            source, without = self._open_reader(), frozenset()
        for old in self.path.glob("scratch-*"):  # left by a killed process a day ago
            with contextlib.suppress(OSError):
                if time.time() - old.stat().st_mtime > 86_400:
                    shutil.rmtree(old, ignore_errors=True)
        try:
            scratch = Path(tempfile.mkdtemp(prefix="scratch-", dir=self.path))
            scratch.rmdir()  # backup() makes the folder itself
            source.backup(str(scratch))
        except (OSError, RuntimeError) as exc:
            raise StoreError(f"cannot make a scratch copy in {self.path}: {exc}") from exc
        copy = MemoryStore(f"{self.location} (scratch copy)", folder=scratch)
        for name in names - without - wanted:
            copy.store.remove_graph(NamedNode(name))
        return copy

    def version(self) -> str:
        return self.current_generation() or "empty"

    def graph_sizes(self) -> dict[str, int]:
        generation = self.current_generation()
        sizes = self._manifest(generation)
        missing = [name for name, size in sizes.items() if size is None]
        if missing:
            store = self._open_reader()
            for name in missing:
                sizes[name] = count_graph(store, name)
            # Remember the counts for the next reader (the generation itself never changes);
            # a read-only handle leaves even that to writers.
            with contextlib.suppress(OSError):
                if self.read_only:
                    raise OSError("read-only")
                _write_atomically(
                    self.generations / f"{generation}.json", json.dumps(sizes, indent=1)
                )
        return {name: size or 0 for name, size in sizes.items()}

    def close(self) -> None:
        self._reader = None
        self._reader_generation = None


def _damaged(store: Path, what: str) -> StoreError:
    return StoreError(
        f"the store at {store} is damaged: {what}; nothing was read or written",
        hint="run `justify store repair` to publish the newest complete generation again "
        "(the check history is kept)",
    )


def _read_only(folder: Path) -> Store:
    """A generation opened for reading; damage (a truncated or missing file, which
    RocksDB reports as RuntimeError) is a StoreError naming the folder."""
    try:
        return Store.read_only(str(folder))
    except (OSError, RuntimeError) as exc:
        what = f"cannot open {folder.name} ({str(exc).splitlines()[0][:300]})"
        raise _damaged(folder.parent.parent, what) from exc


def _replay(store: Store, kind: str, graph: NamedNode, payload: Any) -> None:
    if kind == "load":
        store.bulk_load(payload, format=RdfFormat.N_TRIPLES, to_graph=graph)
    elif kind == "update":
        store.update(payload)
    elif kind == "remove":
        for t in payload:
            store.remove(Quad(t.subject, t.predicate, t.object, graph))
    elif store.contains_named_graph(graph):  # "drop"
        store.remove_graph(graph)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _gen_number(name: str | None) -> int:
    try:
        return int(str(name).removeprefix("gen-").split(".", 1)[0])
    except ValueError:
        return 0
