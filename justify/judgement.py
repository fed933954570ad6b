"""The judgement: the one place where justify decides.

For every requirement: its status, its current evidence, and for each criterion
the value it is judged on, the dataset that value was measured on, the comparator,
the threshold and the verdict; for every model version: whether it may ship, and
why. The shapes are the definition (``shapes/derivations.ttl`` derives evidence,
scope and values; ``shapes/justification.ttl`` states the rules); the engines of
:mod:`justify.shacl` run them on an in-memory copy of the graph; this module turns
their results into a typed :class:`Judgement`, records it in the store, and reads
it back. ``check``, ``trace``, ``report``, ``history`` and the explorer only
render a ``Judgement``: none of them picks evidence, compares a value or decides a
status or a ship verdict.

Status precedence (documented in the README): retired; draft; then, for approved
requirements, failing (a violation about it), unjustified (rule JF-EVIDENCE, or an empty slot of
its justification pattern),
stale (rule JF-STALE), justified. Warnings never change a status otherwise. A
parent's status is the worst of its own and its approved children's.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rdflib
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, Triple, parse

from justify._patterns import builtin_folder as builtin_patterns_folder
from justify._patterns import evidence_selectors, read_patterns, unknown_roles
from justify._query import run_query, term
from justify.choices import ENGINES, FAIL_ON
from justify.config import Config, load_config
from justify.errors import RequirementFileError, UsageError
from justify.iris import CHECK_GRAPH, DERIVED_GRAPH, HISTORY_GRAPH, Minter, judgement_graphs
from justify.provenance import now
from justify.resources import shapes_folder
from justify.shacl import (
    JFS,
    CheckResult,
    RuleInfo,
    configure_rules,
    dataset_of,
    derive,
    freeze,
    load_shapes,
    memo,
    query_pool,
    rule_infos,
    run_fast,
    run_pyshacl,
)
from justify.shacl._compile import pattern_shapes
from justify.shacl._native import reads_shapes_graph
from justify.store import GraphStore, open_store
from justify.vocab import DCTERMS, JF, PROV, RDF, RDFS, SH

# Graphs the judgement owns: it writes them, and never reads them as input.

# Requirement statuses, worst first; drafts and retired ones are not judged.
STATUS_ORDER = ("failing", "unjustified", "stale", "justified")
REQUIREMENT_STATUSES = (*STATUS_ORDER, "draft", "retired")
CRITERION_VERDICTS = ("met", "not met", "no evidence", "not judged")
SHIP_VERDICTS = ("ship", "ship with warnings", "do not ship")
SEVERITY_RANK = {"violation": 0, "warning": 1, "info": 2}
# Rules whose results are about one criterion of their requirement (sh:value).
CRITERION_RULES = ("JF-METRIC", "JF-DATASET", "JF-THRESHOLD")
SEVERITY_IRIS = {"violation": SH.Violation, "warning": SH.Warning, "info": SH.Info}


@dataclass(frozen=True)
class CriterionVerdict:
    """One acceptance criterion as judged on the current evidence."""

    iri: str
    label: str
    metric: str
    op: str
    threshold: float | None  # None when the graph holds no finite number there
    dataset: str | None
    verdict: str  # one of CRITERION_VERDICTS
    run: str | None = None  # the run judged (the current evidence)
    value: str | None = None  # the value judged, as recorded
    measured_on: str | None = None  # the dataset that value was measured on, if recorded
    reason: str = ""


@dataclass(frozen=True)
class JudgedValue:
    """The value a criterion is judged on in one run, and whether it meets the
    criterion: what a plot of the criterion colours, point by point."""

    criterion: str  # criterion IRI
    run: str  # run IRI
    value: str  # as recorded
    measured_on: str | None  # the dataset it was measured on, if recorded
    meets: bool


@dataclass(frozen=True)
class RequirementStatus:
    """One requirement as judged: its status, evidence and criteria."""

    id: str
    iri: str
    title: str
    kind: str
    status: str
    file: str
    line: int
    declared: str = "draft"
    parents: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    current_evidence: str | None = None  # run IRI
    current_evidence_name: str | None = None
    evidence: tuple[str, ...] = ()  # every evidence run (IRIs), the current one among them
    scoped_version: str | None = None  # model version IRI
    last_changed_in: str | None = None  # commit IRI
    content_hash: str = ""
    criteria: tuple[CriterionVerdict, ...] = ()


@dataclass(frozen=True)
class ShipVerdict:
    """Whether one registered model version may ship, by the same policy as the exit code."""

    iri: str
    model: str
    version: int
    aliases: tuple[str, ...]
    run: str | None
    verdict: str  # one of SHIP_VERDICTS
    requirements: tuple[tuple[str, str], ...]  # (id, status) of those that apply
    reasons: tuple[str, ...]

    @property
    def may_ship(self) -> bool:
        return self.verdict != "do not ship"

    @property
    def label(self) -> str:
        return f"{self.model} version {self.version}" + "".join(f" @{a}" for a in self.aliases)


@dataclass
class Judgement:
    """The whole judgement of one check: results, requirements, model versions."""

    results: list[CheckResult]
    requirements: dict[str, RequirementStatus] = field(default_factory=dict)
    models: list[ShipVerdict] = field(default_factory=list)
    engine: str = "fast"
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    fail_on: str = "violation"
    judged_at: str = ""
    fingerprint: str = ""
    # What the derived links depend on (see derivation_fingerprint).
    derivation: str = ""
    # Set when read back: the graph changed after this judgement was recorded.
    changed_since: bool = False
    # What the rules derived (current evidence, scope, ...), recorded with the judgement.
    derived: list[Triple] = field(default_factory=list, repr=False)

    @property
    def statuses(self) -> dict[str, str]:
        return {rid: r.status for rid, r in self.requirements.items()}

    @functools.cached_property
    def _by_iri(self) -> dict[str, RequirementStatus]:
        return {req.iri: req for req in self.requirements.values()}

    def requirement_of(self, result: CheckResult) -> RequirementStatus | None:
        """The requirement a result is about (its focus), if it is one."""
        return self._by_iri.get(result.focus)

    def results_about(self, iri: str) -> list[CheckResult]:
        return [r for r in self.results if r.focus == iri]

    def count(self, severity: str) -> int:
        return sum(1 for r in self.results if r.severity == severity)

    def exit_code(self, fail_on: str | None = None) -> int:
        return 1 if any(blocks(r, fail_on or self.fail_on) for r in self.results) else 0

    def model(self, iri: str) -> ShipVerdict | None:
        return next((m for m in self.models if m.iri == iri), None)


CheckReport = Judgement  # the name earlier versions used


def blocks(result: CheckResult, fail_on: str) -> bool:
    """Whether a result reaches ``fail_on``: the one policy of the exit code and of
    every ship verdict."""
    if fail_on == "never":
        return False
    limit = SEVERITY_RANK.get(fail_on, 0)
    return SEVERITY_RANK.get(result.severity, 0) <= limit


# ----------------------------------------------------------------- judging


def _settings(config: Config) -> tuple[dict[str, str], tuple[str, ...]]:
    bad = [item for item in config.rule_severity if "=" not in item]
    if bad:
        raise UsageError(
            f"rule_severity entry {bad[0]!r} is not RULE=severity",
            hint='for example: rule_severity = ["JF-STALE=violation"]',
        )
    severities = dict(item.split("=", 1) for item in config.rule_severity)
    return severities, tuple(config.disabled_rules)


PARENT_RULE = RuleInfo(
    id="JF-PARENT",
    label="Parents are no better than their approved sub-requirements",
    description="Rule JF-PARENT: an approved requirement is not justified while an approved "
    "sub-requirement is failing or unjustified (violation) or stale (warning); derived from "
    "the statuses, so it climbs up the tree.",
    severity="violation",
)


# Shapes read and compiled, by what they were made from: parsing the shape files and
# compiling the patterns took a quarter of a second per judgement, which the explorer
# and library users repeat on every call. The graphs kept here are never changed.
_SHAPES_CACHE: dict[str, tuple[rdflib.Graph, dict[str, str], tuple[str, ...]]] = {}
_SHAPES_CACHE_SIZE = 8


def _shape_inputs(config: Config) -> str:
    """A digest of everything ``_configured_shapes`` reads: the shape and pattern files
    (their bytes, not their times: a file rewritten within a clock tick is still seen)
    and the settings."""
    digest = hashlib.sha256()
    settings = (config.base_iri, config.roles, config.disabled_rules, config.rule_severity)
    # The project's root only names its own pattern files (built-in ones are named alike
    # from any project).
    root = str(config.root) if config.patterns else ""
    digest.update(repr((settings, root)).encode())
    folders = [
        (shapes_folder(), ("*.ttl",)),
        *((config.path(p), ("*.ttl",)) for p in config.shapes),
        (builtin_patterns_folder(), ("*.yaml", "*.yml", "*.jd")),
        *((config.path(p), ("*.yaml", "*.yml", "*.jd")) for p in config.patterns),
    ]
    for folder, globs in folders:
        digest.update(f"\0folder {folder} {folder.is_dir()}".encode())
        for path in sorted(p for g in globs for p in folder.glob(g)):
            digest.update(f"\0file {path.name}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _configured_shapes(config: Config) -> tuple[rdflib.Graph, dict[str, str], tuple[str, ...]]:
    """The built-in and project shapes with the configuration's rule settings applied
    (shared between calls with the same inputs: callers must not change the graph)."""
    key = _shape_inputs(config)
    if key not in _SHAPES_CACHE:
        if len(_SHAPES_CACHE) >= _SHAPES_CACHE_SIZE:
            _SHAPES_CACHE.pop(next(iter(_SHAPES_CACHE)))
        shapes, severities, disabled = _read_configured_shapes(config)
        _SHAPES_CACHE[key] = (freeze(shapes), severities, disabled)
    return _SHAPES_CACHE[key]


def _read_configured_shapes(
    config: Config,
) -> tuple[rdflib.Graph, dict[str, str], tuple[str, ...]]:
    shapes = load_shapes(config.path(p) for p in config.shapes)
    # The justification patterns are rules like the others: compiled to shapes here,
    # so both engines check them and the settings below switch them off or down.
    folders = (config.path(p) for p in config.patterns)
    patterns = read_patterns(folders, root=config.root)
    problems = unknown_roles(patterns, (), config.roles)
    if problems:
        raise RequirementFileError(problems, what="pattern files")
    shapes += pattern_shapes(patterns, config.base_iri, evidence_selectors())
    severities, disabled = _settings(config)
    configure_rules(shapes, disabled=disabled, severities=severities)
    return shapes, severities, disabled


def _check_fail_on(fail_on: str) -> str:
    if fail_on not in FAIL_ON:
        raise UsageError(
            f"unknown fail_on value {fail_on!r}", hint="use one of: " + ", ".join(FAIL_ON)
        )
    return fail_on


def input_graphs(store: GraphStore, minter: Minter) -> list[str]:
    """The graphs a judgement reads: every graph but those the judgement writes."""
    own = set(judgement_graphs(minter.base))
    return sorted(name for name in store.graph_names() if name not in own)


def shapes_digest(shapes: rdflib.Graph) -> str:
    """A digest of the shapes that changes with any edit, blank nodes included: each
    blank node stands for what it says (its triples, theirs in turn), since its label
    changes with every parse. A property shape, a SPARQL constraint's query and a
    rule's body are all blank nodes: leaving them out once kept a recorded judgement
    "current" after its shapes were edited."""
    said: dict[rdflib.BNode, str] = {}

    def text(node: rdflib.term.Node, within: frozenset[rdflib.BNode]) -> str:
        if not isinstance(node, rdflib.BNode):
            return node.n3()
        if node in said:
            return said[node]
        if node in within:  # a cycle (no shape needs one): two reads of one file may then
            return "_:cycle"  # differ, which only means judging again, never a stale "current"
        inner = within | {node}
        parts = sorted(f"{p.n3()} {text(o, inner)}" for p, o in shapes.predicate_objects(node))
        said[node] = "_:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()
        return said[node]

    lines = sorted(f"{text(s, frozenset())} {p.n3()} {text(o, frozenset())}" for s, p, o in shapes)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _inputs(store: GraphStore, minter: Minter) -> dict[str, Any]:
    """The state of the input graphs: the store's token for their content when it keeps
    one, else their sizes (which a reader counts after each import: 0.7 s on 2 M
    triples); and the import records."""
    token = store.data_token(judgement_graphs(minter.base))
    if token is not None:
        graphs: dict[str, int] | str = token
    else:
        sizes = store.graph_sizes()
        graphs = {name: sizes.get(name, 0) for name in input_graphs(store, minter)}
    imports = run_query(
        store,
        "SELECT ?graph ?ended WHERE { ?i a jf:Import ; jf:importedInto ?graph ; "
        "prov:endedAtTime ?ended }",
    ).values()
    return {"graphs": graphs, "imports": sorted(f"{r['graph']} {r['ended']}" for r in imports)}


def _code_stamp() -> list[str]:
    """justify's version, and each module that judges as it is on disk (a changed rule
    engine must not reuse links an older one derived)."""
    from justify import __version__

    root = Path(__file__).parent
    files = [Path(__file__), *sorted((root / "shacl").glob("*.py"))]
    stats = [(f.name, f.stat()) for f in files]
    return [__version__] + [f"{name} {st.st_size} {st.st_mtime_ns}" for name, st in stats]


def derivation_fingerprint(
    store: GraphStore, config: Config, shapes: rdflib.Graph, inputs: dict[str, Any] | None = None
) -> str:
    """What the rules' derivations depend on: the input graphs, the shapes that carry
    rules (all the shapes, when a rule reads ``$shapesGraph``) and justify's own code.
    A check whose derivation fingerprint matches the recorded one reuses the recorded
    links: the same rules on the same graph derive the same."""

    def rules_digest() -> str:
        if reads_shapes_graph(shapes):
            return shapes_digest(shapes)
        reached = rdflib.Graph()
        todo = list(set(shapes.subjects(rdflib.SH.rule, None)))
        seen = set(todo)
        while todo:  # everything the rule-bearing shapes say, and what that names, on
            node = todo.pop()
            for p, o in shapes.predicate_objects(node):
                reached.add((node, p, o))
                if o not in seen and not isinstance(o, rdflib.Literal):
                    seen.add(o)
                    todo.append(o)
        return shapes_digest(reached)

    data = {
        **(inputs if inputs is not None else _inputs(store, Minter(config.base_iri))),
        "rules": memo(shapes, "rules digest", rules_digest),
        "disabled": sorted(config.disabled_rules),
        "code": _code_stamp(),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def fingerprint(
    store: GraphStore,
    config: Config,
    shapes: rdflib.Graph,
    fail_on: str,
    inputs: dict[str, Any] | None = None,
) -> str:
    """What a judgement depends on: the input graphs (the store's token for their
    content, or their sizes, and the import records), the shapes and the rule settings.
    A record whose fingerprint differs is older than the graph."""
    data = {
        **(inputs if inputs is not None else _inputs(store, Minter(config.base_iri))),
        "shapes": memo(shapes, "digest", lambda: shapes_digest(shapes)),
        "disabled": sorted(config.disabled_rules),
        "severity": sorted(config.rule_severity),
        "fail_on": fail_on,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def judge(
    *,
    engine: str = "fast",
    fail_on: str | None = None,
    config: Config | None = None,
    store: GraphStore | None = None,
    say: Callable[[str], None] | None = None,
    reuse: bool = True,
) -> Judgement:
    """Judge every requirement and model version, in memory: nothing is written.

    ``fail_on`` (default: the ``fail_on`` setting) decides which results stop a model
    version from shipping, exactly as it decides the exit code. ``reuse``: take the
    derived links the last recorded check wrote when nothing they depend on changed
    since, instead of applying the rules again.
    """
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}", hint="use one of: " + ", ".join(ENGINES))
    config = config or load_config()
    fail_on = _check_fail_on(fail_on or config.fail_on)
    store = store or open_store(config)
    shapes, severities, disabled = _configured_shapes(config)
    minter = Minter(config.base_iri)
    inputs = _inputs(store, minter)
    print_ = fingerprint(store, config, shapes, fail_on, inputs)
    rules_print = derivation_fingerprint(store, config, shapes, inputs)
    derived = minter.graph(DERIVED_GRAPH)
    # The same rules on the same graph derive the same: the recorded links, when
    # nothing they depend on changed since (on bench_check's graph the rules take 1.2 s,
    # reading their 25,000 links back, recorded as one literal, 0.05 s).
    reused = _recorded_links(store, minter, rules_print) if reuse else None
    if reused is not None and say is not None:
        say(f"derived links: the {len(reused):,} recorded ones, nothing they depend on changed")
    workspace = store.snapshot(input_graphs(store, minter))
    try:
        # What the judgement reads back from the derivations is asked beside the shapes
        # (Oxigraph answers side by side; none of it reads what the shapes find), unless
        # the shapes are in the store for the time of the check.
        asked: list[Future[list[dict[str, str | None]]]] | None = None
        with (
            dataset_of(workspace.store, shapes) as dataset,
            query_pool() as pool,
        ):
            if engine == "fast":
                triples = derive(dataset, shapes, derived, reused)
                if dataset.union:
                    asked = [pool.submit(_rows, workspace, q) for q in _READ_BACK]
                results = run_fast(dataset, shapes, say=say)
            else:
                results = run_pyshacl(dataset.store, list(dataset.data), shapes)
                # The renderers read the derivations too: the fast engine's rules give
                # them (the engine comparison proves both derive the same).
                triples = derive(dataset, shapes, derived, reused)
        if asked is not None:
            rows = [a.result() for a in asked]
        else:
            rows = [_rows(workspace, q) for q in _READ_BACK]
        judgement = _assemble(
            rows, _evidence_links(triples), results, engine=engine, fail_on=fail_on,
            severities=severities, disabled=disabled,
        )  # fmt: skip
        judgement.derived = triples
    finally:
        workspace.close()
    parent = {} if "JF-PARENT" in disabled else {"JF-PARENT": PARENT_RULE}
    judgement.rules = {**rule_infos(shapes, judgement.results), **parent}
    judgement.fingerprint = print_
    judgement.derivation = rules_print
    return judgement


def _recorded_links(store: GraphStore, minter: Minter, rules_print: str) -> list[Triple] | None:
    """The derived links the last recorded check wrote, if they were derived from what
    ``rules_print`` stands for (the record and its links are written in one block)."""
    check_graph = minter.graph(CHECK_GRAPH)
    rows = _rows(
        store,
        f"""SELECT ?links WHERE {{ GRAPH {term(check_graph)} {{
              ?report a jf:ValidationRecord ; jf:derivationFingerprint {term(rules_print)} ;
                      jf:derivedLinks ?links }} }}""",
    )
    if len(rows) != 1:
        return None
    # Read as one literal: the derived graph's 25,000 links one by one took 0.2-0.4 s.
    # Its first line is the digest of the rest: a server that cut a long answer short
    # (at a line's end, it would still parse) gets the rules applied again.
    head, _, body = (rows[0]["links"] or "").partition("\n")
    if head != _links_digest(body):
        return None
    try:
        return [q.triple for q in parse(body.encode(), format=RdfFormat.N_TRIPLES)]
    except SyntaxError:
        return None  # not what justify wrote: derive again


def _links_digest(body: str) -> str:
    return "# sha256 " + hashlib.sha256(body.encode()).hexdigest()


def judge_files(
    data: Sequence[Path],
    shapes: Sequence[Path],
    *,
    engine: str = "fast",
    fail_on: str = "violation",
    say: Callable[[str], None] | None = None,
) -> Judgement:
    """``justify check --data --shapes``: RDF files validated with the given shapes
    only, without a store or a configuration; a judgement with results and no
    requirement or model version, which every check output renders."""
    from justify.shacl._files import load_shape_paths, validate_files

    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}", hint="use one of: " + ", ".join(ENGINES))
    fail_on = _check_fail_on(fail_on)
    graph = load_shape_paths(shapes)
    results = validate_files(data, graph, engine=engine, say=say)
    return Judgement(
        results=results,
        engine=engine,
        rules=rule_infos(graph, results),
        fail_on=fail_on,
        judged_at=now().isoformat(timespec="seconds").replace("+00:00", "Z"),
    )


def check(
    *,
    engine: str = "fast",
    fail_on: str | None = None,
    record: bool = True,
    allow_empty: bool = False,
    config: Config | None = None,
    store: GraphStore | None = None,
    say: Callable[[str], None] | None = None,
    reuse: bool = True,
) -> Judgement:
    """``justify check``: judge, and (``record``) keep the judgement and the status
    changes in the store (``reuse``: see ``judge``).

    Fails closed: without a configuration file, or with no requirement in the store,
    it raises ``UsageError`` (exit 2) instead of passing on nothing, unless
    ``allow_empty``.
    """
    config = config or load_config()
    store = store or open_store(config)
    _configured_shapes(config)  # a broken shape or setting is reported before anything else
    if not allow_empty:
        if config.file is None:
            raise UsageError(
                f"no justify configuration (justify.toml or [tool.justify] in pyproject.toml) "
                f"in {config.root} or above; nothing would be checked",
                hint="run `justify init` in the project, run the check from the project's "
                "folder, or pass --allow-empty to accept an empty check",
            )
        if not run_query(store, "ASK { ?r a jf:Requirement }").boolean:
            raise UsageError(
                f"no requirement in the store at {store.location}; nothing would be checked",
                hint="run `justify load` (or `justify sync`) first, or pass --allow-empty",
            )
    judgement = judge(
        engine=engine, fail_on=fail_on, config=config, store=store, say=say, reuse=reuse
    )
    if record:
        from justify._history import record as record_judgement  # history renders judgements

        record_judgement(judgement, config=config, store=store)
    return judgement


def _rows(store: GraphStore, sparql: str) -> list[dict[str, str | None]]:
    return run_query(store, sparql).values()


# What the judgement reads back from the workspace after the rules ran: the
# requirements, their parents, criteria, judged values and the model versions (the
# evidence links it takes from what the rules derived).
_READ_BACK = (
    """SELECT ?r ?id ?title ?kind ?status ?file ?line ?hash ?current ?currentName ?scoped
              ?changed WHERE {
         ?r a jf:Requirement ; dcterms:identifier ?id ; jf:status ?status .
         OPTIONAL { ?r dcterms:title ?title } OPTIONAL { ?r jf:kind ?kind }
         OPTIONAL { ?r jf:sourceFile ?file } OPTIONAL { ?r jf:sourceLine ?line }
         OPTIONAL { ?r jf:contentHash ?hash }
         OPTIONAL { ?r jf:currentEvidence ?current .
                    OPTIONAL { ?current dcterms:title ?currentName } }
         OPTIONAL { ?r jf:scopedVersion ?scoped }
         OPTIONAL { ?r jf:lastChangedIn ?changed } } ORDER BY ?id ?changed""",
    """SELECT ?child ?parent WHERE { ?c jf:parent ?p . ?c dcterms:identifier ?child .
       ?p dcterms:identifier ?parent }""",
    """SELECT ?r ?c ?label ?key ?op ?threshold ?dataset ?position WHERE {
         ?r a jf:Requirement ; jf:hasCriterion ?c . ?c jf:metricKey ?key ;
         jf:comparator ?op ; jf:threshold ?threshold .
         OPTIONAL { ?c rdfs:label ?label } OPTIONAL { ?c jf:datasetRef ?dataset }
         OPTIONAL { ?c jf:position ?position } }""",
    # From the judged measurements, a few per requirement (Oxigraph keeps this order:
    # from the current evidence's measurements it took 0.28 s on bench_check's graph,
    # from the judged ones 0.07 s).
    """SELECT ?r ?c ?run ?value ?on ?met WHERE {
         ?m jf:judgedFor ?c . ?run jf:hasMeasurement ?m .
         ?r jf:currentEvidence ?run ; jf:hasCriterion ?c . ?m jf:value ?value .
         OPTIONAL { ?m jf:judgedFor ?c ; jf:onDataset ?d . ?d dcterms:title ?on }
         OPTIONAL { ?m jf:meets ?met . FILTER (?met = ?c) } }""",
    """SELECT ?v ?model ?number ?alias ?run WHERE {
         ?v a jf:ModelVersion ; jf:versionOf ?m ; jf:versionNumber ?number .
         ?m dcterms:title ?model .
         OPTIONAL { ?v jf:alias ?alias } OPTIONAL { ?v jf:producedBy ?run } }""",
)


def _evidence_links(derived: list[Triple]) -> dict[str, set[str]]:
    """Each requirement's evidence runs, from the rules' ``jf:evidenceOf`` links."""
    evidence: dict[str, set[str]] = {}
    for t in derived:
        run, requirement = t.subject, t.object
        if t.predicate == JF.evidenceOf and isinstance(requirement, NamedNode):
            evidence.setdefault(requirement.value, set()).add(getattr(run, "value", ""))
    return evidence


def _assemble(
    rows: list[list[dict[str, str | None]]],
    evidence: dict[str, set[str]],
    results: list[CheckResult],
    *,
    engine: str,
    fail_on: str,
    severities: dict[str, str],
    disabled: tuple[str, ...],
) -> Judgement:
    """The judgement from the engine's results and the answers to ``_READ_BACK``."""
    heads, links, criteria, judged, versions = rows
    parents: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}
    for link in links:
        parents.setdefault(link["child"] or "", []).append(link["parent"] or "")
        children.setdefault(link["parent"] or "", []).append(link["child"] or "")
    criteria_of: dict[str, list[dict[str, str | None]]] = {}
    for c in criteria:
        criteria_of.setdefault(c["r"] or "", []).append(c)
    by_focus: dict[str, list[CheckResult]] = {}
    for result in results:
        by_focus.setdefault(result.focus, []).append(result)
    values: dict[str, list[JudgedValue]] = {}
    for row in judged:
        values.setdefault(row["r"] or "", []).append(
            JudgedValue(
                criterion=row["c"] or "",
                run=row["run"] or "",
                value=row["value"] or "",
                measured_on=row["on"],
                meets=row["met"] is not None,
            )
        )

    reqs: dict[str, RequirementStatus] = {}
    for row in heads:
        rid = row["id"] or ""
        if rid in reqs:
            continue  # a second last change (several repositories): the first is enough
        iri, declared = row["r"] or "", row["status"] or "draft"
        mine = by_focus.get(iri, [])
        verdicts = []
        judged_here = values.get(iri, [])
        for c in sorted(
            criteria_of.get(iri, []), key=lambda c: (int(c["position"] or 0), c["c"] or "")
        ):
            on_current = next((v for v in judged_here if v.criterion == c["c"]), None)
            verdicts.append(_criterion(c, declared, row["current"], on_current, mine))
        reqs[rid] = RequirementStatus(
            id=rid,
            iri=iri,
            title=row["title"] or "",
            kind=row["kind"] or "",
            status=_own_status(declared, mine),
            file=row["file"] or "",
            line=int(row["line"] or 1),
            declared=declared,
            parents=tuple(sorted(set(parents.get(rid, [])))),
            children=tuple(sorted(set(children.get(rid, [])))),
            current_evidence=row["current"],
            current_evidence_name=row["currentName"],
            evidence=tuple(sorted(evidence.get(iri, ()))),
            scoped_version=row["scoped"],
            last_changed_in=row["changed"],
            content_hash=row["hash"] or "",
            criteria=tuple(verdicts),
        )
    reqs = _with_parents(reqs)
    if "JF-PARENT" not in disabled:
        results = [*results, *_parent_results(reqs, severities.get("JF-PARENT"))]
    results = sorted(
        set(results), key=lambda r: (r.rule, r.focus, r.severity, r.value or "", r.message)
    )
    judgement = Judgement(
        results=results,
        requirements=dict(sorted(reqs.items())),
        engine=engine,
        fail_on=fail_on,
        judged_at=now().isoformat(timespec="seconds").replace("+00:00", "Z"),
    )
    judgement.models = _ship_verdicts(versions, judgement)
    return judgement


