"""Justification patterns as SHACL rules and shapes, so that both engines check them.

For each pattern, SHACL rules (applied after the judgement's own derivations) say
which requirements follow it (``jf:followsPattern``: they name it with ``pattern:``,
or their kind is one the pattern claims and they name none), describe the pattern
and its slots in the graph, give each following requirement's strategy one support
node per slot (``jf:hasSupport``), link each support to the evidence that fills it
(``jf:filledBy``), and mark a justification whose mandatory slots are all filled
(``jf:conformsTo``). What fills a slot is decided there, once.

Each mandatory slot is then one shape with the rule id ``JF-PATTERN-<pattern>-<slot>``.
The judgement reads its results in two ways:

- a result whose value is the requirement itself (SHACL's default when the query
  selects no ``?value``) says the slot is empty, so the requirement is *unjustified*
  (like JF-EVIDENCE);
- a result with another value names the evidence that fills the slot but fails it (a
  dataset without its digest), so the requirement is *failing*.

A ``metric`` slot also gives each following requirement a criterion of its own
(``<requirement>/slot/<pattern>/<slot>``), judged where every criterion is
(``jfs:MeetsRule``, JF-METRIC, JF-THRESHOLD, JF-DATASET): no value is compared with a
threshold here. A pattern's ``agree`` list becomes one shape per agreement
(``JF-PATTERN-<pattern>-same-<what>``): the current evidence and the run behind the
scoped model version must be about one model version, made at one commit, or use one
digest per dataset.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

import rdflib
from rdflib.namespace import RDF, RDFS, SH, XSD

from justify._patterns import Pattern, Slot
from justify.errors import ShapeError
from justify.importers._protocol import EvidenceSelector
from justify.shacl._shapes import JFS

JF = rdflib.Namespace("https://w3id.org/justify/ns#")
PREFIXES_NODE = rdflib.URIRef(str(JFS))  # jfs: declares jf, prov, dcterms, rdfs, xsd


def rule_id(pattern: str, slot: str) -> str:
    return f"JF-PATTERN-{pattern}-{slot}"


def slot_criterion_suffix(pattern: str, slot: str) -> str:
    """Where a metric slot's criterion hangs below its requirement's IRI."""
    return f"/slot/{quote(pattern, safe='')}/{quote(slot, safe='')}"


def owned_kinds(patterns: dict[str, Pattern]) -> dict[str, tuple[str, ...]]:
    """The kinds each pattern applies to: a kind two patterns list goes to the first,
    as :func:`justify._patterns.pattern_for` decides."""
    taken: set[str] = set()
    owned: dict[str, tuple[str, ...]] = {}
    for pid, pattern in patterns.items():
        mine = tuple(k for k in pattern.kinds if k not in taken)
        taken.update(mine)
        owned[pid] = mine
    return owned


def _string(text: str) -> str:
    """A SPARQL string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _follows(pattern: Pattern, kinds: tuple[str, ...]) -> str:
    """A group binding $this to the approved requirements that follow ``pattern``."""
    named = f"{{ $this jf:patternName {_string(pattern.id)} }}"
    if kinds:
        # Each kind as a pattern of its own, matched first: Oxigraph then visits only
        # the requirements of those kinds, where a FILTER on ?kind read every
        # requirement's kind (0.025 s -> 0.013 s a rule on bench_check's graph, where
        # twelve of seventeen pattern rules match nothing).
        listed = " UNION ".join(f"{{ $this jf:kind {_string(k)} }}" for k in kinds)
        named += f" UNION {{ {{ {listed} }} FILTER NOT EXISTS {{ $this jf:patternName ?named }} }}"
    return f"{named}\n  $this dcterms:identifier ?id ."


# The runs whose data fills a slot: the current evidence, and the run that produced
# the model version the requirement's scope names (the candidate that would ship).
_RUNS = "{ $this jf:currentEvidence ?run } UNION { $this jf:scopedVersion/jf:producedBy ?run }"


