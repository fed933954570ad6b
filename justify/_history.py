"""Recording a judgement, and the check history: when each requirement became
justified or stopped being so, on which commit, and what caused it.

``record`` writes, in one write block: the derived links (``graph/derived``), the
judgement as a SHACL validation report (``graph/check``, replaced by each recorded
check) and the status changes since the previous recorded check, each with its
causes (``graph/history``, which no import owns, so re-imports keep it).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Triple

from justify._query import run_query, term
from justify.config import Config, load_config
from justify.iris import Minter
from justify.judgement import (
    CHECK_GRAPH,
    DERIVED_GRAPH,
    HISTORY_GRAPH,
    Judgement,
    RequirementStatus,
    record_triples,
    recorded,
)
from justify.provenance import datetime_literal, now
from justify.store import GraphStore, open_store
from justify.vocab import JF, PROV, RDF, RDFS


@dataclass(frozen=True)
class Change:
    """One status change of one requirement, and what brought it about."""

    requirement: str
    status: str
    previous: str | None
    time: str
    commit: str | None
    commit_title: str | None
    causes: tuple[str, ...] = ()


def head_commit(config: Config) -> str | None:
    """The sha HEAD names in the project's repository, or None outside Git."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "-q", "--verify", "HEAD^{commit}"],
            cwd=config.path(config.importer_settings.get("git_repo", ".")),
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
        f"""SELECT ?id ?status ?time WHERE {{ GRAPH {term(graph)} {{
        ?change jf:ofRequirement ?r ; jf:checkStatus ?status ; prov:wasGeneratedBy ?run .
        ?run prov:endedAtTime ?time . BIND(REPLACE(STR(?r), "^.*/", "") AS ?id) }} }}
        ORDER BY ?time""",
    ).values()
    latest: dict[str, str] = {}
    for row in rows:  # in time order: the last one wins
        latest[row["id"] or ""] = row["status"] or ""
    return latest


def _name(iri: str | None) -> str:
    return iri.rsplit("/", 1)[-1] if iri else "none"


def causes(
    before: RequirementStatus | None,
    after: RequirementStatus,
    old: Judgement | None,
    new: Judgement,
) -> tuple[str, ...]:
    """What changed between two judgements of one requirement."""
    if before is None or old is None:
        return ("first check of this requirement",)
    found = []
    if before.content_hash != after.content_hash:
        found.append("requirement edited")
    if before.last_changed_in != after.last_changed_in and after.last_changed_in:
        found.append(f"requirement changed in commit {_name(after.last_changed_in)[:8]}")
    edited = before.content_hash != after.content_hash
    if before.scoped_version != after.scoped_version:
        moved = new.model(after.scoped_version or "")
        if moved is not None and edited:
            found.append(f"model scope now names {moved.label}")
        elif moved is not None and moved.aliases:
            found.append(
                f"alias moved: scope now names {moved.label} (was {_name(before.scoped_version)})"
            )
        elif moved is not None:
            found.append(f"model version registered: scope now names {moved.label}")
        else:
            found.append("model scope no longer names a registered version")
    if before.current_evidence != after.current_evidence:
        if after.current_evidence:
            name = after.current_evidence_name or _name(after.current_evidence)
            found.append(f"new current evidence: run {name}")
        else:
            found.append("no current evidence any more (no finished evidence run)")
    old_values = {c.iri: (c.value, c.verdict) for c in before.criteria}
    for c in after.criteria:
        if c.iri in old_values and old_values[c.iri] != (c.value, c.verdict):
            value, verdict = old_values[c.iri]
            found.append(f"{c.metric}: {value} ({verdict}) -> {c.value} ({c.verdict})")
    rules_before = {r.rule for r in old.results_about(before.iri)}
    rules_after = {r.rule for r in new.results_about(after.iri)}
    found += [f"rule {rule} now reported" for rule in sorted(rules_after - rules_before)]
    found += [f"rule {rule} no longer reported" for rule in sorted(rules_before - rules_after)]
    old_children = {c: old.requirements[c].status for c in before.children if c in old.requirements}
    for child in after.children:
        status = new.requirements[child].status if child in new.requirements else None
        if child in old_children and old_children[child] != status:
            found.append(f"sub-requirement {child} is now {status}")
    if before.declared != after.declared:
        found.append(f"status in the file changed to {after.declared}")
    return tuple(found) or ("judged differently (rules or settings changed)",)


