"""Requirement files (YAML) -> validated ``Requirement`` objects -> triples.

Every problem is collected with its ``file:line`` before anything is raised, so
one run reports all of them. Fields the schema does not know are kept as
annotations, so nothing a user wrote is lost.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple

from justify.errors import Problem, RequirementFileError
from justify.iris import Minter
from justify.plainyaml import MAP, SCALAR, SEQ, Node, PlainYamlError, compose, compose_reporting
from justify.vocab import AMO, DCTERMS, JF, OSLC_RM, PROV, RDF, RDFS, XSD

ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
KINDS = ("performance", "fairness", "robustness", "data", "process", "other")
# The lifecycle statuses a requirement file declares (not the judged ones).
DECLARED_STATUSES = ("draft", "approved", "retired")
PRIORITIES = ("low", "medium", "high", "critical")
COMPARATORS = (">=", ">", "<=", "<", "==", "!=")
REQUIREMENT_FIELDS = frozenset(
    (
        *("id", "title", "statement", "kind", "status", "priority", "parent", "parents"),
        *("rationale", "owner", "model", "experiment", "criteria", "usage_domain", "attestations"),
        "pattern",
    )
)
CRITERION_FIELDS = frozenset(("metric", "op", "threshold", "dataset"))
ATTESTATION_FIELDS = frozenset(("by", "role", "date", "statement", "link"))


@dataclass(frozen=True)
class Criterion:
    """One acceptance criterion: ``metric op threshold`` [on ``dataset``]."""

    metric: str
    op: str
    threshold: float
    dataset: str | None
    position: int
    line: int
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        text = f"{self.metric} {self.op} {self.threshold:g}"
        return f"{text} on {self.dataset}" if self.dataset else text


@dataclass(frozen=True)
class Attestation:
    """A dated statement by a named person that a requirement was checked."""

    by: str
    date: str
    statement: str
    link: str | None
    position: int
    line: int
    role: str | None = None  # the role the person attests in (a pattern may ask for one)


@dataclass(frozen=True)
class Requirement:
    """One requirement as written in its file, with where it was written."""

    id: str
    title: str
    file: str
    line: int
    statement: str | None = None
    kind: str = "other"
    status: str = "draft"
    priority: str | None = None
    parents: tuple[str, ...] = ()
    rationale: str | None = None
    owner: str | None = None
    model: str | None = None
    experiment: str | None = None
    usage_domain: str | None = None
    pattern: str | None = None  # the justification pattern it follows (else its kind's)
    criteria: tuple[Criterion, ...] = ()
    attestations: tuple[Attestation, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    content_hash: str = ""

    @property
    def model_name(self) -> str | None:
        return parse_model_scope(self.model)[0] if self.model else None

    @property
    def model_alias(self) -> str | None:
        return parse_model_scope(self.model)[1] if self.model else None

    @property
    def model_version(self) -> int | None:
        return parse_model_scope(self.model)[2] if self.model else None


_MODEL_SCOPE = re.compile(r"^(?P<name>[^@\s][^@]*?)(?:@(?P<alias>[^@\s/]+)|/(?P<version>\d+))?$")


def parse_model_scope(text: str) -> tuple[str, str | None, int | None]:
    """``name`` (its latest version), ``name@alias`` or ``name/3``: (name, alias, version)."""
    match = _MODEL_SCOPE.match(text)
    if match is None:
        raise ValueError(text)
    version = match["version"]
    return match["name"], match["alias"], int(version) if version else None


def content_hash(item: Any) -> str:
    """A hash of one requirement's own content as written (its YAML mapping), so that the
    Git history can tell which commit last changed it."""
    canonical = json.dumps(_text_keys(item), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _text_keys(item: Any) -> Any:
    """Mapping keys as text, so that keys of mixed types (``null``, ``1``, ``a``) sort."""
    if isinstance(item, dict):
        return {(k if isinstance(k, str) else f"\x00{k!r}"): _text_keys(v) for k, v in item.items()}
    if isinstance(item, list):
        return [_text_keys(v) for v in item]
    return item


def plain_data(text: str) -> Any:
    """The data of a YAML text that holds only plain data, else None (no tags, no
    recursive or exploding aliases): for reading old versions of requirement files."""
    try:
        root = compose(text)
    except PlainYamlError:
        return None
    return None if root is None else root.data()


def _close_field(key: str, known: frozenset[str]) -> str | None:
    """The known field an unknown one most likely misspells (``critera``, ``Criteria``)."""
    if key.lower() in known:
        return key.lower()
    close = difflib.get_close_matches(key.lower(), sorted(known), n=1, cutoff=0.8)
    return close[0] if close else None


# --------------------------------------------------------------------- finding


def find_requirement_files(paths: Iterable[Path]) -> list[Path]:
    """Every ``*.yaml`` / ``*.yml`` file named, or found below a folder named."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*")) if p.suffix in (".yaml", ".yml") and p.is_file()
            )
        else:
            found.append(path)
    return list(dict.fromkeys(found))