def _glob(path: str) -> str:
    """A path pattern (``*`` within a folder, ``**`` across folders) as a regex."""
    out = []
    for part in re.split(r"(\*\*/?|\*|\?)", path):
        if part in ("**", "**/"):
            out.append(".*")
        elif part == "*":
            out.append("[^/]*")
        elif part == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(part))
    return "^" + "".join(out) + "$"


def _filled(slot: Slot, selectors: dict[str, EvidenceSelector]) -> str:
    """A group that matches when something fills ``slot`` for $this."""
    s = slot.selector
    if slot.kind in ("criterion", "metric"):
        if slot.kind == "metric":  # its value is judged as a criterion (JF-METRIC...)
            return "$this jf:currentEvidence ?filler"
        metric = (
            f" . ?criterion jf:metricKey {_string(str(s['metric']))}" if s.get("metric") else ""
        )
        return f"$this jf:hasCriterion ?criterion ; jf:currentEvidence ?filler{metric}"
    if slot.kind == "attestation":
        return f"$this jf:hasAttestation ?filler . ?filler jf:attestedAs {_string(str(s['role']))}"
    if slot.kind == "dataset":
        return f"{{ {_RUNS.replace('?run', '?by')} }} {_dataset_pattern(s, '?by', '?filler')}"
    if slot.kind == "commit":
        # The trailer first. Oxigraph evaluates an OPTIONAL group on its own: starting
        # it from every requirement too (`$this a jf:Requirement`) made it five times
        # slower (0.10 s against 0.02 s on the check benchmark's graph).
        parts = ["?filler jf:supports $this"] if s.get("trailer") else []
        parts.append("?filler a jf:Commit")
        if s.get("path"):
            parts.append(
                "?filler jf:hasFileChange ?change . ?change jf:path ?changed . "
                f"FILTER (REGEX(?changed, {_string(_glob(str(s['path'])))}))"
            )
        anchor = "" if s.get("trailer") else "$this a jf:Requirement . "
        return anchor + " . ".join(parts)
    if slot.kind == "requirement":
        kind = _string(str(s["kind"]))
        return f'?filler jf:parent $this ; jf:status "approved" ; jf:kind {kind}'
    if slot.kind == "query":
        # The query's answer is the evidence: the requirement itself for an ASK, the
        # ?evidence it selects (else the requirement) for a SELECT.
        evidence = "COALESCE(?evidence, $this)" if slot.selector.get("select") else "$this"
        return f"{{ {_user_body(slot)} }} BIND ({evidence} AS ?filler)"
    plugged = selectors.get(slot.kind)
    if plugged is None:  # the reader refuses unknown kinds first
        raise ShapeError(f"no importer provides the evidence selector '{slot.kind}'")
    # The slot's fields as bound literals, then the importer's group.
    binds = " ".join(
        f"BIND ({_string(str(value))} AS ?{name})"
        for name, value in sorted(s.items())
        if name in plugged.fields and re.fullmatch(r"[A-Za-z_]\w*", name)
    )
    # In the same group, not a nested one: the group's FILTERs must see the fields.
    return f"$this a jf:Requirement . {binds} {plugged.where}"


def _slot_prefixes(slot: Slot, selectors: dict[str, EvidenceSelector]) -> list[tuple[str, str]]:
    if slot.kind == "query":
        return _user_prefixes(slot)
    plugged = selectors.get(slot.kind)
    return sorted(plugged.prefixes.items()) if plugged is not None else []


def _dataset_pattern(s: dict[str, object], run: str, dataset: str) -> str:
    parts = [f"{run} prov:qualifiedUsage ?usage . ?usage prov:entity {dataset}"]
    if s.get("context"):
        parts.append(f"?usage jf:context {_string(str(s['context']))}")
    if s.get("name"):
        parts.append(f"{dataset} dcterms:title {_string(str(s['name']))}")
    return ". " + " . ".join(parts)


def _user_body(slot: Slot) -> str:
    """The group of a ``query`` slot's ASK or SELECT (its prefixes are declared on the
    shape, as SHACL-SPARQL requires)."""
    text = str(slot.selector.get("ask") or slot.selector.get("select"))
    body = re.sub(r"(?im)^\s*PREFIX\s+[\w.-]*:\s*<[^>]*>\s*$", "", text)
    start, end = body.find("{"), body.rfind("}")
    return body[start + 1 : end] if 0 <= start < end else body


