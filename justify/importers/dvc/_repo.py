"""Reading a DVC project from Git alone (no `dvc` needed): which commits changed its
pipeline, params or metrics, the files at each of them, and its experiments.

Every file is read with ``git cat-file --batch`` for all commits at once, never one
command per commit and file.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from justify.errors import UsageError
from justify.importers.git._repo import TRAILER, GitRepo, decode
from justify.plainyaml import PlainYamlError, compose

PIPELINE, LOCK, DEFAULT_PARAMS = "dvc.yaml", "dvc.lock", "params.yaml"
# refs/exps/<first 2 of the baseline sha>/<the other 38>/<name>: what `dvc exp run`
# and `dvc exp save` keep; refs/exps/exec/... and the celery queue are DVC's own.
_EXPERIMENT_REF = re.compile(r"refs/exps/([0-9a-f]{2})/([0-9a-f]{38})/(.+)")
_FORMAT = f"%H%x1f%cI%x1f%(trailers:key={TRAILER},valueonly,separator=%x2C)%x1f%s%x1e"


@dataclass
class Revision:
    """A commit that changed the pipeline, or an experiment, and its DVC files."""

    sha: str
    time: str  # committer time, ISO 8601
    title: str
    trailers: list[str]
    experiment: str | None = None  # the experiment's name
    baseline: str | None = None  # the commit an experiment started from
    files: dict[str, bytes] = field(default_factory=dict)  # path -> content at sha
    pipeline: Pipeline | None = None  # what its dvc.yaml names, once read


class InvalidFile(Exception):
    """A DVC file that cannot be read, with where."""

    def __init__(self, revision: Revision, path: str, line: int | None, why: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where} (at {revision.sha[:8]}): {why}")
        self.text = str(self)


def _log(repo: GitRepo, args: Iterable[str]) -> list[Revision]:
    out = decode(repo.git("log", f"--format={_FORMAT}", *args))
    found = []
    for record in out.split("\x1e"):
        record = record.strip("\n")
        if not record:
            continue
        sha, time, trailers, title = record.split("\x1f", 3)
        names = [t.strip() for t in trailers.replace("\n", ",").split(",") if t.strip()]
        found.append(Revision(sha, time, title, names))
    return found


def pipeline_commits(repo: GitRepo, paths: Iterable[str]) -> list[Revision]:
    """The commits on branches and tags (and HEAD) that changed any of ``paths``,
    oldest first. Experiments are not on branches: see :func:`experiments`."""
    has_head = repo.git_ok("rev-parse", "-q", "--verify", "HEAD")
    revs = ["--branches", "--tags", *(["HEAD"] if has_head else [])]
    if not has_head and not repo.git("for-each-ref", "--count=1", "refs/heads", "refs/tags"):
        return []
    return list(reversed(_log(repo, [*revs, "--", *sorted(set(paths))])))


def experiments(repo: GitRepo) -> list[Revision]:
    """DVC experiments: each ref refs/exps/XX/YYYY/NAME, with its baseline commit."""
    refs = decode(repo.git("for-each-ref", "--format=%(objectname) %(refname)", "refs/exps"))
    named: dict[str, tuple[str, str]] = {}
    for line in refs.splitlines():
        sha, _, ref = line.partition(" ")
        match = _EXPERIMENT_REF.fullmatch(ref)
        if match:
            named[sha] = (match.group(3), match.group(1) + match.group(2))
    if not named:
        return []
    found = _log(repo, ["--no-walk=unsorted", *sorted(named)])
    for revision in found:
        revision.experiment, revision.baseline = named[revision.sha]
    return sorted(found, key=lambda r: (r.time, r.sha))


def read_files(repo: GitRepo, wanted: list[tuple[Revision, str]]) -> None:
    """Fill each revision's ``files`` with the content of each path at that revision
    (one ``git cat-file --batch``); a path the revision lacks is left out."""
    if not wanted:
        return
    request = "".join(f"{r.sha}:{path}\n" for r, path in wanted).encode()
    out = repo.git("cat-file", "--batch", stdin=request)
    at = 0
    for revision, path in wanted:
        end = out.index(b"\n", at)
        header = out[at:end].split(b" ")
        at = end + 1
        if header[-1] == b"missing" or len(header) != 3:
            continue
        size = int(header[2])
        if header[1] == b"blob":
            revision.files[path] = out[at : at + size]
        at += size + 1


def parse(revision: Revision, path: str) -> Any:
    """A YAML, JSON or TOML file of a revision as data (None when absent). The data is
    shared between revisions whose file has the same bytes: do not change it."""
    raw = revision.files.get(path)
    if raw is None:
        return None
    try:
        return _parsed(raw, PurePosixPath(path).suffix.lower())
    except _Unreadable as exc:
        raise InvalidFile(revision, path, exc.line, exc.why) from None


class _Unreadable(Exception):
    def __init__(self, line: int | None, why: str) -> None:
        super().__init__(why)
        self.line, self.why = line, why


@functools.lru_cache(maxsize=4096)
def _parsed(raw: bytes, suffix: str) -> Any:
    # Most commits leave dvc.yaml and some params files as they were: parsed once.
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unreadable(None, "not UTF-8 text") from None
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _Unreadable(exc.lineno, f"not JSON ({exc.msg})") from None
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line = re.search(r"line (\d+)", str(exc))
            raise _Unreadable(int(line.group(1)) if line else None, str(exc)) from None
    problems: list[tuple[int, str]] = []
    try:
        root = compose(text, problems)
    except PlainYamlError as exc:
        raise _Unreadable(exc.line, exc.message) from None
    if problems:
        first, why = problems[0]
        raise _Unreadable(first, why)
    return None if root is None else root.data()


def _entries(items: Any) -> Iterator[tuple[str, Any]]:
    """dvc.yaml lists their entries as ``path`` or ``{path: options}``."""
    for item in items or []:
        if isinstance(item, str):
            yield item, None
        elif isinstance(item, dict):
            yield from ((str(k), v) for k, v in item.items())


@dataclass
class Pipeline:
    """What a revision's dvc.yaml names: its params files and Git-tracked metrics files."""

    params: list[str]
    metrics: list[str]