def _criterion(
    c: dict[str, str | None],
    declared: str,
    current: str | None,
    judged: JudgedValue | None,
    results: list[CheckResult],
) -> CriterionVerdict:
    about = [r for r in results if r.rule in CRITERION_RULES and r.value == c["c"]]
    failing = [r for r in about if r.severity == "violation"] or about
    if declared != "approved":
        verdict, reason = "not judged", f"the requirement is {declared}"
    elif failing:
        verdict, reason = "not met", failing[0].message
    elif current is None:
        verdict, reason = "no evidence", "no current evidence"
    elif judged is not None:
        verdict, reason = "met", ""
    else:
        verdict, reason = "not judged", "the rules that judge it are switched off"
    return CriterionVerdict(
        iri=c["c"] or "",
        label=c["label"] or f"{c['key']} {c['op']} {c['threshold']}",
        metric=c["key"] or "",
        op=c["op"] or "",
        threshold=_finite(c["threshold"]),
        dataset=c["dataset"],
        verdict=verdict,
        run=current if declared == "approved" else None,
        value=judged.value if judged else None,
        measured_on=judged.measured_on if judged else None,
        reason=reason,
    )


def _finite(text: str | None) -> float | None:
    try:
        number = float(text or "nan")
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _unfilled(result: CheckResult) -> bool:
    """Whether a result says evidence is missing (rather than that evidence fails): no
    evidence at all (JF-EVIDENCE), or an empty slot of the requirement's pattern (a
    JF-PATTERN-... result whose value is the requirement itself, as SHACL reports a
    query that selects no ?value; see ``shacl._compile``)."""
    if result.rule == "JF-EVIDENCE":
        return True
    return result.rule.startswith("JF-PATTERN-") and result.value in (None, result.focus)


