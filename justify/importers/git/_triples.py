"""Commits, people, changes and refs as N-Triples lines."""

from __future__ import annotations

from pathlib import Path

from justify.importers.git._repo import Commit
from justify.iris import Minter
from justify.ntriples import (
    LABEL,
    TYPE,
    XSD_DATETIME,
    J,
    Lines,
    P,
    literal,
    segment,
    typed,
)

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
        # What the ontology entails is not repeated (a third of a commit's triples):
        # jf:author and jf:committer are prov:wasAssociatedWith, jf:parentCommit is
        # prov:wasInformedBy, and what jf:hasFileChange points at is a jf:FileChange.
        add(node, J.author, author)
        add(node, J.committer, committer)
        add(node, J.inRepository, self.repo)
        for parent in c.parents:
            add(node, J.parentCommit, self.commit_iri(parent))
        for n, (kind, path, previous) in enumerate(c.changes, 1):
            change = f"{node[:-1]}/change/{n}>"
            add(node, J.hasFileChange, change)
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
