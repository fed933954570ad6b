"""Git -> the graph: commits, people, file changes, refs, trailers, and when each
requirement last changed.

History is read in one streaming pass (one ``git log`` over all refs, or over
exactly the new commits when importing incrementally), never one command per
commit or per file. Commit IRIs depend only on the sha (``<base>commit/<sha>``),
so MLflow runs, which name their commit, join to it without either importer
reading the other's source.
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
from justify.importers.git._repo import LOG_ARGS, LOG_FORMAT, TRAILER, GitRepo, requirement_changes
from justify.importers.git._triples import GitText
from justify.ntriples import literal
from justify.requirements import find_requirement_files
from justify.store import GraphStore
from justify.vocab import JF, RDFS

__all__ = ["LOG_ARGS", "LOG_FORMAT", "TRAILER", "GitImporter", "import_git"]

# ------------------------------------------------------------------- import


def _previous_tips(run: ImportRun) -> list[str]:
    """The commits the refs pointed at when this repository was last imported."""
    rows = run.query("SELECT DISTINCT ?c WHERE { ?r a jf:GitRef ; jf:pointsTo ?c }").values()
    return sorted(str(r["c"]).rsplit("/", 1)[-1] for r in rows if r["c"])


def _known_commits(run: ImportRun) -> set[str]:
    rows = run.query("SELECT ?sha WHERE { ?c a jf:Commit ; jf:gitCommitSha ?sha }").values()
    return {r["sha"] for r in rows if r["sha"]}


# Read whole by every import: refs, the repository, requirement revisions.
REWRITTEN = (JF.GitRef, JF.Repository, JF.RequirementRevision)
_CHUNK_LINES = 50_000  # N-Triples lines handed on at once while streaming a full import


class GitImporter(Importer):
    """Commits, people, file changes, refs, trailers, and requirement revisions."""

    name = "git"
    summary = (
        "commits, people, file changes, refs and trailers of one repository, and when "
        "each requirement last changed"
    )
    description = """One streaming pass over the history; incremental by default (new commits
    only; commits that a force-push dropped leave the graph). A commit message
    trailer `Justifies: REQ-1, REQ-2` makes the commit evidence of those
    requirements. Also records when each requirement's own text last changed."""
    examples = (
        "justify import git",
        "justify import git --repo ../service --full",
        "justify import git --rev v1.0..HEAD",
    )
    options = (
        ImportOption(
            "repo",
            "The repository (default: the 'git_repo' setting, the project root).",
            metavar="PATH",
            folder=True,
        ),
        ImportOption(
            "rev",
            "Only this revision or range, e.g. main or v1.0..HEAD.",
            metavar="RANGE",
            forces_full=True,
        ),
    )
    settings = (
        Setting("git_repo", ".", "The Git repository to import, relative to the project root."),
    )
    sync_order = 20  # last: a run's commit joins a commit whichever came first

    def skip_reason(self, config: Config) -> str | None:
        # Only the default may be skipped: a project not (yet) under Git. A repository
        # the user named and that cannot be read is an error, or CI would pass without
        # the Git evidence it was told to import.
        if config.origins.get("git_repo", "default") != "default":
            return None
        if _inside_git(config.path(config.get("git_repo"))):
            return None
        return "the project is not a Git repository; set 'git_repo' to import one"

    def locate(self, config: Config, options: Mapping[str, Any]) -> str:
        repo = options.get("repo")
        path = Path(repo).expanduser().resolve() if repo else config.path(config.get("git_repo"))
        return str(GitRepo(path).root)

    def read(self, run: ImportRun) -> Iterator[bytes]:
        git = GitRepo(Path(run.location))
        rev = run.options.get("rev")
        full = run.full
        tips = [] if full else _previous_tips(run)
        shallow = git.is_shallow()
        if shallow:
            run.warn(
                f"{git.root} is a shallow clone: only part of the history is imported; fetch "
                "all of it with `git fetch --unshallow` (in GitHub Actions: actions/checkout "
                "with fetch-depth: 0)"
            )
        head, branch = git.head()
        if rev is not None and not git.git_ok(
            "rev-parse", "--verify", "-q", rev.split("..")[-1] or "HEAD"
        ):
            raise UsageError(
                f"{rev!r} names no revision in {git.root}",
                hint="give a branch, tag, sha or range such as v1.0..HEAD",
            )
        refs = git.refs()
        has_history = bool(head or refs)
        total = git.count(rev) if has_history else 0
        new: list[str] | None = None
        removed: set[str] = set()
        if not full:
            if tips and all(git.exists(t) for t in tips):
                # Let git walk the graph: what the refs reach now and did not reach
                # at the last import, and the reverse (dropped by a force-push).
                new = git.rev_list(["--all"], [f"^{t}" for t in tips])
                removed = set(git.rev_list(["--not", "--all"], tips))
            else:  # no ref last time, or an old tip was garbage-collected: compare sets
                known = _known_commits(run)
                current = git.all_commits()
                new, removed = sorted(current - known), known - current

        repo_node = f"<{run.minter.iri('git', run.graph.value.rsplit('/', 1)[-1]).value}>"
        text = GitText(run.minter, repo_node, run.requirements.ids)
        text.repository(git.root, git.remotes())
        for name, sha in refs:
            text.ref(name, sha)
        if head:
            text.ref("HEAD", head)
            if branch is None:
                text.out.add(
                    f"{repo_node[:-1]}/ref/HEAD>",
                    f"<{RDFS.comment.value}>",
                    literal("detached HEAD"),
                )
        changes = (
            requirement_changes(git, _requirement_paths(run.config, git.root))
            if has_history
            else {}
        )
        for rid, (sha, _, digest) in sorted(changes.items()):
            text.revision(rid, digest, sha)

        progress = run.progress("git commits", total if full else len(new or []))
        read = 0
        if full and has_history:
            commits = git.log(only=None, rev=rev)
        elif new:
            commits = git.log(only=new)
        else:
            commits = iter(())
        for c in commits:
            text.commit(c)
            read += 1
            progress.advance()
            if len(text.out) >= _CHUNK_LINES:
                yield text.out.take()
        progress.done()
        if not full:
            gone = [NamedNode(text.commit_iri(sha)[1:-1]) for sha in sorted(removed)]
            run.delete(subjects=gone, owned="jf:hasFileChange")
            run.delete(types=REWRITTEN)
        for rid, shas in sorted(text.unknown.items()):
            listed = ", ".join(sorted(s[:8] for s in shas))
            run.warn(f"'{TRAILER}:' trailer names unknown requirement '{rid}' (commits {listed})")
        run.items = total
        run.count("commits", read)
        run.count("added", read if full else len(new or []))
        run.count("removed", len(removed))
        run.count("file changes", text.file_changes)
        run.count("refs", len(refs) + (1 if head else 0))
        run.count("requirements dated", len(changes))
        yield text.out.take()