# --------------------------------------------------------------------- reading


class _FileReader:
    """Reads one file's YAML node tree, collecting problems with line numbers."""

    def __init__(self, path: Path, display: str, limit: int | None = None) -> None:
        self.path = path
        self.display = display
        self.limit = limit
        self.problems: list[Problem] = []

    def problem(self, node: Node | int, message: str) -> None:
        line = node if isinstance(node, int) else node.line
        self.problems.append(Problem(self.display, line, message))

    def value(self, node: Node) -> Any:
        return node.data()

    def mapping(self, node: Node) -> dict[str, tuple[Node, Node]]:
        """Key -> (key node, value node); reports duplicate and non-text keys."""
        result: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, str):
                self.problem(key_node, f"field name {key!r} must be text")
                continue
            if key in result:
                first = result[key][0].line
                self.problem(key_node, f"field '{key}' is given twice (first at line {first})")
                continue
            result[key] = (key_node, value_node)
        return result

    def read(self) -> list[Requirement]:
        try:
            size = self.path.stat().st_size
            if self.limit is not None and size > self.limit:
                self.problem(
                    1,
                    f"the file is {size / 1e6:.1f} MB, over the {self.limit / 1e6:g} MB limit "
                    "for one requirement file; split it, or raise the "
                    "'requirement_file_limit_mb' setting",
                )
                return []
            text = self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            self.problem(1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
            return []
        except OSError as exc:
            self.problem(1, f"cannot read the file: {exc.strerror or exc}")
            return []
        readable, root = compose_reporting(text, self.problem)
        if not readable:
            return []
        if root is None:
            self.problem(1, "the file is empty; expected a top-level 'requirements:' list")
            return []
        if root.kind != MAP:
            self.problem(root, "expected a mapping with a top-level 'requirements:' list")
            return []
        fields = self.mapping(root)
        for key, (key_node, _) in fields.items():
            if key != "requirements":
                self.problem(
                    key_node, f"unknown top-level key '{key}'; only 'requirements' is read"
                )
        if "requirements" not in fields:
            self.problem(root, "missing the top-level 'requirements:' list")
            return []
        seq = fields["requirements"][1]
        if seq.kind == SCALAR and self.value(seq) is None:
            return []  # `requirements:` with nothing yet
        if seq.kind != SEQ:
            self.problem(seq, "'requirements' must be a list of requirements")
            return []
        return [r for node in seq.value if (r := self.requirement(node)) is not None]

    # -- one requirement ------------------------------------------------------------
    def text(
        self,
        fields: dict[str, tuple[Node, Node]],
        key: str,
        *,
        required: bool = False,
        where: Node,
        choices: tuple[str, ...] | None = None,
    ) -> str | None:
        if key not in fields:
            if required:
                self.problem(where, f"missing required field '{key}'")
            return None
        node = fields[key][1]
        value = self.value(node)
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(node, f"'{key}' must be non-empty text, got {_describe(value)}")
            return None
        if choices is not None and value not in choices:
            self.problem(node, f"unknown {key} '{value}'; expected one of: {', '.join(choices)}")
            return None
        return value

    def requirement(self, node: Node) -> Requirement | None:
        if node.kind != MAP:
            self.problem(
                node, f"each requirement must be a mapping, got {_describe(self.value(node))}"
            )
            return None
        fields = self.mapping(node)
        req_id = self.text(fields, "id", required=True, where=node)
        if req_id is not None and not ID_PATTERN.match(req_id):
            self.problem(
                fields["id"][1],
                f"id '{req_id}' is not valid: it must start with a letter and hold only "
                "letters, digits, '_', '.' and '-'",
            )
        title = self.text(fields, "title", required=True, where=node)
        kind = self.text(fields, "kind", where=node, choices=KINDS) or "other"
        status = self.text(fields, "status", where=node, choices=DECLARED_STATUSES) or "draft"
        priority = self.text(fields, "priority", where=node, choices=PRIORITIES)
        self.misspelt(fields, REQUIREMENT_FIELDS, "requirement")
        model = self.text(fields, "model", where=node)
        if model is not None and not _MODEL_SCOPE.match(model):
            self.problem(
                fields["model"][1],
                f"model '{model}' must be 'name' (its latest version), 'name@alias' or "
                "'name/VERSION'",
            )
        statement = self.text(fields, "statement", where=node)
        rationale = self.text(fields, "rationale", where=node)
        owner = self.text(fields, "owner", where=node)
        experiment = self.text(fields, "experiment", where=node)
        usage_domain = self.text(fields, "usage_domain", where=node)
        pattern = self.text(fields, "pattern", where=node)
        parents = self.parents(fields)
        criteria = self.criteria(fields)
        attestations = self.attestations(fields)
        extra = {k: self.value(v) for k, (_, v) in fields.items() if k not in REQUIREMENT_FIELDS}
        if req_id is None:
            return None
        # A requirement with problems is still returned, so that duplicate ids and
        # parent links are checked across files too; any problem stops the load.
        return Requirement(
            id=req_id,
            title=title or "",
            file=self.display,
            line=node.line,
            statement=statement,
            kind=kind,
            status=status,
            priority=priority,
            parents=parents,
            rationale=rationale,
            owner=owner,
            model=model,
            experiment=experiment,
            usage_domain=usage_domain,
            pattern=pattern,
            criteria=criteria,
            attestations=attestations,
            extra=extra,
            content_hash=content_hash(self.value(node)),
        )

    def misspelt(
        self, fields: dict[str, tuple[Node, Node]], known: frozenset[str], what: str
    ) -> None:
        """An unknown field that looks like a known one is a mistake, not an annotation:
        kept silently, ``critera:`` would leave the requirement without criteria."""
        for key, (key_node, _) in fields.items():
            if key in known:
                continue
            close = _close_field(key, known)
            if close is not None:
                self.problem(
                    key_node,
                    f"unknown {what} field '{key}'; did you mean '{close}'? "
                    "(fix the name; other unknown fields are kept as annotations)",
                )

    def parents(self, fields: dict[str, tuple[Node, Node]]) -> tuple[str, ...]:
        if "parent" in fields and "parents" in fields:
            self.problem(fields["parents"][0], "give either 'parent' or 'parents', not both")
            return ()
        if "parent" in fields:
            node = fields["parent"][1]
            value = self.value(node)
            if not isinstance(value, str):
                self.problem(node, f"'parent' must be a requirement id, got {_describe(value)}")
                return ()
            return (value,)
        if "parents" in fields:
            node = fields["parents"][1]
            value = self.value(node)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.problem(
                    node, f"'parents' must be a list of requirement ids, got {_describe(value)}"
                )
                return ()
            return tuple(dict.fromkeys(value))
        return ()

    def attestations(self, fields: dict[str, tuple[Node, Node]]) -> tuple[Attestation, ...]:
        if "attestations" not in fields:
            return ()
        seq = fields["attestations"][1]
        if seq.kind != SEQ:
            self.problem(seq, f"'attestations' must be a list, got {_describe(self.value(seq))}")
            return ()
        result = []
        for position, node in enumerate(seq.value, 1):
            if node.kind != MAP:
                self.problem(node, "each attestation must be a mapping with by, date, statement")
                continue
            att = self.mapping(node)
            by = self.text(att, "by", required=True, where=node)
            statement = self.text(att, "statement", required=True, where=node)
            link = self.text(att, "link", where=node)
            role = self.text(att, "role", where=node)
            date = None
            if "date" not in att:
                self.problem(node, "missing required field 'date'")
            else:
                value = self.value(att["date"][1])
                text = value.isoformat() if hasattr(value, "isoformat") else value
                if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                    self.problem(
                        att["date"][1], f"'date' must be YYYY-MM-DD, got {_describe(value)}"
                    )
                else:
                    date = text
            for key, (key_node, _) in att.items():
                if key not in ATTESTATION_FIELDS:
                    self.problem(
                        key_node,
                        f"unknown attestation field '{key}'; use by, role, date, statement, link",
                    )
            if by and statement and date:
                result.append(
                    Attestation(by, date, statement, link, position, node.line, role=role)
                )
        return tuple(result)

    def finite(self, node: Node, value: int | float) -> float | None:
        """A threshold is a finite number: NaN or an infinity would make every
        comparison undefined, and a huge integer does not fit a double."""
        try:
            number = float(value)
        except OverflowError:
            self.problem(node, "'threshold' is too large for a number; write it as a decimal")
            return None
        if not math.isfinite(number):
            self.problem(node, f"'threshold' must be a finite number, got {value}")
            return None
        return number

    def criteria(self, fields: dict[str, tuple[Node, Node]]) -> tuple[Criterion, ...]:
        if "criteria" not in fields:
            return ()
        seq = fields["criteria"][1]
        if seq.kind != SEQ:
            if self.value(seq) is not None:
                self.problem(seq, f"'criteria' must be a list, got {_describe(self.value(seq))}")
            return ()
        result = []
        for position, node in enumerate(seq.value, 1):
            if node.kind != MAP:
                self.problem(
                    node, f"each criterion must be a mapping, got {_describe(self.value(node))}"
                )
                continue
            crit = self.mapping(node)
            self.misspelt(crit, CRITERION_FIELDS, "criterion")
            metric = self.text(crit, "metric", required=True, where=node)
            op = self.text(crit, "op", required=True, where=node, choices=COMPARATORS)
            dataset = self.text(crit, "dataset", where=node)
            threshold: float | None = None
            if "threshold" not in crit:
                self.problem(node, "missing required field 'threshold'")
            else:
                value = self.value(crit["threshold"][1])
                if isinstance(value, bool) or not isinstance(value, int | float):
                    self.problem(
                        crit["threshold"][1],
                        f"'threshold' must be a number, got {_describe(value)}",
                    )
                else:
                    threshold = self.finite(crit["threshold"][1], value)
            extra = {k: self.value(v) for k, (_, v) in crit.items() if k not in CRITERION_FIELDS}
            if metric is not None and op is not None and threshold is not None:
                result.append(Criterion(metric, op, threshold, dataset, position, node.line, extra))
        return tuple(result)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


# ----------------------------------------------------------------- whole sets


def read_requirements(
    files: Iterable[Path], *, root: Path | None = None, limit: int | None = None
) -> list[Requirement]:
    """Read and validate requirement files as one set.

    Raises ``RequirementFileError`` listing every problem in every file:
    syntax, fields, types, duplicate ids, unknown parents and parent cycles.
    ``limit`` is the largest file size read, in bytes.
    """
    problems: list[Problem] = []
    requirements: list[Requirement] = []
    for path in files:
        reader = _FileReader(path, _display(path, root), limit)
        requirements.extend(reader.read())
        problems.extend(reader.problems)

    by_id: dict[str, Requirement] = {}
    for req in requirements:
        first = by_id.get(req.id)
        if first is not None:
            problems.append(
                Problem(
                    req.file,
                    req.line,
                    f"duplicate id '{req.id}': already defined at {first.file}:{first.line}",
                )
            )
        else:
            by_id[req.id] = req

    import networkx as nx  # here: slow to import, and only this check needs it

    graph: nx.DiGraph[str] = nx.DiGraph()
    for req in by_id.values():
        for parent in req.parents:
            if parent not in by_id:
                problems.append(
                    Problem(
                        req.file,
                        req.line,
                        f"'{req.id}' names parent '{parent}', which is "
                        "not defined in any requirement file",
                    )
                )
            else:
                graph.add_edge(req.id, parent)
    for cycle in nx.simple_cycles(graph):
        start = min(cycle)
        i = cycle.index(start)
        ordered = [*cycle[i:], *cycle[:i], start]
        first = by_id[start]
        problems.append(Problem(first.file, first.line, "parent cycle: " + " -> ".join(ordered)))

    if problems:
        raise RequirementFileError(problems)
    return requirements


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


# ----------------------------------------------------------------- triples


def _text(value: str) -> Literal:
    return Literal(value)


def _number(value: float) -> Literal:
    return Literal(repr(float(value)), datatype=XSD.double)


def _integer(value: int) -> Literal:
    return Literal(str(value), datatype=XSD.integer)


def _annotation_value(value: Any) -> Literal:
    if isinstance(value, str):
        return Literal(value)
    return Literal(json.dumps(value, default=str, ensure_ascii=False), datatype=RDF.JSON)


def _strategy_text(req: Requirement, has_children: bool) -> str:
    if req.criteria:
        return "Each acceptance criterion is met by the most recent finished evidence run."
    if has_children:
        return "Every approved sub-requirement is justified."
    return "A named person attests that the requirement was checked."


def requirement_triples(requirements: list[Requirement], minter: Minter) -> Iterator[Triple]:
    """The triples of a requirement set: requirements, criteria, justification skeletons."""
    children = {p for r in requirements for p in r.parents}
    for req in requirements:
        node = minter.requirement(req.id)
        yield from (
            Triple(node, RDF.type, t)
            for t in (JF.Requirement, OSLC_RM.Requirement, PROV.Entity, AMO.Claim)
        )
        yield Triple(node, DCTERMS.identifier, _text(req.id))
        yield Triple(node, DCTERMS.title, _text(req.title))
        yield Triple(node, RDFS.label, _text(f"{req.id}: {req.title}"))
        yield Triple(node, JF.kind, _text(req.kind))
        yield Triple(node, JF.status, _text(req.status))
        yield Triple(node, JF.sourceFile, _text(req.file))
        yield Triple(node, JF.sourceLine, _integer(req.line))
        optional = (
            (JF.statement, req.statement),
            (JF.priority, req.priority),
            (JF.rationale, req.rationale),
            (JF.owner, req.owner),
            (JF.modelScope, req.model),
            (JF.scopeModelName, req.model_name),
            (JF.scopeAlias, req.model_alias),
            (JF.experimentName, req.experiment),
            (JF.patternName, req.pattern),
        )
        for predicate, value in optional:
            if value is not None:
                yield Triple(node, predicate, _text(value))
        if req.model_version is not None:
            yield Triple(node, JF.scopeVersion, _integer(req.model_version))
        yield Triple(node, JF.contentHash, _text(req.content_hash))
        if req.parents:
            # A sub-requirement is a support (a sub-conclusion) of its parents.
            yield Triple(node, RDF.type, JF.Support)
        for parent in req.parents:
            parent_node = minter.requirement(parent)
            yield Triple(node, JF.parent, parent_node)
            yield Triple(node, OSLC_RM.decomposes, parent_node)
            yield Triple(minter.strategy(parent), JF.hasSupport, node)
        for crit in req.criteria:
            c = minter.criterion(req.id, crit.position)
            yield Triple(node, JF.hasCriterion, c)
            yield Triple(c, RDF.type, JF.AcceptanceCriterion)
            yield Triple(c, RDF.type, PROV.Entity)
            yield Triple(c, RDFS.label, _text(str(crit)))
            yield Triple(c, JF.metricKey, _text(crit.metric))
            yield Triple(c, JF.comparator, _text(crit.op))
            yield Triple(c, JF.threshold, _number(crit.threshold))
            yield Triple(c, JF.position, _integer(crit.position))
            yield Triple(c, JF.sourceFile, _text(req.file))
            yield Triple(c, JF.sourceLine, _integer(crit.line))
            if crit.dataset is not None:
                yield Triple(c, JF.datasetRef, _text(crit.dataset))
            yield from _annotations(c, crit.extra, minter)
        for att in req.attestations:
            a = minter.iri("requirement", req.id, "attestation", str(att.position))
            yield Triple(node, JF.hasAttestation, a)
            yield from (Triple(a, RDF.type, t) for t in (JF.Attestation, JF.Evidence, PROV.Entity))
            yield Triple(a, RDFS.label, _text(f"attested by {att.by} on {att.date}"))
            yield Triple(a, JF.attestedBy, _text(att.by))
            yield Triple(a, DCTERMS.date, Literal(att.date, datatype=XSD.date))
            yield Triple(a, JF.statement, _text(att.statement))
            yield Triple(a, JF.supports, node)
            yield Triple(a, JF.sourceLine, _integer(att.line))
            if att.link:
                yield Triple(a, JF.link, Literal(att.link, datatype=XSD.anyURI))
            if att.role:
                yield Triple(a, JF.attestedAs, _text(att.role))
        yield from _annotations(node, req.extra, minter)

        just = minter.justification(req.id)
        strategy = minter.strategy(req.id)
        yield from (
            Triple(just, RDF.type, t) for t in (JF.Justification, AMO.Argument, PROV.Entity)
        )
        yield Triple(just, RDFS.label, _text(f"Justification of {req.id}"))
        yield Triple(just, JF.conclusion, node)
        yield Triple(node, JF.justifiedBy, just)
        yield Triple(just, JF.strategy, strategy)
        if req.rationale is not None:
            yield Triple(just, JF.rationale, _text(req.rationale))
        domain = req.usage_domain or (f"model {req.model}" if req.model else None)
        if domain is not None:
            yield Triple(just, JF.usageDomain, _text(domain))
        yield from (Triple(strategy, RDF.type, t) for t in (JF.Strategy, AMO.Warrant, PROV.Entity))
        yield Triple(strategy, RDFS.label, _text(_strategy_text(req, req.id in children)))


def _annotations(owner: NamedNode, extra: dict[str, Any], minter: Minter) -> Iterator[Triple]:
    for key, value in extra.items():
        a = minter.annotation(owner, key)
        yield Triple(owner, JF.hasAnnotation, a)
        yield Triple(a, RDF.type, JF.Annotation)
        yield Triple(a, JF.key, _text(key))
        yield Triple(a, JF.textValue, _annotation_value(value))