def pipeline(revision: Revision) -> Pipeline:
    spec = parse(revision, PIPELINE)
    params: list[str] = [DEFAULT_PARAMS]
    metrics: list[str] = []
    if not isinstance(spec, dict):
        return Pipeline(params, metrics)
    for path, _ in _entries(spec.get("params")):
        params.append(path)
    for path, _ in _entries(spec.get("metrics")):
        metrics.append(path)  # top-level metrics files are in Git
    stages = spec.get("stages")
    for stage in stages.values() if isinstance(stages, dict) else []:
        if not isinstance(stage, dict):
            continue
        for path, keys in _entries(stage.get("params")):
            # `- train.lr` names a key of params.yaml; `- other.yaml: [keys]` a file.
            if keys is not None or path.endswith((".yaml", ".yml", ".json", ".toml")):
                params.append(path)
        for path, options in _entries(stage.get("metrics")):
            if isinstance(options, dict) and options.get("cache") is False:
                metrics.append(path)  # `cache: false`: the file itself is in Git
    return Pipeline(sorted(set(params)), sorted(set(metrics)))


def flatten(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested keys as ``a.b.c`` (DVC's own notation), lists kept whole."""
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from flatten(value, f"{prefix}{key}.")
    elif prefix:
        yield prefix[:-1], data


@dataclass
class Artifact:
    """A dependency or output of a stage in dvc.lock: a path and its hash."""

    path: str
    digest: str
    stage: str


def lock(revision: Revision) -> tuple[list[Artifact], list[Artifact], dict[str, str]]:
    """dvc.lock's deps and outs of every stage, and each stage's command."""
    data = parse(revision, LOCK)
    deps: list[Artifact] = []
    outs: list[Artifact] = []
    commands: dict[str, str] = {}
    stages = data.get("stages") if isinstance(data, dict) else None
    if not isinstance(stages, dict):
        return deps, outs, commands
    for name, stage in stages.items():
        if not isinstance(stage, dict):
            continue
        cmd = stage.get("cmd")
        commands[str(name)] = (
            " && ".join(map(str, cmd)) if isinstance(cmd, list) else str(cmd or "")
        )
        for key, into in (("deps", deps), ("outs", outs)):
            for item in stage.get(key) or []:
                if not isinstance(item, dict) or "path" not in item:
                    continue
                digest = item.get("md5") or item.get("etag") or item.get("checksum") or ""
                into.append(Artifact(str(item["path"]), str(digest), str(name)))
    return deps, outs, commands


def requirement_ids(value: Any) -> list[str]:
    """``justify.requirements`` in a params file: a list, or ids separated by commas."""
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return []


def check_repo(repo: GitRepo) -> None:
    if not (repo.root / ".dvc").is_dir() and not (repo.root / PIPELINE).exists():
        raise UsageError(
            f"{repo.root} is not a DVC project (no .dvc folder or dvc.yaml)",
            hint="give --repo PATH of a DVC project, or set 'dvc_repo'",
        )
