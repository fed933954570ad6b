"""DVC -> the graph: every commit that changed a DVC pipeline's params, metrics or
dvc.lock, and every DVC experiment, as one evidence run with its params, metrics
and the datasets (stage deps and outs with their hashes) of dvc.lock.

Read from Git alone: no `dvc` is needed to import. Incremental by default: runs are
keyed by their commit, so an import reads only commits and experiments it has not
seen, and an experiment removed since (`dvc exp remove`) leaves the graph.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode

from justify.config import Config, Setting
from justify.errors import UsageError
from justify.importers._orchestrator import run_import
from justify.importers._protocol import Importer, ImportOption, ImportRun, ImportSummary
from justify.importers.dvc._repo import (
    DEFAULT_PARAMS,
    LOCK,
    PIPELINE,
    InvalidFile,
    Revision,
    check_repo,
    experiments,
    pipeline,
    pipeline_commits,
    read_files,
)
from justify.importers.dvc._triples import REQUIREMENTS_PARAM, DvcText
from justify.importers.git._repo import GitRepo
from justify.store import GraphStore
from justify.vocab import JF

__all__ = ["REQUIREMENTS_PARAM", "DvcImporter", "import_dvc"]

_OWNED = "jf:hasParameter|jf:hasMeasurement|jf:hasTag|prov:qualifiedUsage"


class DvcImporter(Importer):
    """Params, metrics and dvc.lock datasets of a DVC project, per commit and experiment."""

    name = "dvc"
    summary = "params, metrics and dvc.lock datasets of a DVC project, per commit and experiment"
    description = """Reads the project's Git history (no `dvc` needed): each commit that
    changed dvc.yaml, dvc.lock, a params file or a Git-tracked metrics file becomes
    one evidence run on that commit, and each experiment (refs/exps, from `dvc exp
    run`) a run on its baseline commit. Nested keys are flattened as a.b.c. A
    `Justifies: REQ-1` commit trailer or a `justify: {requirements: [REQ-1]}` entry
    in a params file makes the run evidence of those requirements."""
    examples = ("justify import dvc", "justify import dvc --repo ../pipeline --full")
    options = (
        ImportOption(
            "repo",
            "The DVC project's repository (default: the 'dvc_repo' setting, the project root).",
            metavar="PATH",
            folder=True,
        ),
        ImportOption(
            "skip_invalid",
            "Report a params, metrics or dvc.lock file that cannot be read and import the "
            "other commits (default: stop, exit 2).",
            switch=True,
        ),
    )
    settings = (
        Setting("dvc_repo", ".", "The DVC project to import, relative to the project root."),
    )
    sync_order = 18  # before Git; the order changes nothing but the log

    def skip_reason(self, config: Config) -> str | None:
        if config.origins.get("dvc_repo", "default") != "default":
            return None  # named: an error if it is not a DVC project, not a skip
        root = config.path(config.get("dvc_repo"))
        if (root / ".dvc").is_dir() or (root / PIPELINE).exists():
            return None
        return "the project does not use DVC (no .dvc folder); set 'dvc_repo' to import one"

    def locate(self, config: Config, options: Mapping[str, Any]) -> str:
        repo = options.get("repo")
        path = Path(repo).expanduser().resolve() if repo else config.path(config.get("dvc_repo"))
        git = GitRepo(path)
        check_repo(git)
        return str(git.root)

    def read(self, run: ImportRun) -> Iterator[bytes]:
        git = GitRepo(Path(run.location))
        revisions = _current(git)
        known = set() if run.full else _known(run)
        new = [r for r in revisions if r.sha not in known]
        gone = sorted(known - {r.sha for r in revisions})
        progress = run.progress("dvc revisions", len(new))
        read_files(git, [(r, p) for r in new for p in (PIPELINE, LOCK)])
        wanted: list[tuple[Revision, str]] = []
        skip_invalid = bool(run.options.get("skip_invalid"))
        for r in list(new):
            try:
                spec = r.pipeline = pipeline(r)
            except InvalidFile as exc:
                if not skip_invalid:
                    raise _usage(exc) from None
                run.warn(f"{exc.text}; the revision is skipped")
                new.remove(r)
                continue
            wanted += [(r, p) for p in (*spec.params, *spec.metrics) if p not in r.files]
        read_files(git, wanted)
        text = DvcText(
            run.minter,
            run.graph.value.rsplit("/", 1)[-1],
            git.root.name,
            run.requirements.ids,
        )
        skipped = 0
        for r in new:
            mark = len(text.out)
            try:
                text.run(r)
            except InvalidFile as exc:
                if not skip_invalid:
                    raise _usage(exc) from None
                del text.out.lines[mark:]
                run.warn(f"{exc.text}; the revision is skipped")
                skipped += 1
            progress.advance()
        progress.done()
        if not run.full:
            nodes = [NamedNode(text.run_iri(sha)[1:-1]) for sha in gone]
            run.delete(subjects=nodes, owned=_OWNED)
            run.delete(types=(JF.Experiment,))
        for rid, shas in sorted(text.unknown.items()):
            listed = ", ".join(sorted(s[:8] for s in shas))
            run.warn(f"'{REQUIREMENTS_PARAM}' or a trailer names unknown requirement '{rid}' "
                     f"(revisions {listed})")  # fmt: skip
        run.items = len(revisions)
        run.count("commits", sum(1 for r in new if not r.experiment))
        run.count("experiments", sum(1 for r in new if r.experiment))
        run.count("removed", len(gone))
        run.count("params", text.params)
        run.count("metrics", text.metrics)
        run.count("datasets", len(text.datasets))
        if skipped:
            run.count("revisions skipped", skipped)
        yield text.out.take()


def _current(git: GitRepo) -> list[Revision]:
    """The pipeline's commits and the experiments, as the repository holds them now."""
    head = Revision("HEAD", "", "", [])
    read_files(git, [(head, PIPELINE)])
    try:
        spec = pipeline(head)
        paths = {PIPELINE, LOCK, *spec.params, *spec.metrics}
    except InvalidFile:
        paths = {PIPELINE, LOCK, DEFAULT_PARAMS}  # reported with HEAD's own revision
    return [*pipeline_commits(git, paths), *experiments(git)]


def _known(run: ImportRun) -> set[str]:
    rows = run.query("SELECT ?sha WHERE { ?r a jf:Run ; jf:runId ?sha }").values()
    return {str(r["sha"]) for r in rows if r["sha"]}


def _usage(exc: InvalidFile) -> UsageError:
    return UsageError(
        exc.text,
        hint="a commit cannot be changed: pass --skip-invalid to import the other revisions "
        "(the graph keeps its last import)",
    )


def import_dvc(
    *,
    repo: str | Path | None = None,
    skip_invalid: bool = False,
    full: bool = False,
    config: Config | None = None,
    store: GraphStore | None = None,
    progress: bool = True,
) -> ImportSummary:
    """Import a DVC project's params, metrics and datasets per commit and experiment.

    Incremental unless ``full`` or first import: only commits and experiments not yet
    in the graph are read; removed experiments leave it.
    """
    return run_import(
        "dvc",
        full=full,
        config=config,
        store=store,
        progress=progress,
        repo=repo,
        skip_invalid=skip_invalid,
    )
