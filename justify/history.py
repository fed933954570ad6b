"""Check history: when each requirement became justified or stopped being so,
and on which commit.

Each ``justify check`` adds a check run and the status changes it found to
the history graph. No import owns that graph, so re-imports and ``sync`` keep it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Triple

from justify.check import CheckReport
from justify.config import Config, load_config
from justify.iris import Minter
from justify.provenance import datetime_literal, now
from justify.query import run_query
from justify.store import GraphStore, open_store
from justify.vocab import JF, PROV, RDF, RDFS

HISTORY_GRAPH = "history"


@dataclass(frozen=True)
class Change:
    """One status change of one requirement."""

    requirement: str
    status: str
    previous: str | None
    time: str
    commit: str | None
    commit_title: str | None


def head_commit(config: Config) -> str | None:
    """The sha HEAD names in the project's repository, or None outside Git."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "-q", "--verify", "HEAD^{commit}"],
            cwd=config.path(config.git_repo),
            capture_output=True,
            text=True,
            check=False,
        )
    except (FileNotFoundError, NotADirectoryError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def latest_statuses(store: GraphStore, graph: NamedNode) -> dict[str, str]:
    rows = run_query(
        store,
        f"""SELECT ?id ?status ?time WHERE {{ GRAPH <{graph.value}> {{
        ?change jf:ofRequirement ?r ; jf:checkStatus ?status ; prov:wasGeneratedBy ?run .
        ?run prov:endedAtTime ?time . BIND(REPLACE(STR(?r), "^.*/", "") AS ?id) }} }}
        ORDER BY ?time""",
    ).values()
    latest: dict[str, str] = {}
    for row in rows:  # in time order: the last one wins
        latest[row["id"] or ""] = row["status"] or ""
    return latest


def record(
    report: CheckReport, *, config: Config | None = None, store: GraphStore | None = None
) -> list[Change]:
    """Add this check run and the status changes since the last one to the history."""
    config = config or load_config()
    store = store or open_store(config.store_location)
    minter = Minter(config.base_iri)
    graph = minter.graph(HISTORY_GRAPH)
    previous = latest_statuses(store, graph)
    moment = now()
    sha = head_commit(config)
    run = minter.iri("check", moment.strftime("%Y%m%dT%H%M%S%fZ"))
    changes = [
        Change(rid, req.status, previous.get(rid), moment.isoformat(), sha, None)
        for rid, req in report.requirements.items()
        if previous.get(rid) != req.status
    ]

    def triples() -> Iterator[Triple]:
        yield Triple(run, RDF.type, JF.CheckRun)
        yield Triple(run, RDF.type, PROV.Activity)
        yield Triple(run, RDFS.label, Literal(f"justify check ({report.engine})"))
        yield Triple(run, PROV.endedAtTime, datetime_literal(moment))
        if sha:
            yield Triple(run, JF.gitCommitSha, Literal(sha))
            yield Triple(run, PROV.wasInformedBy, minter.iri("commit", sha))
        for change in changes:
            node = NamedNode(f"{run.value}/{change.requirement}")
            yield Triple(node, RDF.type, JF.StatusChange)
            yield Triple(node, RDF.type, PROV.Entity)
            yield Triple(node, JF.ofRequirement, minter.requirement(change.requirement))
            yield Triple(node, JF.checkStatus, Literal(change.status))
            if change.previous:
                yield Triple(node, JF.previousStatus, Literal(change.previous))
            yield Triple(node, PROV.wasGeneratedBy, run)

    with store.write() as writer:
        writer.add(graph, triples())
    return changes


def history(
    requirement: str | None = None,
    *,
    config: Config | None = None,
    store: GraphStore | None = None,
) -> list[Change]:
    """Status changes, oldest first, of one requirement or of all."""
    config = config or load_config()
    store = store or open_store(config.store_location)
    graph = Minter(config.base_iri).graph(HISTORY_GRAPH)
    rows = run_query(
        store,
        f"""SELECT ?id ?status ?previous ?time ?sha ?title WHERE {{
        GRAPH <{graph.value}> {{
          ?change jf:ofRequirement ?r ; jf:checkStatus ?status ; prov:wasGeneratedBy ?run .
          ?run prov:endedAtTime ?time .
          OPTIONAL {{ ?change jf:previousStatus ?previous }}
          OPTIONAL {{ ?run jf:gitCommitSha ?sha }}
          BIND(REPLACE(STR(?r), "^.*/", "") AS ?id) }}
        OPTIONAL {{ ?commit a jf:Commit ; jf:gitCommitSha ?sha ; jf:messageTitle ?title }}
    }} ORDER BY ?time ?id""",
    ).values()
    return [
        Change(
            r["id"] or "", r["status"] or "", r["previous"], r["time"] or "", r["sha"], r["title"]
        )
        for r in rows
        if requirement is None or r["id"] == requirement
    ]
