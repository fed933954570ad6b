"""Time `justify import git` against its floor: justify's own `git log` pass
(`git log --all -z --name-status -M` with the same fields) into /dev/null.
Prints both and their ratio, the store floor (the time Oxigraph takes to write that
graph alone, see storefloor.py), then times an incremental import of 100 new commits.

The repository (50,000 commits touching 5,000 files, made with git fast-import)
is built once in --workdir and reused; or give --repo to use an existing one.

    python benchmarks/bench_git.py [--commits 50000] [--files 5000] [--repo PATH]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import time
from pathlib import Path

from storefloor import store_floor

import justify
from justify.importers.git import LOG_ARGS, import_git


def fast_import(repo: Path, commits: int, files: int, *, start: int = 0, parent: bool) -> None:
    """Append `commits` commits to main, each touching one to three files."""
    rng = random.Random(start)
    lines: list[bytes] = []
    when = 1_700_000_000 + start * 60
    for i in range(start, start + commits):
        message = f"change {i}\n\nJustifies: REQ-{i % 20}\n" if i % 500 == 0 else f"change {i}\n"
        data = message.encode()
        lines.append(b"commit refs/heads/main\n")
        author = f"Dev {i % 37} <dev{i % 37}@example.org> {when + i * 60} +0000\n".encode()
        lines.append(b"author " + author)
        lines.append(b"committer " + author)
        lines.append(b"data %d\n" % len(data) + data)
        if i == start and parent:
            lines.append(b"from refs/heads/main^0\n")
        for _ in range(rng.randint(1, 3)):
            path = f"src/pkg{rng.randrange(files) % 50}/file{rng.randrange(files)}.py"
            content = f"value = {i}\n".encode()
            lines.append(f"M 100644 inline {path}\n".encode())
            lines.append(b"data %d\n" % len(content) + content)
        lines.append(b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(lines), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=repo, check=True)


def build(repo: Path, commits: int, files: int) -> None:
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    fast_import(repo, commits, files, parent=False)


def floor(repo: Path) -> float:
    start = time.perf_counter()
    with open("/dev/null", "wb") as sink:
        subprocess.run(
            ["git", "log", *LOG_ARGS, "--all", "--"],
            cwd=repo,
            stdout=sink,
            check=True,
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=5_000)
    parser.add_argument("--repo", type=Path, help="an existing repository to import instead")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/justify-bench-git"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.repo:
        source = args.repo.resolve()
    else:
        source = args.workdir / f"repo-{args.commits}-{args.files}"
        if not source.exists():
            print(f"building {source} ({args.commits} commits, once; reused later) ...", flush=True)
            build(source, args.commits, args.files)
    repo = args.workdir / "work"
    if repo.exists():
        shutil.rmtree(repo)
    subprocess.run(["git", "clone", "-q", "--no-local", str(source), str(repo)], check=True)
    (repo / "justify.toml").write_text(
        'base_iri = "https://example.org/bench/"\nstore = "../store"\n'
    )
    shutil.rmtree(args.workdir / "store", ignore_errors=True)
    config = justify.load_config(repo / "justify.toml")
    count = int(
        subprocess.run(
            ["git", "rev-list", "--all", "--count"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )

    floor_s = min(floor(repo) for _ in range(3))
    start = time.perf_counter()
    full = import_git(config=config, progress=False)
    full_s = time.perf_counter() - start
    size = next(g.triples for g in justify.status(config=config) if g.kind == "git")
    store_s, store_mb = store_floor(config, "git")

    fast_import(repo, 100, args.files, start=count + 1, parent=True)
    start = time.perf_counter()
    incremental = import_git(config=config, progress=False)
    incremental_s = time.perf_counter() - start

    print(f"commits: {count}, file changes: {full['file changes']}; graph: {size:,} triples")
    print(f"floor (git log --all -z --name-status -M): {floor_s:7.2f} s")
    print(f"justify import git, full:           {full_s:7.2f} s  ({full_s / floor_s:.2f}x floor)")
    print(
        f"store floor (that graph's N-Triples bulk-loaded alone into an empty on-disk "
        f"store): {store_s:.2f} s = {store_s / floor_s:.2f}x floor, peak {store_mb:.0f} MB"
    )
    print(
        f"justify import git, 100 new commits: {incremental_s:6.2f} s  "
        f"[{incremental['commits']} read, {incremental['added']} added]"
    )


if __name__ == "__main__":
    main()
