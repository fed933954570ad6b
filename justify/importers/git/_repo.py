"""Reading a Git repository: one streaming `git log` pass, refs, remotes, and when
each requirement's own text last changed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from justify.errors import SourceUnavailable, UsageError
from justify.requirements import content_hash, plain_data
from justify.urls import strip_credentials

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