def _user_prefixes(slot: Slot) -> list[tuple[str, str]]:
    text = str(slot.selector.get("ask") or slot.selector.get("select") or "")
    return re.findall(r"(?im)^\s*PREFIX\s+([\w.-]*):\s*<([^>]*)>", text)


class _Builder:
    def __init__(self, base: str) -> None:
        self.base = base
        self.graph = rdflib.Graph()
        self.graph.bind("jfs", JFS)
        self.graph.bind("jf", JF)

    def pattern_iri(self, pattern: str) -> str:
        return f"<{self.base}pattern/{quote(pattern, safe='')}>"

    def slot_iri(self, pattern: str, slot: str) -> str:
        return f"<{self.base}pattern/{quote(pattern, safe='')}/slot/{quote(slot, safe='')}>"

    def shape(self, name: str, rule: str, label: str, comment: str) -> rdflib.URIRef:
        node = JFS[f"Pattern-{quote(name, safe='')}"]
        g = self.graph
        g.add((node, RDF.type, SH.NodeShape))
        g.add((node, RDFS.label, rdflib.Literal(label)))
        g.add((node, RDFS.comment, rdflib.Literal(comment)))
        g.add((node, JFS.ruleId, rdflib.Literal(rule)))
        g.add((node, SH.targetClass, JF.Requirement))
        g.add((node, SH.severity, SH.Violation))
        return node

    def constraint(
        self,
        shape: rdflib.URIRef,
        message: str,
        select: str,
        prefixes: Sequence[tuple[str, str]] = (),
    ) -> None:
        g = self.graph
        c = rdflib.BNode()
        g.add((shape, SH.sparql, c))
        g.add((c, RDF.type, SH.SPARQLConstraint))
        g.add((c, SH.message, rdflib.Literal(message)))
        g.add((c, SH.select, rdflib.Literal(select)))
        g.add((c, SH.prefixes, PREFIXES_NODE))
        self._declare(c, prefixes)

    def _declare(self, node: rdflib.term.Node, prefixes: Sequence[tuple[str, str]]) -> None:
        if not prefixes:
            return
        g = self.graph
        own = rdflib.BNode()
        g.add((node, SH.prefixes, own))
        for prefix, namespace in prefixes:
            d = rdflib.BNode()
            g.add((own, SH.declare, d))
            g.add((d, SH.prefix, rdflib.Literal(prefix)))
            g.add((d, SH.namespace, rdflib.Literal(namespace, datatype=XSD.anyURI)))

    def rule(
        self,
        name: str,
        label: str,
        order: float,
        construct: str,
        prefixes: Sequence[tuple[str, str]] = (),
    ) -> None:
        node = JFS[f"PatternRule-{quote(name, safe='')}"]
        g = self.graph
        g.add((node, RDF.type, SH.NodeShape))
        g.add((node, RDFS.label, rdflib.Literal(label)))
        g.add((node, SH.targetClass, JF.Requirement))
        g.add((node, SH.order, rdflib.Literal(order)))
        rule = rdflib.BNode()
        g.add((node, SH.rule, rule))
        g.add((rule, RDF.type, SH.SPARQLRule))
        g.add((rule, SH.prefixes, PREFIXES_NODE))
        self._declare(rule, prefixes)
        g.add((rule, SH.construct, rdflib.Literal(construct)))

    def criterion_rule(self, pattern: Pattern, slot: Slot, follows: str, position: int) -> None:
        """A metric slot as a criterion of each requirement that follows the pattern,
        judged like the criteria the requirement states (order 3.5: before values)."""
        s = slot.selector
        dataset = (
            f"; jf:datasetRef {_string(str(s['dataset']))} " if s.get("dataset") is not None else ""
        )
        label = f"{s['key']} {s['comparator']} {s['threshold']} (slot {slot.id} of {pattern.id})"
        suffix = _string(slot_criterion_suffix(pattern.id, slot.id))
        self.rule(
            f"{pattern.id}-{slot.id}-criterion",
            f"Pattern {pattern.id}: the criterion of metric slot {slot.id}",
            3.5,
            f"""CONSTRUCT {{
              $this jf:hasCriterion ?c .
              ?c a jf:AcceptanceCriterion ; rdfs:label {_string(label)} ;
                 jf:metricKey {_string(str(s["key"]))} ;
                 jf:comparator {_string(str(s["comparator"]))} ;
                 jf:threshold "{float(s["threshold"])!r}"^^xsd:double ; jf:position {position}
                 {dataset}; jf:fillsSlot {self.slot_iri(pattern.id, slot.id)} .
            }} WHERE {{
              {follows}
              BIND (IRI(CONCAT(STR($this), {suffix})) AS ?c)
            }}""",
        )


