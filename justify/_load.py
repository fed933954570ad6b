"""``justify load``: requirement files into the requirements graph, atomically."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from justify.config import Config, load_config
from justify.errors import RequirementFileError, UsageError
from justify.iris import Minter
from justify.provenance import import_record, now
from justify.requirements import find_requirement_files, read_requirements, requirement_triples
from justify.store import GraphStore, open_store

REQUIREMENTS_GRAPH = "requirements"


@dataclass(frozen=True)
class LoadSummary:
    """What ``load`` wrote."""

    files: tuple[str, ...]
    requirements: int
    criteria: int
    triples: int
    graph: str

    dry_run: bool = False

    def __str__(self) -> str:
        files = "file" if len(self.files) == 1 else "files"
        verb = "checked (nothing written)" if self.dry_run else "loaded"
        return (
            f"{verb} {self.requirements} requirements with {self.criteria} criteria from "
            f"{len(self.files)} {files} into <{self.graph}> ({self.triples} triples)"
        )


def load(
    paths: Sequence[str | Path] | None = None,
    *,
    dry_run: bool = False,
    config: Config | None = None,
    store: GraphStore | None = None,
) -> LoadSummary:
    """Read requirement files and replace the requirements graph with them.

    ``paths`` (files or folders) default to the ``requirements`` setting. On any
    problem in any file, ``RequirementFileError`` lists them all and the store
    keeps its previous requirements graph. ``dry_run`` checks the files and
    writes nothing (for pre-commit hooks).
    """
    config = config or load_config()
    started = now()
    if paths:
        roots = [Path(p).expanduser().resolve() for p in paths]
    else:
        roots = [config.path(p) for p in config.requirements]
    for root in roots:
        if not root.exists():
            raise UsageError(
                f"{root}: no such requirement file or folder",
                hint="create it (`justify init` writes an example) or set 'requirements' "
                "in the configuration",
            )
    files = find_requirement_files(roots)
    if not files:
        where = ", ".join(config.relative(r) for r in roots)
        raise UsageError(
            f"no requirement files (*.yaml, *.yml) under {where}",
            hint="`justify init` writes a commented example file",
        )
    limit = int(config.number("requirement_file_limit_mb") * 1_000_000)
    requirements = read_requirements(files, root=config.root, limit=limit)
    if config.roles:
        from justify._patterns import read_patterns, unknown_roles

        folders = (config.path(p) for p in config.patterns)
        problems = unknown_roles(read_patterns(folders, root=config.root), requirements,
                                 config.roles)  # fmt: skip
        if problems:
            raise RequirementFileError(problems)

    minter = Minter(config.base_iri)
    graph = minter.graph(REQUIREMENTS_GRAPH)
    location = ", ".join(config.relative(r) for r in roots)
    # A stream, not a list: a large file's triples never sit in memory all at once.
    triples = itertools.chain(
        requirement_triples(requirements, minter),
        import_record(
            minter,
            graph,
            kind=REQUIREMENTS_GRAPH,
            location=location,
            started=started,
            items=len(requirements),
        ),
    )
    if dry_run:
        count = sum(1 for _ in triples)
    else:
        store = store or open_store(config)
        with store.write() as writer:
            count = writer.replace_graph(graph, triples)
    return LoadSummary(
        files=tuple(config.relative(f) for f in files),
        requirements=len(requirements),
        criteria=sum(len(r.criteria) for r in requirements),
        triples=count,
        graph=graph.value,
        dry_run=dry_run,
    )
