"""``justify elicit [REQ-ID]``: per requirement and slot of its justification pattern,
what fills the slot or that it is missing, and how to produce what is missing.

A renderer of the judgement: which evidence fills a slot is derived by the pattern
rules (``jf:filledBy``, see :mod:`justify.shacl._compile`), whether a filled slot
fails is what the check's results and criterion verdicts say. Nothing is decided
here; requirements come in dependency order (sub-requirements before the
requirements they support), slots in the pattern's order.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from pyoxigraph import Literal, NamedNode, Triple

from justify.config import Config, load_config
from justify.errors import UsageError
from justify.iris import DERIVED_GRAPH, Minter
from justify.judgement import Judgement, RequirementStatus, current
from justify.shacl._compile import rule_id, slot_criterion_suffix
from justify.store import GraphStore, open_store
from justify.vocab import DCTERMS, JF, RDFS

# The states a slot can be in, worst first.
SLOT_STATES = ("failing", "missing", "filled", "optional")


@dataclass(frozen=True)
class SlotState:
    """One slot of a requirement's pattern, as the judgement finds it."""

    id: str
    label: str
    kind: str  # the evidence selector: criterion, metric, dataset, commit, ...
    optional: bool
    state: str  # one of SLOT_STATES ("optional": an optional slot nothing fills)
    evidence: tuple[str, ...]  # the IRIs that fill it
    how: str | None
    problems: tuple[str, ...]  # the check's messages about it


@dataclass(frozen=True)
class Elicitation:
    """What one requirement's justification has and still needs."""

    requirement: str
    title: str
    kind: str
    status: str
    pattern: str | None
    pattern_title: str | None
    conforms: bool
    slots: tuple[SlotState, ...]
    sub_requirements: tuple[str, ...]
    strategy: str | None = None  # the pattern's, with its rationale and usage domain
    rationale: str | None = None
    usage_domain: str | None = None

    @property
    def todo(self) -> tuple[SlotState, ...]:
        return tuple(s for s in self.slots if s.state in ("failing", "missing"))


def _text(term: object) -> str:
    return term.value if isinstance(term, Literal | NamedNode) else str(term)


def elicit(
    requirement: str | None = None,
    *,
    config: Config | None = None,
    store: GraphStore | None = None,
) -> list[Elicitation]:
    """The to-do list of justifications: every requirement (or one), its pattern's
    slots and their state. Reads only; uses the recorded judgement when the graph did
    not change since, else judges in memory."""
    _, items = judged_elicitations(requirement, config=config, store=store)
    return items


def judged_elicitations(
    requirement: str | None = None,
    *,
    config: Config | None = None,
    store: GraphStore | None = None,
) -> tuple[Judgement, list[Elicitation]]:
    """:func:`elicit`, with the judgement it renders (for renderers that need both)."""
    config = config or load_config()
    store = store or open_store(config)
    judgement = current(config=config, store=store)
    if not judgement.requirements:
        # A to-do list of nothing would read as "nothing to do".
        raise UsageError(
            f"no requirement in the store at {store.location}; nothing to elicit",
            hint="run `justify load` (or `justify sync`) in the project first",
        )
    if requirement is not None and requirement not in judgement.requirements:
        close = difflib.get_close_matches(requirement, list(judgement.requirements), n=3)
        raise UsageError(
            f"no requirement with id '{requirement}' in the store",
            hint=(f"did you mean {', '.join(close)}? " if close else "")
            + "`justify query requirements` lists them",
        )
    # A recorded judgement keeps what it derived in the store: read the pattern part.
    derived = judgement.derived or derived_patterns(store, config.base_iri)
    chosen = [requirement] if requirement else None
    return judgement, elicitations(judgement, derived, config.base_iri, chosen)