def _not_said_by_evidence_rule(slot: Slot) -> str:
    """For the slots filled by the current evidence: report an empty slot only where
    JF-EVIDENCE does not already say that there is no evidence at all (a requirement
    with no criterion, or one with only other kinds of evidence)."""
    if slot.kind not in ("criterion", "metric"):
        return ""
    stated = ""
    if slot.kind == "criterion":
        metric = slot.selector.get("metric")
        key = f" . ?stated jf:metricKey {_string(str(metric))}" if metric else ""
        stated = f"\n  OPTIONAL {{ $this jf:hasCriterion ?stated{key} }}"
    return (
        f"{stated}\n  OPTIONAL {{ $this jf:hasAttestation ?attestation }}"
        "\n  OPTIONAL { ?child jf:parent $this }"
        "\n  OPTIONAL { ?commit jf:supports $this ; a jf:Commit }"
        "\n  FILTER ("
        + ("!BOUND(?stated) || " if stated else "")
        + "BOUND(?attestation) || BOUND(?child) || BOUND(?commit))"
    )


def _empty_slot(p: str, pid: str, slot: Slot) -> str:
    """A group binding $this (and ?id) to the approved followers of pattern ``p``
    whose support for ``slot`` nothing fills."""
    empty = (
        f'$this jf:followsPattern {p} ; jf:status "approved" ; dcterms:identifier ?id .\n'
        f"  BIND ({_support(pid, slot.id)} AS ?support)\n"
        "  OPTIONAL { ?support jf:filledBy ?filler }\n"
        "  FILTER (!BOUND(?filler))"
    )
    excuses = _not_said_by_evidence_rule(slot)
    if not excuses:
        return empty
    # The empty slots first, in a sub-query, which Oxigraph evaluates on its own: the
    # OPTIONAL groups then start from those few requirements, where they looked at
    # every follower's supporters (0.20 s -> 0.06 s on bench_check's graph).
    return f"{{ SELECT $this ?id WHERE {{\n  {empty} }} }}{excuses}"


def _support(pattern: str, slot: str) -> str:
    """The IRI of the support node that ``slot`` gives $this's justification."""
    return f"IRI(CONCAT(STR($this), {_string(support_suffix(pattern, slot))}))"


def support_suffix(pattern: str, slot: str) -> str:
    """Where a slot's support node hangs below its requirement's IRI."""
    return f"/justification/support/{quote(pattern, safe='')}/{quote(slot, safe='')}"


def _describe(b: _Builder, pattern: Pattern) -> str:
    """The pattern and its slots as triples (a CONSTRUCT template), so that analysts and
    every renderer read them from the graph."""
    p = b.pattern_iri(pattern.id)
    lines = [
        f"{p} a jf:JustificationPattern ; dcterms:identifier {_string(pattern.id)} ;",
        f"   dcterms:title {_string(pattern.title)} ; rdfs:label {_string(pattern.title)} ;",
        f"   jf:conclusionTemplate {_string(pattern.conclusion)} ;",
        f"   jf:strategyText {_string(pattern.strategy)} ;",
        f"   jf:rationale {_string(pattern.rationale)} ;",
        f"   jf:usageDomain {_string(pattern.usage_domain)} ;",
        f"   jf:sourceFile {_string(pattern.file)} .",
    ]
    for n, slot in enumerate(pattern.supports, 1):
        s = b.slot_iri(pattern.id, slot.id)
        lines.append(
            f"{p} jf:hasSlot {s} . {s} a jf:PatternSlot ; dcterms:identifier {_string(slot.id)} ; "
            f"rdfs:label {_string(slot.label)} ; jf:selectorKind {_string(slot.kind)} ; "
            f"jf:optionalSlot {'true' if slot.optional else 'false'} ; jf:position {n}"
            + (f" ; jf:how {_string(slot.how)}" if slot.how else "")
            + " ."
        )
    for what in pattern.agree:
        lines.append(f"{p} jf:agreesOn {_string(what)} .")
    return "\n              ".join(lines)


