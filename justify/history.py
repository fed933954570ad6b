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
from justify.vocab import DCTERMS, JF, PROV, RDF, RDFS, SH

HISTORY_GRAPH = "history"
# The latest recorded check: every result and the status of every requirement.
# Replaced by each recorded check, so that readers (the explorer, analysts) see
# the statuses without running the check themselves.
CHECK_GRAPH = "check"
SEVERITY_IRIS = {"violation": SH.Violation, "warning": SH.Warning, "info": SH.Info}


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
    store = store or open_store(config)
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

    def latest() -> Iterator[Triple]:
        check_graph = minter.graph(CHECK_GRAPH)
        yield Triple(check_graph, PROV.wasGeneratedBy, run)
        yield Triple(run, PROV.endedAtTime, datetime_literal(moment))
        if sha:
            yield Triple(run, JF.gitCommitSha, Literal(sha))
        for req in report.requirements.values():
            yield Triple(NamedNode(req.iri), JF.checkStatus, Literal(req.status))
        for i, result in enumerate(report.results):
            node = NamedNode(f"{run.value}/result/{i}")
            yield Triple(node, RDF.type, SH.ValidationResult)
            yield Triple(node, PROV.wasGeneratedBy, run)
            yield Triple(node, DCTERMS.identifier, Literal(result.rule))
            yield Triple(node, SH.focusNode, NamedNode(result.focus))
            yield Triple(node, SH.resultSeverity, SEVERITY_IRIS.get(result.severity, SH.Violation))
            yield Triple(node, SH.resultMessage, Literal(result.message))
            if result.value is not None:
                yield Triple(node, SH.value, Literal(result.value))

    with store.write() as writer:
        writer.add(graph, triples())
        writer.replace_graph(minter.graph(CHECK_GRAPH), latest())
    return changes


def history(
    requirement: str | None = None,
    *,
    config: Config | None = None,
    store: GraphStore | None = None,
    base: str | None = None,
) -> list[Change]:
    """Status changes, oldest first, of one requirement or of all."""
    if store is None or base is None:
        config = config or load_config()
        store = store or open_store(config)
        base = base or config.base_iri
    minter = Minter(base)
    graph = minter.graph(HISTORY_GRAPH)
    # One requirement: anchor on its IRI, so the query reads only its changes.
    anchor = f"BIND(<{minter.requirement(requirement).value}> AS ?r)" if requirement else ""
    rows = run_query(
        store,
        f"""SELECT ?id ?status ?previous ?time ?sha ?title WHERE {{
        GRAPH <{graph.value}> {{
          {anchor}
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