def import_git(
    *,
    repo: str | Path | None = None,
    rev: str | None = None,
    full: bool = False,
    config: Config | None = None,
    store: GraphStore | None = None,
    progress: bool = True,
) -> ImportSummary:
    """Import one Git repository into its named graph.

    Incremental unless ``full``, ``rev`` or first import: only commits not yet
    in the graph are read, and commits no ref reaches any more (a force-push, a
    rebase) leave the graph. ``rev`` (a revision or range such as ``main`` or
    ``v1.0..HEAD``) limits the history to what it names.
    """
    return run_import(
        "git", full=full, config=config, store=store, progress=progress, repo=repo, rev=rev
    )


def _requirement_paths(config: Config, root: Path) -> list[str]:
    """The requirement files, as paths inside the repository."""
    files = find_requirement_files(
        [config.path(p) for p in config.requirements if config.path(p).exists()]
    )
    paths = []
    for f in files:
        try:
            paths.append(f.resolve().relative_to(root.resolve()).as_posix())
        except ValueError:
            continue  # outside this repository
    # Also folders, so that files deleted or renamed since are followed.
    for p in config.requirements:
        folder = config.path(p)
        if not folder.exists():
            continue
        try:
            paths.append(folder.resolve().relative_to(root.resolve()).as_posix())
        except ValueError:
            continue
    return sorted(set(paths))


def _inside_git(folder: Path) -> bool:
    """Whether ``folder`` lies in a Git work tree (a .git entry there or above)."""
    folder = folder.resolve()
    return any((p / ".git").exists() for p in (folder, *folder.parents))