def pattern_shapes(
    patterns: dict[str, Pattern],
    base: str,
    selectors: dict[str, EvidenceSelector] | None = None,
) -> rdflib.Graph:
    """The rules that materialise each requirement's justification from its pattern,
    and the shapes that check it (``selectors``: the kinds of evidence importers add)."""
    selectors = selectors or {}
    b = _Builder(base)
    owned = owned_kinds(patterns)
    for pid, pattern in patterns.items():
        follows = _follows(pattern, owned[pid])
        p = b.pattern_iri(pid)
        # Order 6, after the judgement's own derivations (values are judged at 5).
        b.rule(
            pid,
            f"Requirements following pattern {pid}",
            6,
            f"""CONSTRUCT {{
              $this jf:followsPattern {p} .
              {_describe(b, pattern)}
            }} WHERE {{
              {follows}
            }}""",
        )
        mandatory = []
        for n, slot in enumerate(pattern.supports, 1):
            if slot.kind == "metric":
                b.criterion_rule(pattern, slot, follows, 1000 + n)
            filled = _filled(slot, selectors)
            b.rule(
                f"{pid}-{slot.id}",
                f"Pattern {pid}: what fills slot {slot.id}",
                6,
                f"""CONSTRUCT {{
              ?strategy jf:hasSupport ?support .
              ?support a jf:Support , jf:SlotSupport ; jf:fillsSlot {b.slot_iri(pid, slot.id)} ;
                       rdfs:label {_string(slot.label)} ; jf:filledBy ?filler .
            }} WHERE {{
              {follows}
              # The IRIs the requirement loader gives its justification and strategy.
              BIND (IRI(CONCAT(STR($this), "/strategy")) AS ?strategy)
              BIND ({_support(pid, slot.id)} AS ?support)
              OPTIONAL {{ {filled} }}
            }}""",
                _slot_prefixes(slot, selectors),
            )
            if slot.optional:
                continue  # elicitation lists it; the check does not ask for it
            mandatory.append(slot)
            how = f"; {slot.how}" if slot.how else ""
            rule = rule_id(pid, slot.id)
            shape = b.shape(
                f"{pid}-{slot.id}",
                rule,
                f"Pattern {pid}: {slot.label}",
                f"Rule {rule}: an approved requirement that follows the pattern '{pid}' "
                f"({pattern.title}) has {slot.label}." + (f" How: {slot.how}" if slot.how else ""),
            )
            b.constraint(
                shape,
                f"{{?id}} follows pattern '{pid}' but nothing fills its slot '{slot.id}' "
                f"({slot.label}){how}",
                f"SELECT $this ?id WHERE {{\n  {_empty_slot(p, pid, slot)}\n}}",
            )
            if slot.kind == "dataset" and slot.selector.get("digest"):
                b.constraint(
                    shape,
                    f"{{?id}}: the dataset {{?name}} that fills slot '{slot.id}' of pattern "
                    f"'{pid}' has no recorded digest, so the claim cannot be reproduced{how}",
                    f"""SELECT $this ?id ?value ?name WHERE {{
  $this jf:followsPattern {p} ; jf:status "approved" ; dcterms:identifier ?id .
  BIND ({_support(pid, slot.id)} AS ?support)
  ?support jf:filledBy ?value . ?value dcterms:title ?name .
  OPTIONAL {{ ?value jf:digest ?digest }}
  FILTER (!BOUND(?digest) || STRLEN(STR(?digest)) = 0)
}}""",
                )
        # Conformance: every mandatory slot filled (failing evidence is the check's to say).
        joins = "\n              ".join(
            f"BIND ({_support(pid, s.id)} AS ?s{n}) ?s{n} jf:filledBy ?f{n} ."
            for n, s in enumerate(mandatory)
        )
        b.rule(
            f"{pid}-conforms",
            f"Requirements whose justification conforms to pattern {pid}",
            7,
            f"""CONSTRUCT {{ ?justification jf:conformsTo {p} }} WHERE {{
              $this jf:followsPattern {p} .
              BIND (IRI(CONCAT(STR($this), "/justification")) AS ?justification)
              {joins}
            }}""",
        )
        for what in pattern.agree:
            _agreement(b, pattern, follows, what)
    known = ", ".join(sorted(patterns)) or "none"
    shape = b.shape(
        "unknown",
        "JF-PATTERN",
        "Requirements follow a known pattern",
        "Rule JF-PATTERN: a requirement that names a justification pattern (`pattern:`) "
        "names one that a pattern file defines.",
    )
    listed = ", ".join(_string(p) for p in patterns)
    b.constraint(
        shape,
        "{?id} names the pattern '{?value}', which no pattern file defines (known: "
        + known
        + "); fix the name, or add the pattern to a folder of the 'patterns' setting",
        "SELECT $this ?id ?value WHERE {\n"
        "  $this dcterms:identifier ?id ; jf:patternName ?value .\n"
        + (f"  FILTER (?value NOT IN ({listed}))\n" if listed else "")
        + "}",
    )
    return b.graph