def _own_status(declared: str, results: list[CheckResult]) -> str:
    """The precedence: failing, unjustified, stale, justified (for approved ones)."""
    if declared != "approved":
        return declared
    rules = {r.rule for r in results}
    if any(r.severity == "violation" and not _unfilled(r) for r in results):
        return "failing"
    if any(_unfilled(r) for r in results):
        return "unjustified"
    if "JF-STALE" in rules:
        return "stale"
    return "justified"


def _worse(a: str, b: str) -> str:
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    return a if order.get(a, 9) <= order.get(b, 9) else b


def _with_parents(reqs: dict[str, RequirementStatus]) -> dict[str, RequirementStatus]:
    """A parent is at most as good as its approved children, whatever the severities."""
    final: dict[str, str] = {}

    def status_of(rid: str, path: frozenset[str]) -> str:
        if rid in final:
            return final[rid]
        req = reqs[rid]
        status = req.status
        if req.declared == "approved":
            for child in req.children:
                if child in reqs and child not in path and reqs[child].declared == "approved":
                    status = _worse(status, status_of(child, path | {rid}))
        final[rid] = status
        return status

    return {rid: dataclasses.replace(req, status=status_of(rid, frozenset())) for rid, req in
            reqs.items()}  # fmt: skip


def _parent_results(reqs: dict[str, RequirementStatus], level: str | None) -> Iterator[CheckResult]:
    """Rule JF-PARENT, from the statuses: an approved parent is not justified while an
    approved sub-requirement is failing, unjustified or stale."""
    for parent in reqs.values():
        if parent.declared != "approved":
            continue
        for cid in parent.children:
            child = reqs.get(cid)
            if child is None or child.declared != "approved" or child.status == "justified":
                continue
            severity = level or ("warning" if child.status == "stale" else "violation")
            yield CheckResult(
                "JF-PARENT",
                parent.iri,
                severity,
                f"{parent.id} cannot be justified while its sub-requirement {cid} is "
                f"{child.status}; fix {cid} first",
                child.iri,
                JF.hasSupport.value,
                None,
                True,
            )