def elicitations(
    judgement: Judgement, derived: Iterable[Triple], base: str, ids: list[str] | None = None
) -> list[Elicitation]:
    """The slots of each requirement (``ids``, else all in dependency order) from a
    judgement and what its rules derived; for renderers that hold both already."""
    facts: dict[str, dict[str, list[str]]] = {}
    for t in derived:
        facts.setdefault(_text(t.subject), {}).setdefault(_text(t.predicate), []).append(
            _text(t.object)
        )

    def one(subject: str, predicate: NamedNode) -> str | None:
        found = facts.get(subject, {}).get(predicate.value)
        return found[0] if found else None

    def every(subject: str, predicate: NamedNode) -> list[str]:
        return facts.get(subject, {}).get(predicate.value, [])

    minter = Minter(base)
    chosen = ids if ids is not None else _dependency_order(judgement.requirements.values())
    out = []
    for rid in chosen:
        req = judgement.requirements[rid]
        pattern = one(req.iri, JF.followsPattern)
        if pattern is None:
            out.append(Elicitation(rid, req.title, req.kind, req.status, None, None, False, (),
                                   req.children, None, None, None))  # fmt: skip
            continue
        supports = {
            one(s, JF.fillsSlot): s
            for s in every(minter.strategy(rid).value, JF.hasSupport)
            if one(s, JF.fillsSlot)
        }
        pid = one(pattern, DCTERMS.identifier) or ""
        slots = sorted(every(pattern, JF.hasSlot), key=lambda s: int(one(s, JF.position) or 0))
        # The criteria that metric slots gave the requirement, by slot id.
        slot_criteria = {
            req.iri + slot_criterion_suffix(pid, one(slot, DCTERMS.identifier) or ""): slot
            for slot in slots
            if one(slot, JF.selectorKind) == "metric"
        }
        states = [
            _slot(req, judgement, pid, slot, supports.get(slot), slot_criteria, one, every)
            for slot in slots
        ]
        conforms = pattern in every(minter.justification(rid).value, JF.conformsTo)
        out.append(
            Elicitation(
                requirement=rid,
                title=req.title,
                kind=req.kind,
                status=req.status,
                pattern=pid,
                pattern_title=one(pattern, DCTERMS.title),
                conforms=conforms,
                slots=tuple(states),
                sub_requirements=req.children,
                strategy=one(pattern, JF.strategyText),
                rationale=one(pattern, JF.rationale),
                usage_domain=one(pattern, JF.usageDomain),
            )
        )
    return out


One = Callable[[str, NamedNode], "str | None"]  # a derived fact: subject, predicate -> object
Every = Callable[[str, NamedNode], list[str]]


def _slot(req: RequirementStatus, judgement: Judgement, pattern: str, slot: str,
          support: str | None, slot_criteria: dict[str, str], one: One,
          every: Every) -> SlotState:  # fmt: skip
    sid = one(slot, DCTERMS.identifier) or ""
    kind = one(slot, JF.selectorKind) or ""
    optional = one(slot, JF.optionalSlot) == "true"
    filled = tuple(sorted(every(support, JF.filledBy))) if support else ()
    rule = rule_id(pattern, sid)
    failing = [
        r.message
        for r in judgement.results_about(req.iri)
        if r.rule == rule and r.value not in (None, r.focus)
    ]
    if kind in ("criterion", "metric"):
        # The requirement's own criteria, or the one this metric slot gave it.
        failing += [
            f"{c.label}: {c.verdict}"
            for c in req.criteria
            if c.verdict == "not met"
            and (
                slot_criteria.get(c.iri) == slot if kind == "metric" else c.iri not in slot_criteria
            )
        ]
    if failing and filled:
        state = "failing"
    elif filled:
        state = "filled"
    else:
        state = "optional" if optional else "missing"
    return SlotState(
        id=sid,
        label=one(slot, RDFS.label) or sid,
        kind=kind,
        optional=optional,
        state=state,
        evidence=filled,
        how=one(slot, JF.how),
        # An empty slot's message only repeats the slot and `how`: say what fails.
        problems=tuple(dict.fromkeys(failing)) if state == "failing" else (),
    )


