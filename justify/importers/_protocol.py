"""What an importer is, what one import gives it, and what it reports.

An importer reads one kind of source and yields N-Triples text for the named
graph it owns. Everything around that (the write block, the import record,
incremental deletes, progress, turning failures into messages) belongs to the
orchestrator in ``_orchestrator.py``, so an importer stays a reader.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pyoxigraph import NamedNode

from justify._query import with_prefixes
from justify.config import Config, Setting
from justify.iris import Minter
from justify.progress import Progress
from justify.store import GraphStore, QueryResult


@dataclass(frozen=True)
class ImportOption:
    """A command-line option of ``justify import NAME``, passed to the importer by name.

    ``name`` is the Python name (``tracking_uri``); the flag is derived from it
    (``--tracking-uri``) unless ``flag`` names it. A ``multiple`` option gives a
    tuple, a ``switch`` a bool, a ``folder`` a path.
    """

    name: str
    help: str
    metavar: str = "VALUE"
    multiple: bool = False
    switch: bool = False
    folder: bool = False
    forces_full: bool = False  # giving it means a full import (a partial read)
    flag: str | None = None

    @property
    def flag_name(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class RequirementCatalogue:
    """What importers may know of the loaded requirements: their declarations only.

    Importers use it to warn about a tag naming no requirement and to decide which
    metric histories are worth fetching; which run is evidence stays the judgement's.
    """

    ids: frozenset[str] = frozenset()
    metrics: Mapping[str, frozenset[str]] = field(default_factory=dict)  # id -> metric keys
    scopes: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)  # id -> model


@dataclass(frozen=True)
class Deletion:
    """Subjects (or every subject of some types) to remove from the graph, with what
    they own (a SPARQL property path from the subject), before an incremental load."""

    subjects: tuple[NamedNode, ...] = ()
    types: tuple[NamedNode, ...] = ()
    owned: str = ""


class ImportRun:
    """One import of one source: what the importer gets, and what it hands back.

    Reads go through ``query``, which sees only this importer's own graph.
    """

    def __init__(
        self,
        *,
        importer: str,
        config: Config,
        options: Mapping[str, Any],
        location: str,
        graph: NamedNode,
        store: GraphStore,
        full: bool,
        previous: bool,
        watermark: datetime | None,
        requirements: RequirementCatalogue,
        progress: bool,
    ) -> None:
        self.importer = importer
        self.config = config
        self.options = options
        self.location = location
        self.graph = graph
        self.minter = Minter(config.base_iri)
        self.full = full
        self.previous = previous
        self.previous_watermark = watermark
        self.requirements = requirements
        self.show_progress = progress
        self.counts: dict[str, int] = {}
        self.warnings: list[str] = []
        self.deletions: list[Deletion] = []
        self.items: int | None = None
        self.watermark: datetime | None = None
        self._store = store

    def query(self, sparql: str) -> QueryResult:
        """A SPARQL query over this importer's graph as it was before this import."""
        return self._store.query(with_prefixes(sparql), graphs=[self.graph.value])

    def delete(
        self,
        *,
        subjects: Iterable[NamedNode] = (),
        types: Iterable[NamedNode] = (),
        owned: str = "",
    ) -> None:
        """Ask for subjects to leave the graph (incremental imports only)."""
        self.deletions.append(Deletion(tuple(subjects), tuple(types), owned))

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def count(self, name: str, n: int = 1) -> None:
        """Add to a figure of the summary (shown in the order first counted)."""
        self.counts[name] = self.counts.get(name, 0) + n

    def progress(self, label: str, total: int | None) -> Progress:
        return Progress(label, total=total, enabled=self.show_progress)


@dataclass(frozen=True)
class ImportSummary:
    """What one import read and wrote."""

    importer: str
    source: str
    graph: str
    full: bool
    counts: Mapping[str, int]
    warnings: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> int:
        return self.counts.get(name, 0)

    def __str__(self) -> str:
        mode = "full" if self.full else "incremental"
        figures = ", ".join(f"{n} {name}" for name, n in self.counts.items())
        return f"{self.importer} {mode} import from {self.source}: {figures or 'nothing read'}"


@dataclass(frozen=True)
class EvidenceSelector:
    """A kind of evidence that justification pattern slots can ask for, found in an
    importer's graph: a slot writes ``KIND: {field: value}`` as it writes ``commit:``.

    ``where`` is the body of a SPARQL group that binds ``?filler`` to a piece of
    evidence for the requirement ``$this``. Each field the slot gives is bound before
    it, in the same group, as ``?FIELD`` (a literal: values enter as bound terms, never
    pasted into the text); a field the slot leaves out stays unbound, so write
    ``FILTER (!BOUND(?FIELD) || ...)``.
    ``prefixes`` declares the prefixes ``where`` uses beyond jf, prov, dcterms, rdfs
    and xsd (SHACL-SPARQL accepts no other).
    """

    kind: str
    fields: Mapping[str, bool]  # field name -> required
    where: str
    prefixes: Mapping[str, str] = field(default_factory=dict)
    description: str = ""


class Importer(ABC):
    """One kind of source. Subclass it, and register the class under the entry-point
    group ``justify.importers`` in your package's metadata::

        [project.entry-points."justify.importers"]
        tickets = "my_package.tickets:TicketImporter"
    """

    name: ClassVar[str]  # the command name: ``justify import NAME``
    summary: ClassVar[str]  # one line, for ``justify import --help`` and the README
    description: ClassVar[str] = ""  # the rest of ``justify import NAME --help``
    examples: ClassVar[Sequence[str]] = ()
    options: ClassVar[Sequence[ImportOption]] = ()
    settings: ClassVar[Sequence[Setting]] = ()  # read from justify.toml and JUSTIFY_*
    sync_order: ClassVar[int] = 50  # ``justify sync`` runs importers by this, then name
    selectors: ClassVar[Sequence[EvidenceSelector]] = ()  # kinds of evidence for patterns

    def skip_reason(self, config: Config) -> str | None:
        """Why ``justify sync`` leaves this source out (not configured), or None."""
        return None

    @abstractmethod
    def locate(self, config: Config, options: Mapping[str, Any]) -> str:
        """The source's location, as stored and shown (no credentials); it names the
        graph. Raise ``UsageError`` or ``SourceUnavailable`` when it is wrong."""

    @abstractmethod
    def read(self, run: ImportRun) -> Iterable[bytes]:
        """Read the source; yield N-Triples text for ``run.graph``.

        On a full import (``run.full``) the graph starts empty. On an incremental
        one, ask ``run.delete`` for what left the source or will be re-read. Set
        ``run.watermark`` (the moment up to which the source was read) for the next
        import to find in ``run.previous_watermark``, and ``run.items``: how many
        items (runs, commits...) the source holds, for the import record.
        """