def _ship_verdicts(rows: list[dict[str, str | None]], judgement: Judgement) -> list[ShipVerdict]:
    versions: dict[str, dict[str, Any]] = {}
    for row in rows:
        v = versions.setdefault(
            row["v"] or "",
            {"model": row["model"] or "", "number": int(row["number"] or 0), "run": row["run"],
             "aliases": set()},
        )  # fmt: skip
        if row["alias"]:
            v["aliases"].add(row["alias"])
    by_id = judgement.requirements
    verdicts = []
    for iri, v in versions.items():
        applying = {
            req.id
            for req in by_id.values()
            if req.declared == "approved"
            and (req.scoped_version == iri or (v["run"] and req.current_evidence == v["run"]))
        }
        todo = list(applying)
        while todo:  # and their parents, up the tree
            for parent in by_id[todo.pop()].parents:
                known = parent in by_id and by_id[parent].declared == "approved"
                if known and parent not in applying:
                    applying.add(parent)
                    todo.append(parent)
        focus = {by_id[rid].iri for rid in applying} | {iri}
        found = [r for r in judgement.results if r.focus in focus]
        blocking = [r for r in found if blocks(r, judgement.fail_on)]
        ids = {req.iri: req.id for req in by_id.values()}

        def reason(r: CheckResult, ids: dict[str, str] = ids) -> str:
            return f"{ids.get(r.focus, 'this version')} {r.rule}: {r.message}"

        if not applying:
            verdict = "do not ship"
            reasons = ["no approved requirement applies to it; scope one to it with `model:`"]
        elif blocking:
            verdict, reasons = "do not ship", [reason(r) for r in blocking]
        elif found:
            verdict, reasons = "ship with warnings", [reason(r) for r in found]
        else:
            verdict = "ship"
            reasons = [f"all {len(applying)} requirements that apply to it are justified"]
        verdicts.append(
            ShipVerdict(
                iri=iri,
                model=v["model"],
                version=v["number"],
                aliases=tuple(sorted(v["aliases"])),
                run=v["run"],
                verdict=verdict,
                requirements=tuple(sorted((rid, by_id[rid].status) for rid in applying)),
                reasons=tuple(reasons),
            )
        )
    return sorted(verdicts, key=lambda m: (m.model, -m.version))