def _dependency_order(reqs: Iterable[RequirementStatus]) -> list[str]:
    """Requirements with their sub-requirements first (a justification can only be
    complete once the sub-conclusions it rests on are), otherwise by id."""
    by_id = {r.id: r for r in reqs}
    done: list[str] = []
    seen: set[str] = set()

    def visit(rid: str) -> None:
        if rid in seen or rid not in by_id:
            return
        seen.add(rid)
        for child in sorted(by_id[rid].children):
            visit(child)
        done.append(rid)

    for rid in sorted(by_id):
        visit(rid)
    return done


# ------------------------------------------------------------------ renderers

_MARK = {"filled": "[x]", "failing": "[!]", "missing": "[ ]", "optional": "[-]"}


def render_text(items: list[Elicitation], short: dict[str, str] | None = None) -> str:
    lines = []
    for e in items:
        head = f"{e.requirement} ({e.status}): {e.title}"
        if e.pattern is None:
            lines.append(f"{head}\n  no pattern covers kind '{e.kind}'; give it `pattern:` "
                         "or add a pattern for the kind")  # fmt: skip
            continue
        verdict = "conforms" if e.conforms else f"{len(e.todo)} to do"
        lines.append(f"{head}\n  pattern {e.pattern} ({e.pattern_title}): {verdict}")
        for s in e.slots:
            optional = " (optional)" if s.optional else ""
            lines.append(f"  {_MARK[s.state]} {s.id}{optional}: {s.label} — {s.state}")
            for iri in s.evidence:
                lines.append(f"        by {_short(iri, short)}")
            for problem in s.problems:
                lines.append(f"        {problem}")
            if s.state in ("missing", "failing", "optional") and s.how:
                lines.append(f"        how: {s.how}")
        if e.sub_requirements:
            lines.append(f"  rests on: {', '.join(e.sub_requirements)}")
    todo = sum(len(e.todo) for e in items)
    lines.append(f"{todo} slot{'s' if todo != 1 else ''} to fill or fix in {len(items)} "
                 f"requirement{'s' if len(items) != 1 else ''}")  # fmt: skip
    return "\n".join(lines)


