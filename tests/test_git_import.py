"""The Git importer against real repositories built with `git` in tmp_path; counts and
shas in the graph are compared with what `git rev-list` and `git log` print."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from gitrepo import Repo
from helpers import run_justify, write

import justify
from justify.config import Config, load_config
from justify.importers.git import import_git

REQS_V1 = """requirements:
  - id: REQ-A
    title: Recall
    criteria:
      - {metric: test_recall, op: ">=", threshold: 0.8}
  - id: REQ-B
    title: Precision
"""
REQS_V2 = REQS_V1.replace("threshold: 0.8", "threshold: 0.9")


@pytest.fixture
def project(tmp_path: Path) -> tuple[Repo, Config]:
    """A project whose folder is a Git repository holding justify.toml and requirements."""
    repo = Repo(tmp_path / "project")
    repo.commit(
        "initial layout",
        {
            "justify.toml": 'base_iri = "https://example.org/g/"\n',
            "requirements/reqs.yaml": REQS_V1,
            ".gitignore": ".justify/\n",
        },
    )
    config = load_config(repo.path / "justify.toml")
    return repo, config


def q(config: Config, sparql: str) -> list[dict[str, str | None]]:
    return justify.query(sparql, config=config).values()


def graph_shas(config: Config) -> set[str]:
    return {
        r["sha"] for r in q(config, "SELECT ?sha WHERE { ?c a jf:Commit ; jf:gitCommitSha ?sha }")
    }  # type: ignore[misc]


def test_linear_history_matches_git_log(project) -> None:
    repo, config = project
    for i in range(4):
        repo.commit(
            f"change {i}",
            {f"src/f{i}.py": f"x = {i}\n"},
            author=("Grace Hopper", "grace@example.org"),
        )
    summary = import_git(config=config, progress=False)
    assert summary.full and summary["commits"] == len(repo.rev_list()) == 5
    assert graph_shas(config) == set(repo.rev_list())
    log = repo.git("log", "--format=%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%s").splitlines()
    for line in log:
        sha, parents, an, ae, at, cn, subject = line.split("\0")
        row = q(
            config,
            f"""SELECT ?an ?ae ?at ?cn ?title WHERE {{ ?c jf:gitCommitSha "{sha}" ;
            jf:author [ jf:personName ?an ; jf:email ?ae ] ; prov:startedAtTime ?at ;
            jf:committer/jf:personName ?cn ; jf:messageTitle ?title }}""",
        )[0]
        assert (row["an"], row["ae"], row["cn"], row["title"]) == (an, ae, cn, subject)
        assert row["at"] == at.replace("+00:00", "Z")
        got_parents = {
            r["p"]
            for r in q(
                config,
                f"""SELECT ?p WHERE {{ ?c jf:gitCommitSha "{sha}" ;
            jf:parentCommit/jf:gitCommitSha ?p }}""",
            )
        }
        assert got_parents == set(parents.split())


def test_merges_tags_renames_and_head(project) -> None:
    repo, config = project
    repo.commit("add model", {"src/model.py": "m = 1\n"})
    repo.git("tag", "v1.0")
    repo.git("tag", "-a", "v1.1", "-m", "annotated")
    repo.git("checkout", "-q", "-b", "feature")
    repo.git("mv", "src/model.py", "src/classifier.py")
    renamed = repo.commit("rename model")
    repo.git("checkout", "-q", "main")
    repo.commit("docs", {"README.md": "hello\n"})
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge feature", env=repo.env("A", "a@x"))
    merge = repo.head()
    import_git(config=config, progress=False)
    assert graph_shas(config) == set(repo.rev_list())
    parents = q(
        config,
        f"""SELECT ?p WHERE {{ ?c jf:gitCommitSha "{merge}" ;
        jf:parentCommit/jf:gitCommitSha ?p }}""",
    )
    assert len(parents) == 2
    change = q(
        config,
        f"""SELECT ?type ?path ?prev WHERE {{ ?c jf:gitCommitSha "{renamed}" ;
        jf:hasFileChange [ jf:changeType ?type ; jf:path ?path ; jf:previousPath ?prev ] }}""",
    )
    assert change == [{"type": "renamed", "path": "src/classifier.py", "prev": "src/model.py"}]
    refs = {
        r["name"]: r["sha"]
        for r in q(
            config,
            """SELECT ?name ?sha WHERE {
        ?r a jf:GitRef ; jf:refName ?name ; jf:pointsTo/jf:gitCommitSha ?sha }""",
        )
    }
    expected = {
        name: repo.git("rev-parse", f"{name}^{{commit}}")
        for name in ("refs/heads/main", "refs/heads/feature", "refs/tags/v1.0", "refs/tags/v1.1")
    }
    expected["HEAD"] = merge
    assert refs == expected


def test_trailers_link_commits_and_unknown_ids_are_reported(project) -> None:
    repo, config = project
    justify.load(config=config)
    sha = repo.commit("tune threshold\n\nJustifies: REQ-A, REQ-NOPE\nSigned-off-by: A <a@x>")
    summary = import_git(config=config, progress=False)
    linked = {
        r["id"]
        for r in q(
            config,
            f"""SELECT ?id WHERE {{ ?c jf:gitCommitSha "{sha}" ;
        jf:supports ?r . OPTIONAL {{ ?r dcterms:identifier ?known }}
        BIND(COALESCE(?known, REPLACE(STR(?r), "^.*/", "")) AS ?id) }}""",
        )
    }
    assert linked == {"REQ-A", "REQ-NOPE"}
    assert any("unknown requirement 'REQ-NOPE'" in w for w in summary.warnings)


def test_requirement_last_change_is_per_requirement(project) -> None:
    repo, config = project
    first = repo.git("rev-parse", "HEAD")
    changed = repo.commit("raise REQ-A threshold", {"requirements/reqs.yaml": REQS_V2})
    repo.commit("unrelated", {"src/x.py": "x = 1\n"})
    # Moving REQ-B to another file, unchanged, is not a change of REQ-B.
    a_only = REQS_V2[: REQS_V2.index("  - id: REQ-B")]
    b_only = "requirements:\n" + REQS_V2[REQS_V2.index("  - id: REQ-B") :]
    repo.commit("split files", {"requirements/reqs.yaml": a_only, "requirements/b.yaml": b_only})
    summary = import_git(config=config, progress=False)
    assert summary["requirements dated"] == 2
    rows = {
        r["id"]: r["sha"]
        for r in q(
            config,
            """SELECT ?id ?sha WHERE { ?rev a jf:RequirementRevision ;
        jf:requirementId ?id ; jf:revisedIn/jf:gitCommitSha ?sha }""",
        )
    }
    assert rows == {"REQ-A": changed, "REQ-B": first}
    # The judgement joins these revisions with the loaded requirements.
    from justify._load import load

    load(config=config)
    judged = justify.judge(config=config)
    assert {rid: r.last_changed_in for rid, r in judged.requirements.items()} == {
        "REQ-A": f"{config.base_iri}commit/{changed}",
        "REQ-B": f"{config.base_iri}commit/{first}",
    }


def test_incremental_reads_only_new_commits(project) -> None:
    repo, config = project
    import_git(config=config, progress=False)
    new = [repo.commit(f"more {i}", {f"m{i}.txt": str(i)}) for i in range(3)]
    summary = import_git(config=config, progress=False)
    assert not summary.full and summary["commits"] == 3 and summary["added"] == 3
    assert graph_shas(config) == set(repo.rev_list())
    assert set(new) <= graph_shas(config)


def test_rewritten_history_drops_commits(project) -> None:
    repo, config = project
    repo.commit("keep", {"a.txt": "1"})
    dropped = [repo.commit(f"drop {i}", {f"d{i}.txt": "x"}) for i in range(2)]
    import_git(config=config, progress=False)
    repo.git("reset", "-q", "--hard", "HEAD~2")
    rewritten = repo.commit("rewritten", {"r.txt": "r"})
    summary = import_git(config=config, progress=False)
    assert summary["removed"] == 2 and summary["added"] == 1
    shas = graph_shas(config)
    assert shas == set(repo.rev_list())
    assert rewritten in shas and not set(dropped) & shas
    left = q(
        config, f"""SELECT ?s WHERE {{ ?s ?p ?o FILTER(CONTAINS(STR(?s), "{dropped[0]}")) }}"""
    )
    assert left == []


def test_shallow_clone_imports_what_is_there_and_warns(project, tmp_path: Path) -> None:
    repo, _ = project
    for i in range(5):
        repo.commit(f"c{i}", {f"c{i}.txt": str(i)})
    clone = Repo(tmp_path / "shallow", init=False)
    Repo(tmp_path, init=False).git(
        "clone", "-q", "--depth", "2", f"file://{repo.path}", str(clone.path)
    )
    config = load_config(clone.path / "justify.toml")
    summary = import_git(config=config, progress=False)
    assert any("shallow clone" in w for w in summary.warnings)
    assert summary["commits"] == len(clone.rev_list()) == 2
    warning = next(w for w in summary.warnings if "shallow" in w)
    assert "fetch-depth: 0" in warning and "git fetch --unshallow" in warning


def test_detached_head(project) -> None:
    repo, config = project
    first = repo.head()
    repo.commit("second", {"s.txt": "s"})
    repo.git("checkout", "-q", "--detach", first)
    import_git(config=config, progress=False)
    rows = q(
        config,
        """SELECT ?sha ?note WHERE { ?r jf:refName "HEAD" ;
        jf:pointsTo/jf:gitCommitSha ?sha ; rdfs:comment ?note }""",
    )
    assert rows == [{"sha": first, "note": "detached HEAD"}]


def test_empty_repository(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "empty")
    write(repo.path / "justify.toml", "")
    config = load_config(repo.path / "justify.toml")
    summary = import_git(config=config, progress=False)
    assert summary["commits"] == 0
    assert q(config, "SELECT ?p WHERE { ?r a jf:Repository ; jf:localPath ?p }") == [
        {"p": str(repo.path.resolve())}
    ]


def test_submodules_are_handled(project, tmp_path: Path) -> None:
    repo, config = project
    lib = Repo(tmp_path / "lib")
    lib.commit("lib", {"lib.py": "pass\n"})
    repo.git("submodule", "add", "-q", str(lib.path), "vendor/lib")
    sha = repo.commit("add submodule")
    import_git(config=config, progress=False)
    paths = {
        r["path"]
        for r in q(
            config,
            f"""SELECT ?path WHERE {{ ?c jf:gitCommitSha "{sha}" ;
        jf:hasFileChange/jf:path ?path }}""",
        )
    }
    assert paths == {".gitmodules", "vendor/lib"}


def test_non_utf8_messages_and_names(project) -> None:
    repo, config = project
    repo.write("l.txt", "latin")
    repo.git("add", "-A")
    env = repo.env("Jos\xe9", "jose@example.org")
    env["GIT_AUTHOR_NAME"] = "José"
    repo.git(
        "-c",
        "i18n.commitEncoding=ISO-8859-1",
        "commit",
        "-q",
        "-F",
        "-",
        env=env,
        input="café au lait".encode("latin-1"),
    )
    # A commit whose bytes are Latin-1 without any encoding header.
    tree = repo.git("write-tree")
    parent = repo.head()
    raw = repo.git("commit-tree", tree, "-p", parent, env=env, input=b"na\xefve message")
    repo.git("update-ref", "refs/heads/main", raw)
    import_git(config=config, progress=False)
    titles = {r["t"] for r in q(config, "SELECT ?t WHERE { ?c jf:messageTitle ?t }")}
    assert "café au lait" in titles and "naïve message" in titles
    names = {r["n"] for r in q(config, "SELECT ?n WHERE { ?p jf:personName ?n }")}
    assert "José" in names


def test_not_a_repository_exits_2(tmp_path: Path) -> None:
    write(tmp_path / "plain" / "justify.toml", "")
    result = run_justify("import", "git", cwd=tmp_path / "plain")
    assert result.returncode == 2
    assert "is not a Git repository" in result.stderr
    assert "Traceback" not in result.stderr
    bad_rev = Repo(tmp_path / "r")
    bad_rev.commit("x")
    write(bad_rev.path / "justify.toml", "")
    result = run_justify("import", "git", "--rev", "no-such-branch", cwd=bad_rev.path)
    assert result.returncode == 2 and "names no revision" in result.stderr


def test_rev_range_limits_the_history(project) -> None:
    repo, config = project
    repo.git("tag", "v1")
    later = [repo.commit(f"after {i}", {f"a{i}": "x"}) for i in range(2)]
    summary = import_git(config=config, rev="v1..HEAD", progress=False)
    assert summary["commits"] == 2 and graph_shas(config) == set(later)


def test_runs_join_to_their_commits(project, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    repo, config = project
    approved = REQS_V1.replace("    title: Recall\n", "    title: Recall\n    status: approved\n")
    sha = repo.commit(
        "train\n\nJustifies: REQ-B",
        {"train.py": "fit()\n", "requirements/reqs.yaml": approved},
        author=("Katherine Johnson", "kj@example.org"),
    )
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    exp = client.create_experiment("e", artifact_location=(tmp_path / "art").as_uri())
    # Explicit times: the orphan ends last, so it is REQ-A's current evidence.
    for i, (name, commit) in enumerate((("joined", sha), ("orphan", "f" * 40))):
        start = 1_767_225_600_000 + i * 60_000
        run = client.create_run(
            exp,
            run_name=name,
            start_time=start,
            tags={"mlflow.source.git.commit": commit, "justify.requirements": "REQ-A"},
        )
        client.log_metric(run.info.run_id, "test_recall", 0.9, timestamp=start)
        client.set_terminated(run.info.run_id, end_time=start + 1000)
    justify.load(config=config)
    justify.import_mlflow(tracking_uri=uri, config=config, progress=False)
    summary = import_git(config=config, progress=False)
    rows = q(
        config,
        """SELECT ?req ?run ?sha ?author WHERE {
        ?r jf:supports/dcterms:identifier ?req ; a jf:Run ; dcterms:title ?run ;
           jf:onCommit ?c . ?c jf:gitCommitSha ?sha ; jf:author/jf:personName ?author }""",
    )
    assert rows == [{"req": "REQ-A", "run": "joined", "sha": sha, "author": "Katherine Johnson"}]
    # Whether a run's commit is in the imported history is the judgement's to say
    # (JF-COMMIT), not the Git importer's: importers read only their own source.
    assert not any("orphan" in w for w in summary.warnings)
    judgement = justify.judge(config=config)
    commit_results = [r for r in judgement.results if r.rule == "JF-COMMIT"]
    assert [r.message for r in commit_results] == [
        f"REQ-A: its current evidence, run orphan, ran commit {'f' * 40}, which is not in "
        "the imported history; import the repository (justify import git) or rerun from a "
        "pushed commit"
    ]


def test_cli_import_git(project, run_cli) -> None:
    repo, _ = project
    result = run_cli("import", "git", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "git full import from" in result.stdout and ": 1 commits, 1 added" in result.stdout


def test_rewritten_history_after_gc_falls_back_to_comparing_all_commits(project) -> None:
    repo, config = project
    dropped = repo.commit("to be dropped", {"d.txt": "x"})
    import_git(config=config, progress=False)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")
    assert (
        subprocess.run(
            ["git", "cat-file", "-e", dropped], cwd=repo.path, capture_output=True
        ).returncode
        != 0
    )  # the old tip is gone
    summary = import_git(config=config, progress=False)
    assert summary["removed"] == 1
    assert graph_shas(config) == set(repo.rev_list())