# ----------------------------------------------------------------- every run's value

# The rules that pick the value a criterion is judged on and decide whether it meets it.
_VALUE_RULES = ("JudgedValueRule", "MeetsRule")
_OVERLAY = NamedNode("urn:justify:evidence-values")


@functools.cache
def _value_rules() -> rdflib.Graph:
    """The built-in rules that judge values, alone (with the prefixes they declare)."""
    shapes = load_shapes()
    rules = rdflib.Graph()
    for name in _VALUE_RULES:
        for triple in shapes.cbd(JFS[name]):
            rules.add(triple)
    for triple in shapes.cbd(rdflib.URIRef(str(JFS))):
        rules.add(triple)  # sh:declare: the prefixes every built-in query names
    return rules


def evidence_values(store: GraphStore, requirement: RequirementStatus) -> list[JudgedValue]:
    """The value each criterion is judged on in every evidence run of ``requirement``
    and whether it meets it, decided by the judgement's own rules (jfs:JudgedValueRule,
    jfs:MeetsRule) applied to each run as if it were the current evidence: what a plot
    colours. Asked per requirement, so that a check never reads every evidence run."""
    if not requirement.evidence or not requirement.criteria:
        return []
    runs = " ".join(term(run, iri=True) for run in requirement.evidence)
    this = term(requirement.iri, iri=True)
    # The keys as a filter: joined from the requirement, Oxigraph started from every
    # measurement of the key (100 s on the benchmark graph, 2 ms this way).
    keys = ", ".join(sorted({term(c.metric) for c in requirement.criteria}))
    parts = [
        f"""CONSTRUCT {{ {this} a jf:Requirement ; jf:hasCriterion ?c .
                         ?c jf:metricKey ?key ; jf:comparator ?op ; jf:threshold ?t ;
                            jf:datasetRef ?wanted }}
            WHERE {{ {this} jf:hasCriterion ?c . ?c jf:metricKey ?key .
                     OPTIONAL {{ ?c jf:comparator ?op }} OPTIONAL {{ ?c jf:threshold ?t }}
                     OPTIONAL {{ ?c jf:datasetRef ?wanted }} }}""",
        f"""CONSTRUCT {{ {this} jf:currentEvidence ?run . ?run jf:hasMeasurement ?m .
                         ?m jf:metricKey ?key ; jf:value ?v ; jf:onDataset ?d .
                         ?d dcterms:title ?name }}
            WHERE {{ VALUES ?run {{ {runs} }}
                     ?run jf:hasMeasurement ?m . ?m jf:metricKey ?key ; jf:value ?v .
                     FILTER (?key IN ({keys}))
                     OPTIONAL {{ ?m jf:onDataset ?d .
                                 OPTIONAL {{ ?d dcterms:title ?name }} }} }}""",
        f"""CONSTRUCT {{ ?run prov:qualifiedUsage ?u . ?u prov:entity ?e ; jf:context ?context .
                         ?e dcterms:title ?name . ?run jf:usedDataset ?used }}
            WHERE {{ VALUES ?run {{ {runs} }}
                     {{ ?run prov:qualifiedUsage ?u . ?u prov:entity ?e .
                        OPTIONAL {{ ?u jf:context ?context }}
                        OPTIONAL {{ ?e dcterms:title ?name }} }}
                     UNION {{ ?run jf:usedDataset ?used }} }}""",
    ]
    overlay = Store()
    for text in parts:
        triples = run_query(store, text).triples
        overlay.extend(Quad(t.subject, t.predicate, t.object, _OVERLAY) for t in triples)
    derived = NamedNode("urn:justify:evidence-values:derived")
    with dataset_of(overlay, _value_rules()) as dataset:
        derive(dataset, _value_rules(), derived)
    found = []
    answer: Any = overlay.query(
        """PREFIX jf: <https://w3id.org/justify/ns#> PREFIX dcterms: <http://purl.org/dc/terms/>
           SELECT ?c ?run ?value ?on ?met WHERE {
             ?m jf:judgedFor ?c . ?run jf:hasMeasurement ?m . ?m jf:value ?value .
             OPTIONAL { ?m jf:onDataset ?d . ?d dcterms:title ?on }
             OPTIONAL { ?m jf:meets ?met . FILTER (?met = ?c) } }""",
        use_default_graph_as_union=True,
    )
    for row in answer:
        found.append(
            JudgedValue(
                criterion=row["c"].value,
                run=row["run"].value,
                value=row["value"].value,
                measured_on=row["on"].value if row["on"] is not None else None,
                meets=row["met"] is not None,
            )
        )
    return sorted(found, key=lambda v: (v.run, v.criterion, v.measured_on or ""))