def record(
    judgement: Judgement, *, config: Config | None = None, store: GraphStore | None = None
) -> list[Change]:
    """Record the judgement (derived links, validation report) and add the status
    changes since the last recorded check, with their causes, to the history."""
    config = config or load_config()
    store = store or open_store(config)
    minter = Minter(config.base_iri)
    graph = minter.graph(HISTORY_GRAPH)
    previous = latest_statuses(store, graph)
    old = recorded(store, config)
    moment = now()
    sha = head_commit(config)
    run = minter.iri("check", moment.strftime("%Y%m%dT%H%M%S%fZ"))
    changes = [
        Change(
            rid,
            req.status,
            previous.get(rid),
            moment.isoformat(),
            sha,
            None,
            causes(old.requirements.get(rid) if old else None, req, old, judgement),
        )
        for rid, req in judgement.requirements.items()
        if previous.get(rid) != req.status
    ]

    def triples() -> Iterator[Triple]:
        yield Triple(run, RDF.type, JF.CheckRun)
        yield Triple(run, RDF.type, PROV.Activity)
        yield Triple(run, RDFS.label, Literal(f"justify check ({judgement.engine})"))
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
            for cause in change.causes:
                yield Triple(node, JF.cause, Literal(cause))
            yield Triple(node, PROV.wasGeneratedBy, run)

    with store.write() as writer:
        writer.add(graph, triples())
        writer.replace_graph(minter.graph(DERIVED_GRAPH), judgement.derived)
        writer.replace_graph(minter.graph(CHECK_GRAPH), record_triples(judgement, run, minter, sha))
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
    # One requirement: its IRI in the pattern itself, so the query reads only its
    # changes (a BIND first joined every change of every requirement: 2.8 s on 1,000).
    subject = f"<{minter.requirement(requirement).value}>" if requirement else "?r"
    rows = run_query(
        store,
        f"""SELECT ?change ?id ?status ?previous ?time ?sha ?cause WHERE {{
        GRAPH {term(graph)} {{
          ?change jf:ofRequirement {subject} ; jf:checkStatus ?status ;
                  prov:wasGeneratedBy ?run .
          ?run prov:endedAtTime ?time .
          OPTIONAL {{ ?change jf:previousStatus ?previous }}
          OPTIONAL {{ ?change jf:cause ?cause }}
          OPTIONAL {{ ?run jf:gitCommitSha ?sha }}
          BIND(REPLACE(STR({subject}), "^.*/", "") AS ?id) }}
    }} ORDER BY ?time ?id ?cause""",
    ).values()
    # The commits' titles, for the checks that ran on a commit: a join in the query
    # above matched every commit when a check had none (and showed an arbitrary title).
    shas = sorted({r["sha"] for r in rows if r["sha"]})
    titles: dict[str, str] = {}
    if shas:
        found_titles = run_query(
            store,
            f"""SELECT ?sha (SAMPLE(?t) AS ?title) WHERE {{
              VALUES ?sha {{ {" ".join(term(s) for s in shas)} }}
              ?commit a jf:Commit ; jf:gitCommitSha ?sha ; jf:messageTitle ?t }} GROUP BY ?sha""",
        ).values()
        titles = {t["sha"] or "": t["title"] or "" for t in found_titles}
    changes: dict[str, Change] = {}
    for r in rows:
        if requirement is not None and r["id"] != requirement:
            continue
        key = r["change"] or ""
        found = changes.get(key)
        if found is None:
            changes[key] = Change(
                r["id"] or "", r["status"] or "", r["previous"], r["time"] or "", r["sha"],
                titles.get(r["sha"] or ""), (r["cause"],) if r["cause"] else (),
            )  # fmt: skip
        elif r["cause"] and r["cause"] not in found.causes:
            changes[key] = Change(**{**found.__dict__, "causes": (*found.causes, r["cause"])})
    return list(changes.values())