def _agreement(b: _Builder, pattern: Pattern, follows: str, what: str) -> None:
    """The current evidence and the run behind the scoped version agree on ``what``."""
    rule = f"JF-PATTERN-{pattern.id}-same-{what}"
    both = (
        '$this jf:status "approved" . '
        "$this jf:currentEvidence ?current ; jf:scopedVersion ?version . "
        "?version jf:producedBy ?producer ."
    )
    if what == "model_version":
        message = (
            "{?id}: pattern '" + pattern.id + "' wants its supports about one model version, "
            "but the current evidence, run {?run}, did not produce {?value}, the version its "
            "scope names; evaluate that version, or scope the requirement to the run's version"
        )
        select = f"""SELECT $this ?id ?run ?value WHERE {{
  {follows}
  {both} ?current dcterms:title ?run .
  FILTER (?producer != ?current)
  BIND (?version AS ?value)
}}"""
    elif what == "commit":
        message = (
            "{?id}: pattern '" + pattern.id + "' wants its supports from one commit, but the "
            "current evidence was made at {?here} and the run behind the scoped version at "
            "{?there}; rerun the evaluation at the commit that produced the version"
        )
        select = f"""SELECT $this ?id ?here ?there ?value WHERE {{
  {follows}
  {both} ?current jf:gitCommitSha ?here . ?producer jf:gitCommitSha ?there .
  FILTER (?here != ?there)
  BIND (?producer AS ?value)
}}"""
    else:  # dataset_digest
        message = (
            "{?id}: pattern '" + pattern.id + "' wants one digest per dataset, but the current "
            "evidence used {?name} with digest {?here} and the run behind the scoped version "
            "used digest {?there}; evaluate both on the same data"
        )
        select = f"""SELECT $this ?id ?name ?here ?there ?value WHERE {{
  {follows}
  {both}
  ?current jf:usedDataset ?mine . ?mine dcterms:title ?name ; jf:digest ?here .
  ?producer jf:usedDataset ?value . ?value dcterms:title ?name ; jf:digest ?there .
  FILTER (?here != ?there)
}}"""
    shape = b.shape(
        f"{pattern.id}-same-{what}",
        rule,
        f"Pattern {pattern.id}: supports agree on the {what.replace('_', ' ')}",
        f"Rule {rule}: the current evidence of a requirement following '{pattern.id}' and "
        f"the run that produced its scoped model version agree on the "
        f"{what.replace('_', ' ')}.",
    )
    b.constraint(shape, message, select)
