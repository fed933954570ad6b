"""Git -> the graph: commits, people, file changes, refs, trailers, and when each
requirement last changed.

History is read in one streaming pass (one ``git log`` over all refs, or over
exactly the new commits when importing incrementally), never one command per
commit or per file. Commit IRIs depend only on the sha (``<base>commit/<sha>``),
so MLflow runs, which name their commit, join to it without either importer
reading the other's source.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode

from justify.config import Config, Setting
from justify.errors import SourceUnavailable, UsageError
from justify.importers._orchestrator import run_import
from justify.importers._protocol import Importer, ImportOption, ImportRun, ImportSummary
from justify.iris import Minter
from justify.ntriples import XSD_DATETIME, Lines, Terms, literal, segment, typed
from justify.requirements import content_hash, find_requirement_files, plain_data
from justify.store import GraphStore
from justify.urls import strip_credentials
from justify.vocab import JF, PROV, RDF, RDFS

TRAILER = "Justifies"
# One record per commit: fields split by \x1f, the record ends with \x1f\0; then
# the --name-status entries, NUL-terminated (-z).
LOG_FORMAT = (
    # %aN/%aE: people as the repository's .mailmap resolves them; %aI: the author's
    # own clock and offset, so that "the day of the commit" is the day its author saw.
    "%x1e%H%x1f%P%x1f%aN%x1f%aE%x1f%aI%x1f%cN%x1f%cE%x1f%cI%x1f"
    f"%(trailers:key={TRAILER},valueonly,separator=%x2C)%x1f%B%x1f"
)
LOG_ARGS = ["-z", "--name-status", "-M", "--diff-merges=first-parent", f"--format={LOG_FORMAT}"]
CHANGE_TYPES = {
    "A": "added",
    "M": "modified",
    "D": "deleted",
    "R": "renamed",
    "C": "copied",
    "T": "modified",
}

J = Terms(JF)
P = Terms(PROV)
TYPE = f"<{RDF.type.value}>"
LABEL = f"<{RDFS.label.value}>"


@dataclass
class Commit:
    sha: str
    parents: list[str]
    author: tuple[str, str]
    author_time: str  # ISO 8601 with the author's offset
    committer: tuple[str, str]
    commit_time: str
    trailers: list[str]
    message: str
    changes: list[tuple[str, str, str | None]] = field(default_factory=list)


def decode(raw: bytes) -> str:
    """UTF-8, or Latin-1 for the legacy bytes some old commits carry."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# ------------------------------------------------------------------- reading