# ----------------------------------------------------------------- JSON form


def to_data(judgement: Judgement) -> dict[str, Any]:
    """The judgement as plain data (the JSON recorded in the store)."""
    return {
        "engine": judgement.engine,
        "fail_on": judgement.fail_on,
        "judged_at": judgement.judged_at,
        "fingerprint": judgement.fingerprint,
        "results": [dataclasses.asdict(r) for r in judgement.results],
        "requirements": [dataclasses.asdict(r) for r in judgement.requirements.values()],
        "models": [dataclasses.asdict(m) for m in judgement.models],
        "rules": [dataclasses.asdict(r) for r in judgement.rules.values()],
    }


def from_data(data: dict[str, Any]) -> Judgement:
    reqs = {}
    for r in data["requirements"]:
        r = dict(r)
        r["criteria"] = tuple(CriterionVerdict(**c) for c in r["criteria"])
        for key in ("parents", "children", "evidence"):
            r[key] = tuple(r[key])
        reqs[r["id"]] = RequirementStatus(**r)
    models = [
        ShipVerdict(
            **{
                **m,
                "aliases": tuple(m["aliases"]),
                "requirements": tuple(tuple(p) for p in m["requirements"]),
                "reasons": tuple(m["reasons"]),
            }
        )
        for m in data["models"]
    ]
    return Judgement(
        results=[CheckResult(**r) for r in data["results"]],
        requirements=reqs,
        models=models,
        engine=data["engine"],
        rules={r["id"]: RuleInfo(**r) for r in data["rules"]},
        fail_on=data["fail_on"],
        judged_at=data["judged_at"],
        fingerprint=data["fingerprint"],
    )