def render_markdown(items: list[Elicitation], short: dict[str, str] | None = None) -> str:
    todo = sum(len(e.todo) for e in items)
    lines = [f"## Justifications to complete: {todo} slot{'s' if todo != 1 else ''}", ""]
    for e in items:
        if e.pattern is None:
            lines += [f"### {e.requirement}: {e.title} ({e.status})", "",
                      f"No pattern covers kind `{e.kind}`.", ""]  # fmt: skip
            continue
        verdict = "conforms" if e.conforms else f"{len(e.todo)} to do"
        lines += [
            f"### {e.requirement}: {e.title} ({e.status})",
            "",
            f"Pattern **{e.pattern}** ({e.pattern_title}): {verdict}",
            "",
        ]
        for s in e.slots:
            box = "[x]" if s.state == "filled" else "[ ]"
            optional = " *(optional)*" if s.optional else ""
            text = f"- {box} **{s.id}**{optional}: {s.label} — {s.state}"
            if s.evidence:
                text += " (" + ", ".join(f"`{_short(i, short)}`" for i in s.evidence) + ")"
            lines.append(text)
            for problem in s.problems:
                lines.append(f"  - {problem}")
            if s.state != "filled" and s.how:
                lines.append(f"  - how: {s.how}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_json(items: list[Elicitation]) -> str:
    return json.dumps(
        {"requirements": [{**asdict(e), "to_do": len(e.todo)} for e in items]}, indent=2
    )


def _short(iri: str, short: dict[str, str] | None) -> str:
    for prefix, name in (short or {}).items():
        if iri.startswith(prefix):
            return name + iri[len(prefix) :]
    return iri


def derived_about(store: GraphStore, base: str, rid: str) -> list[Triple]:
    """What the recorded check derived about one requirement's pattern and supports:
    enough for :func:`elicitations` without reading the whole derived graph. (Plain
    patterns and constant BINDs after them: what every SPARQL server answers alike.)"""
    from justify._query import run_query, term

    minter = Minter(base)
    req = term(minter.requirement(rid).value, iri=True)
    strategy = term(minter.strategy(rid).value, iri=True)
    justification = term(minter.justification(rid).value, iri=True)
    graph = term(minter.graph(DERIVED_GRAPH).value, iri=True)
    answer = run_query(
        store,
        f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{
          {{ {req} jf:followsPattern ?o . BIND ({req} AS ?s) BIND (jf:followsPattern AS ?p) }}
          UNION {{ {req} jf:followsPattern ?s . ?s ?p ?o }}
          UNION {{ {req} jf:followsPattern ?pattern . ?pattern jf:hasSlot ?s . ?s ?p ?o }}
          UNION {{ {strategy} jf:hasSupport ?o . ?o jf:fillsSlot ?slot .
                   BIND ({strategy} AS ?s) BIND (jf:hasSupport AS ?p) }}
          UNION {{ {strategy} jf:hasSupport ?s . ?s jf:fillsSlot ?filled . ?s ?p ?o }}
          UNION {{ {justification} jf:conformsTo ?o .
                   BIND ({justification} AS ?s) BIND (jf:conformsTo AS ?p) }}
        }} }}""",
    )
    return answer.triples


def derived_patterns(store: GraphStore, base: str) -> list[Triple]:
    """What the recorded check derived about every requirement's pattern and slots
    (not the rest of the derived graph, which holds every run's evidence links)."""
    from justify._query import run_query, term

    graph = term(Minter(base).graph(DERIVED_GRAPH).value, iri=True)
    answer = run_query(
        store,
        f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{
          {{ ?s jf:followsPattern ?o . BIND (jf:followsPattern AS ?p) }}
          UNION {{ ?s a jf:JustificationPattern ; ?p ?o }}
          UNION {{ ?s a jf:PatternSlot ; ?p ?o }}
          UNION {{ ?s jf:hasSupport ?o . ?o a jf:SlotSupport . BIND (jf:hasSupport AS ?p) }}
          UNION {{ ?s a jf:SlotSupport ; ?p ?o }}
          UNION {{ ?s jf:conformsTo ?o . BIND (jf:conformsTo AS ?p) }}
        }} }}""",
    )
    return answer.triples


@dataclass(frozen=True)
class PatternConformance:
    """How the requirements that follow one pattern stand: the auditors' master file."""

    pattern: str
    title: str
    strategy: str
    rationale: str
    usage_domain: str
    requirements: tuple[Elicitation, ...]
    missing: tuple[tuple[str, int], ...]  # slot id, how many requirements miss it; most first

    @property
    def complete(self) -> int:
        return sum(1 for e in self.requirements if e.conforms)


def conformance(items: Iterable[Elicitation]) -> list[PatternConformance]:
    """The elicitations grouped by pattern, with the slots most often empty or failing."""
    groups: dict[str, list[Elicitation]] = {}
    for e in items:
        if e.pattern is not None:
            groups.setdefault(e.pattern, []).append(e)
    out = []
    for pid, members in sorted(groups.items()):
        counts: dict[str, int] = {}
        for e in members:
            for s in e.todo:
                counts[s.id] = counts.get(s.id, 0) + 1
        first = members[0]
        out.append(
            PatternConformance(
                pattern=pid,
                title=first.pattern_title or pid,
                strategy=first.strategy or "",
                rationale=first.rationale or "",
                usage_domain=first.usage_domain or "",
                requirements=tuple(sorted(members, key=lambda e: e.requirement)),
                missing=tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            )
        )
    return out