class GitRepo:
    """Runs ``git`` in one repository."""

    def __init__(self, path: Path) -> None:
        self.requested = path
        if not path.exists():
            raise UsageError(f"{path}: no such folder", hint="give --repo or set 'git_repo'")
        top = self._run(["rev-parse", "--show-toplevel"], cwd=path, check=False)
        if top.returncode != 0:
            raise UsageError(
                f"{path} is not a Git repository ({decode(top.stderr).strip()})",
                hint="give --repo PATH of a repository, or set 'git_repo' in the configuration",
            )
        self.root = Path(decode(top.stdout).strip())

    @staticmethod
    def _run(
        args: list[str], *, cwd: Path, check: bool = True, stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        try:
            result = subprocess.run(
                ["git", *args],
                cwd=cwd,
                input=stdin,
                capture_output=True,
                check=False,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
            )
        except FileNotFoundError as exc:
            raise SourceUnavailable(
                "the git command is not installed", hint="install Git and run the command again"
            ) from exc
        if check and result.returncode != 0:
            raise SourceUnavailable(
                f"git {' '.join(args[:2])} failed in {cwd}: {decode(result.stderr).strip()}",
                hint="check that the repository is readable and not corrupt",
            )
        return result

    def git(self, *args: str, stdin: bytes | None = None) -> bytes:
        return self._run(list(args), cwd=self.root, stdin=stdin).stdout

    def git_ok(self, *args: str) -> bool:
        return self._run(list(args), cwd=self.root, check=False).returncode == 0

    def is_shallow(self) -> bool:
        return self.git("rev-parse", "--is-shallow-repository").strip() == b"true"

    def count(self, rev: str | None = None) -> int:
        return int(decode(self.git("rev-list", "--count", rev or "--all", "--")).strip() or 0)

    def exists(self, sha: str) -> bool:
        return self.git_ok("cat-file", "-e", f"{sha}^{{commit}}")

    def rev_list(self, args: list[str], revs: list[str]) -> list[str]:
        """``git rev-list ARGS`` with ``revs`` on standard input (no length limit)."""
        out = self.git("rev-list", *args, "--stdin", stdin=("\n".join(revs) + "\n").encode())
        return decode(out).split()

    def all_commits(self, rev: str | None = None) -> set[str]:
        return set(decode(self.git("rev-list", rev or "--all", "--")).split())

    def head(self) -> tuple[str | None, str | None]:
        """(sha of HEAD or None when unborn, branch name or None when detached)."""
        sha = self._run(
            ["rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=self.root, check=False
        )
        branch = self._run(["symbolic-ref", "-q", "HEAD"], cwd=self.root, check=False)
        return (
            decode(sha.stdout).strip() or None,
            decode(branch.stdout).strip() or None if branch.returncode == 0 else None,
        )

    def refs(self) -> list[tuple[str, str]]:
        """(ref name, commit sha) for branches, remote branches and tags."""
        out = decode(
            self.git("for-each-ref", "--format=%(refname)%00%(objectname)%00%(*objectname)")
        )
        refs = []
        for line in out.splitlines():
            name, obj, peeled = [*line.split("\0"), "", ""][:3]
            if name.startswith(
                ("refs/heads/", "refs/tags/", "refs/remotes/")
            ) and not name.endswith("/HEAD"):
                refs.append((name, peeled or obj))
        return refs

    def remotes(self) -> dict[str, str]:
        out = decode(self.git("remote", "-v"))
        found = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                found[parts[0]] = strip_credentials(parts[1])
        return found

    def log(
        self,
        *,
        only: Sequence[str] | None,
        rev: str | None = None,
    ) -> Iterator[Commit]:
        """Stream ``git log`` over all refs (or ``rev``), or over exactly ``only``."""
        args = ["git", "log", *LOG_ARGS]
        if only is None:
            args += [rev or "--all", "--"]
        else:
            args += ["--no-walk=unsorted", "--stdin"]
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        proc = subprocess.Popen(
            args,
            cwd=self.root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        if only is not None:
            proc.stdin.write("\n".join(only).encode() + b"\n")
        proc.stdin.close()
        buffer = b""
        try:
            while chunk := proc.stdout.read(1 << 20):
                buffer += chunk
                *records, buffer = buffer.split(b"\x1e")
                for record in records:
                    if record:
                        yield parse_record(record)
            if buffer:
                yield parse_record(buffer)
            error = proc.stderr.read()
            if proc.wait() != 0:
                raise SourceUnavailable(f"git log failed in {self.root}: {decode(error).strip()}")
        finally:
            if proc.poll() is None:  # the reader stopped early (an error downstream)
                proc.kill()
                proc.wait()


def parse_record(record: bytes) -> Commit:
    header, _, rest = record.partition(b"\x1f\x00")
    fields = header.split(b"\x1f")
    sha, parents, an, ae, at, cn, ce, ct, trailers, message = (fields + [b""] * 10)[:10]
    commit = Commit(
        sha=decode(sha),
        parents=decode(parents).split(),
        author=(decode(an), decode(ae)),
        author_time=decode(at),
        committer=(decode(cn), decode(ce)),
        commit_time=decode(ct),
        trailers=[t.strip() for t in decode(trailers).split(",") if t.strip()],
        message=decode(message).strip(),
    )
    tokens = rest.lstrip(b"\n").split(b"\0")
    i = 0
    while i < len(tokens) and tokens[i]:
        status = decode(tokens[i]).strip()
        kind = CHANGE_TYPES.get(status[:1], "modified")
        if status[:1] in ("R", "C") and i + 2 < len(tokens):
            commit.changes.append((kind, decode(tokens[i + 2]), decode(tokens[i + 1])))
            i += 3
        else:
            commit.changes.append((kind, decode(tokens[i + 1]), None))
            i += 2
    return commit


# ------------------------------------------------------- requirement history


def _requirement_hashes(text: str) -> dict[str, str]:
    """Requirement id -> a hash of that requirement's own content, in one file version."""
    data = plain_data(text)  # an alias bomb in an old version must not blow up the import
    items = data.get("requirements") if isinstance(data, dict) else None
    result = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            result[item["id"]] = content_hash(item)
    return result


def requirement_changes(repo: GitRepo, paths: list[str]) -> dict[str, tuple[str, int, str]]:
    """Requirement id -> (sha, commit time, content hash) of the last commit that changed
    its content.

    One ``git log`` lists the commits touching requirement files; one
    ``git cat-file --batch`` reads every version of those files.
    """
    if not paths:
        return {}
    out = repo.git(
        "log",
        "--format=%x1e%H %ct%x1f",
        "--name-only",
        "-z",
        "--diff-merges=first-parent",
        "--all",
        "--",
        *paths,
    )
    touched: list[tuple[str, int, list[str]]] = []
    for record in out.split(b"\x1e"):
        head, sep, names = record.partition(b"\x1f")
        if not sep:
            continue
        commit_sha, commit_time = decode(head).split()
        files = [decode(n).strip("\n") for n in names.split(b"\0")]
        touched.append((commit_sha, int(commit_time), [f for f in files if f]))
    requests = [f"{sha}:{name}" for sha, _, files in touched for name in files]
    if not requests:
        return {}
    blobs = repo.git("cat-file", "--batch", stdin=("\n".join(requests) + "\n").encode())
    contents: dict[str, str | None] = {}
    pos = 0
    for request in requests:
        end = blobs.index(b"\n", pos)
        header = blobs[pos:end].split()
        pos = end + 1
        if len(header) == 2 and header[1] == b"missing":
            contents[request] = None  # the file was deleted in that commit
            continue
        size = int(header[2])
        contents[request] = decode(blobs[pos : pos + size])
        pos += size + 1
    # Walk commits oldest first (by commit time: --all mixes branches), keeping
    # each file's requirement hashes; a requirement changed when its hash did.
    touched.sort(key=lambda t: t[1])
    current: dict[str, dict[str, str]] = {}
    last_hash: dict[str, str] = {}
    changed: dict[str, tuple[str, int, str]] = {}
    for sha, ct, files in touched:
        for name in files:
            text = contents.get(f"{sha}:{name}")
            current[name] = _requirement_hashes(text) if text is not None else {}
        merged: dict[str, str] = {}
        for hashes in current.values():
            merged.update(hashes)
        for rid, digest in merged.items():
            if last_hash.get(rid) != digest:
                last_hash[rid] = digest
                changed[rid] = (sha, ct, digest)
    return changed


# ------------------------------------------------------------------- triples


def _time(iso: str) -> str:
    return typed(iso or "1970-01-01T00:00:00Z", XSD_DATETIME)


class GitText:
    """Writes commits, people, changes and refs as N-Triples lines."""

    def __init__(self, minter: Minter, repo_node: str, known_ids: frozenset[str]) -> None:
        self.minter = minter
        self.repo = repo_node
        self.known = known_ids
        self.out = Lines()
        self.people: set[str] = set()
        self.file_changes = 0
        self.unknown: dict[str, set[str]] = {}

    def commit_iri(self, sha: str) -> str:
        return f"<{self.minter.base}commit/{sha}>"

    def person(self, name: str, email: str) -> str:
        # Name and email together: people who share a placeholder email (none@none in
        # old imports) stay apart; a .mailmap merges the spellings of one person.
        node = f"<{self.minter.base}person/{segment(email.lower())}/{segment(name)}>"
        if node not in self.people:
            self.people.add(node)
            add = self.out.add
            add(node, TYPE, P.Person)
            add(node, TYPE, P.Agent)
            add(node, J.personName, literal(name))
            add(node, J.email, literal(email))
            add(node, LABEL, literal(f"{name} <{email}>"))
        return node

    def commit(self, c: Commit) -> None:
        add, node = self.out.add, self.commit_iri(c.sha)
        for t in (J.Commit, P.Activity, J.Evidence):
            add(node, TYPE, t)
        title, _, body = c.message.partition("\n")
        add(node, J.gitCommitSha, literal(c.sha))
        add(node, LABEL, literal(f"{c.sha[:8]} {title}"))
        add(node, J.messageTitle, literal(title))
        if body.strip():
            add(node, J.messageBody, literal(body.strip()))
        add(node, P.startedAtTime, _time(c.author_time))
        add(node, P.endedAtTime, _time(c.commit_time))
        author = self.person(*c.author)
        committer = self.person(*c.committer)
        add(node, J.author, author)
        add(node, J.committer, committer)
        add(node, P.wasAssociatedWith, author)
        if committer != author:
            add(node, P.wasAssociatedWith, committer)
        add(node, J.inRepository, self.repo)
        for parent in c.parents:
            p = self.commit_iri(parent)
            add(node, J.parentCommit, p)
            add(node, P.wasInformedBy, p)
        for n, (kind, path, previous) in enumerate(c.changes, 1):
            change = f"{node[:-1]}/change/{n}>"
            add(node, J.hasFileChange, change)
            add(change, TYPE, J.FileChange)
            add(change, J.changeType, literal(kind))
            add(change, J.path, literal(path))
            if previous is not None:
                add(change, J.previousPath, literal(previous))
            self.file_changes += 1
        for rid in c.trailers:
            add(node, J.supports, f"<{self.minter.requirement(rid).value}>")
            if rid not in self.known:
                self.unknown.setdefault(rid, set()).add(c.sha)

    def repository(self, root: Path, remotes: dict[str, str]) -> None:
        add = self.out.add
        add(self.repo, TYPE, J.Repository)
        add(self.repo, TYPE, P.Entity)
        add(self.repo, LABEL, literal(f"repository {root.name}"))
        add(self.repo, J.localPath, literal(str(root)))
        for url in sorted(set(remotes.values())):
            add(self.repo, J.remoteUrl, literal(url))

    def ref(self, name: str, sha: str) -> None:
        add = self.out.add
        node = f"{self.repo[:-1]}/ref/{segment(name)}>"
        add(node, TYPE, J.GitRef)
        add(node, J.refName, literal(name))
        add(node, LABEL, literal(name.removeprefix("refs/heads/").removeprefix("refs/tags/")))
        add(node, J.pointsTo, self.commit_iri(sha))
        add(node, J.inRepository, self.repo)

    def revision(self, rid: str, digest: str, sha: str) -> None:
        """The commit that last changed a requirement's own content, as Git's data: the
        judgement joins it with the loaded requirement by id."""
        node = f"{self.repo[:-1]}/requirement-revision/{segment(rid)}>"
        add = self.out.add
        add(node, TYPE, J.RequirementRevision)
        add(node, TYPE, P.Entity)
        add(node, J.requirementId, literal(rid))
        add(node, J.contentHash, literal(digest))
        add(node, J.revisedIn, self.commit_iri(sha))
        add(node, LABEL, literal(f"revision of {rid} in {sha[:8]}"))


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