# ----------------------------------------------------------------- recording


def _term(value: str | None, is_iri: bool) -> NamedNode | Literal | None:
    if value is None:
        return None
    return NamedNode(value) if is_iri else Literal(value)


def record_triples(
    judgement: Judgement, run: NamedNode, minter: Minter, sha: str | None
) -> Iterator[Triple]:
    """The check graph: the judgement as a SHACL validation report, statuses, criterion
    and ship verdicts, and the whole judgement as JSON for the renderers."""
    check_graph = minter.graph(CHECK_GRAPH)
    report = NamedNode(f"{run.value}/report")
    yield Triple(check_graph, PROV.wasGeneratedBy, run)
    yield Triple(run, RDF.type, JF.CheckRun)
    yield Triple(run, RDF.type, PROV.Activity)
    yield Triple(run, RDFS.label, Literal(f"justify check ({judgement.engine})"))
    yield Triple(run, PROV.endedAtTime, Literal(judgement.judged_at, datatype=_DATETIME))
    if sha:
        yield Triple(run, JF.gitCommitSha, Literal(sha))
    yield Triple(report, RDF.type, SH.ValidationReport)
    yield Triple(report, RDF.type, JF.ValidationRecord)
    yield Triple(report, PROV.wasGeneratedBy, run)
    conforms = judgement.exit_code() == 0
    yield Triple(report, SH.conforms, Literal(str(conforms).lower(), datatype=_BOOLEAN))
    yield Triple(report, JF.inputFingerprint, Literal(judgement.fingerprint))
    if judgement.derivation:
        yield Triple(report, JF.derivationFingerprint, Literal(judgement.derivation))
        links = "".join(f"{t} .\n" for t in judgement.derived)
        yield Triple(report, JF.derivedLinks, Literal(f"{_links_digest(links)}\n{links}"))
    yield Triple(report, JF.judgement, Literal(json.dumps(to_data(judgement)), datatype=_JSON))
    for i, result in enumerate(judgement.results):
        node = NamedNode(f"{run.value}/result/{i}")
        yield Triple(report, SH.result, node)
        yield Triple(node, RDF.type, SH.ValidationResult)
        yield Triple(node, PROV.wasGeneratedBy, run)
        yield Triple(node, DCTERMS.identifier, Literal(result.rule))
        yield Triple(node, SH.focusNode, NamedNode(result.focus))
        yield Triple(node, SH.resultSeverity, SEVERITY_IRIS.get(result.severity, SH.Violation))
        yield Triple(node, SH.resultMessage, Literal(result.message))
        if result.path:
            yield Triple(node, SH.resultPath, NamedNode(result.path))
        if result.shape:
            yield Triple(node, SH.sourceShape, NamedNode(result.shape))
        value = _term(result.value, result.value_is_iri)
        if value is not None:
            yield Triple(node, SH.value, value)
    for req in judgement.requirements.values():
        yield Triple(NamedNode(req.iri), JF.checkStatus, Literal(req.status))
        for c in req.criteria:
            yield Triple(NamedNode(c.iri), JF.criterionVerdict, Literal(c.verdict))
    for m in judgement.models:
        version = NamedNode(m.iri)
        yield Triple(version, JF.shipVerdict, Literal(m.verdict))
        for reason in m.reasons:
            yield Triple(version, JF.shipReason, Literal(reason))
        for rid, _ in m.requirements:
            applying = judgement.requirements.get(rid)
            if applying is not None:
                yield Triple(NamedNode(applying.iri), JF.appliesToVersion, version)


_DATETIME = NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
_BOOLEAN = NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
_JSON = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON")


def recorded(store: GraphStore, config: Config | str) -> Judgement | None:
    """The judgement the latest recorded check left in the store, if any (``config``:
    the configuration, or just its base IRI)."""
    base = config if isinstance(config, str) else config.base_iri
    graph = Minter(base).graph(CHECK_GRAPH)
    rows = _rows(
        store,
        f"""SELECT ?json WHERE {{ GRAPH {term(graph)} {{
              ?report a jf:ValidationRecord ; jf:judgement ?json }} }}""",
    )
    if not rows or not rows[0]["json"]:
        return None
    try:
        return from_data(json.loads(rows[0]["json"] or "{}"))
    except (KeyError, TypeError, ValueError):
        return None  # written by another version of justify: judge again


def current(*, config: Config | None = None, store: GraphStore | None = None) -> Judgement:
    """The judgement of the graph as it is now, without writing: the recorded one when
    nothing changed since, else one made in memory (``changed_since`` is then set when
    a record exists, so that renderers can say the graph changed after the last check)."""
    config = config or load_config()
    store = store or open_store(config)
    found = recorded(store, config)
    if found is not None:
        shapes, _, _ = _configured_shapes(config)
        if fingerprint(store, config, shapes, found.fail_on) == found.fingerprint and (
            found.fail_on == config.fail_on
        ):
            return found
    fresh = judge(config=config, store=store)
    fresh.changed_since = found is not None
    return fresh


__all__ = [
    "CHECK_GRAPH",
    "DERIVED_GRAPH",
    "HISTORY_GRAPH",
    "CheckReport",
    "CriterionVerdict",
    "JudgedValue",
    "Judgement",
    "RequirementStatus",
    "ShipVerdict",
    "blocks",
    "check",
    "current",
    "evidence_values",
    "judge",
    "recorded",
]
