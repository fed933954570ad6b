"""Justification patterns: what a kind of requirement needs to be justified.

A pattern is a template over kinds of evidence ("a per-group gap metric on a
held-out set", not "run 3f2a"): a conclusion, a strategy with its rationale and
usage domain, and the support slots the strategy needs, each with an evidence
selector. Patterns are the elicited justification requirements of the Justification
Factory line of work; a requirement follows the pattern it names with ``pattern:``,
else the pattern of its kind.

This module reads and validates pattern files (``patterns/*.yaml``, built-in and the
project's own, a later file overriding a pattern of the same id) and says which
pattern a requirement follows. It decides nothing about evidence: filling the slots
belongs to the judgement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from justify.config import Config, load_config
from justify.errors import Problem, RequirementFileError
from justify.importers._protocol import EvidenceSelector
from justify.plainyaml import MAP, SCALAR, SEQ, Node, compose_reporting
from justify.requirements import (
    COMPARATORS,
    Requirement,
    find_requirement_files,
    read_requirements,
)
from justify.resources import data_folder

# Each selector kind with the fields it takes (name: required?).
SELECTORS: dict[str, dict[str, bool]] = {
    "criterion": {"metric": False},
    "metric": {"key": True, "comparator": True, "threshold": True, "dataset": False},
    "dataset": {"context": False, "name": False, "digest": False},
    "commit": {"path": False, "trailer": False},
    "attestation": {"role": True},
    "requirement": {"kind": True},
    "query": {"ask": False, "select": False},
}
AGREEMENTS = ("model_version", "commit", "dataset_digest")
_PATTERN_FIELDS = ("id", "title", "applies_to", "conclusion", "strategy", "supports", "agree")
_SLOT_FIELDS = ("id", "label", "optional", "how")
_STRATEGY_FIELDS = ("label", "rationale", "usage_domain")


@dataclass(frozen=True)
class Slot:
    """One support a pattern's strategy needs, and how evidence is selected for it."""

    id: str
    label: str
    kind: str  # one of SELECTORS
    selector: dict[str, Any]
    optional: bool = False
    how: str | None = None  # how to produce the evidence when it is missing
    line: int = 1


@dataclass(frozen=True)
class Pattern:
    id: str
    title: str
    conclusion: str
    strategy: str
    rationale: str
    usage_domain: str
    supports: tuple[Slot, ...]
    kinds: tuple[str, ...] = ()
    agree: tuple[str, ...] = ()
    file: str = ""
    line: int = 1


def evidence_selectors() -> dict[str, EvidenceSelector]:
    """The kinds of evidence that importers (built-in or plug-ins) add for slots."""
    from justify.importers import registered_importers

    found: dict[str, EvidenceSelector] = {}
    for importer in registered_importers().values():
        for selector in importer.selectors:
            if selector.kind not in SELECTORS:  # built-in kinds cannot be replaced
                found.setdefault(selector.kind, selector)
    return found


def selector_fields() -> dict[str, dict[str, bool]]:
    """Every selector kind a slot may use, with its fields (name: required?)."""
    extra = {kind: dict(s.fields) for kind, s in evidence_selectors().items()}
    return {**SELECTORS, **extra}


def builtin_folder() -> Path:
    """The patterns justify ships, one file per kind of requirement."""
    return data_folder("patterns")


def read_patterns(folders: Iterable[Path], *, root: Path | None = None) -> dict[str, Pattern]:
    """Every pattern in the built-in folder and then in ``folders`` (``*.yaml``), by id;
    a later pattern replaces an earlier one of the same id (a project overrides a
    built-in). Raises ``RequirementFileError`` with every problem as ``file:line``."""
    problems: list[Problem] = []
    found: dict[str, Pattern] = {}
    for index, folder in enumerate([builtin_folder(), *folders]):
        if not folder.is_dir():
            problems.append(Problem(str(folder), 1, "no such pattern folder; fix 'patterns'"))
            continue
        seen: dict[str, Pattern] = {}
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            shown = _display(path, root) if index else f"(built-in) {path.name}"
            reader = _Reader(shown, problems, selector_fields())
            for pattern in reader.read(path):
                if pattern.id in seen:
                    first = seen[pattern.id]
                    reader.problem(
                        pattern.line,
                        f"pattern '{pattern.id}' is defined twice in this folder "
                        f"(first at {first.file}:{first.line})",
                    )
                    continue
                seen[pattern.id] = pattern
        found.update(seen)
        for path in sorted(folder.glob("*.jd")):
            found.update(_jd_patterns(path, _display(path, root), found, problems))
    if problems:
        raise RequirementFileError(problems, what="pattern files")
    return found


def _jd_patterns(
    path: Path, shown: str, known: dict[str, Pattern], problems: list[Problem]
) -> dict[str, Pattern]:
    """The ``pattern`` blocks of a jPipe file: their structure (conclusion, strategy,
    slots and their labels) from the ``.jd``; what it cannot say (title, rationale,
    usage domain, kinds, agreements, each slot's evidence selector) from the YAML
    pattern of the same id, read before it."""
    from justify._jd import ident, read_jd_patterns  # the .jd reader builds Patterns

    bindings = {ident(p.id): {s.id: s for s in p.supports} for p in known.values()}
    by_ident = {ident(p.id): p for p in known.values()}
    try:
        read = read_jd_patterns(path, bindings, shown=shown)
    except RequirementFileError as exc:
        problems.extend(exc.problems)
        return {}
    out = {}
    for jd_id, structure in read.items():
        base = by_ident.get(jd_id)
        if base is None:
            message = f"pattern '{jd_id}' has no YAML pattern of the same id to bind its slots"
            problems.append(Problem(shown, structure.line, message))
            continue
        out[base.id] = Pattern(
            id=base.id,
            title=base.title,
            conclusion=structure.conclusion,
            strategy=structure.strategy,
            rationale=base.rationale,
            usage_domain=base.usage_domain,
            supports=structure.supports,
            kinds=base.kinds,
            agree=base.agree,
            file=shown,
            line=structure.line,
        )
    return out


def unknown_roles(
    patterns: dict[str, Pattern], requirements: Iterable[Requirement], roles: Iterable[str]
) -> list[Problem]:
    """Attestation roles, in pattern slots and in requirements, that the ``roles``
    setting does not list (nothing when it lists none)."""
    known = tuple(roles)
    if not known:
        return []
    listed = ", ".join(known)
    problems = [
        Problem(p.file, slot.line, f"slot '{slot.id}' of pattern '{p.id}' asks for the role "
                f"'{slot.selector.get('role')}', which 'roles' does not list ({listed})")
        for p in patterns.values()
        for slot in p.supports
        if slot.kind == "attestation" and slot.selector.get("role") not in known
    ]  # fmt: skip
    problems += [
        Problem(req.file, att.line, f"the attestation by {att.by} on '{req.id}' names the role "
                f"'{att.role}', which 'roles' does not list ({listed}); fix it or add it")
        for req in requirements
        for att in req.attestations
        if att.role is not None and att.role not in known
    ]  # fmt: skip
    return problems


def pattern_for(patterns: dict[str, Pattern], kind: str, named: str | None) -> Pattern | None:
    """The pattern a requirement follows: the one it names, else the one of its kind."""
    if named:
        return patterns.get(named)
    return next((p for p in patterns.values() if kind in p.kinds), None)


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return str(path)


class _Reader:
    def __init__(
        self, shown: str, problems: list[Problem], selectors: dict[str, dict[str, bool]]
    ) -> None:
        self.shown = shown
        self.problems = problems
        self.selectors = selectors

    def problem(self, where: Node | int, message: str) -> None:
        line = where if isinstance(where, int) else where.line
        self.problems.append(Problem(self.shown, line, message))

    def fields(self, node: Node, allowed: Iterable[str], what: str) -> dict[str, Node]:
        if node.kind != MAP:
            self.problem(node, f"{what} must be a mapping")
            return {}
        known = tuple(allowed)
        result: dict[str, Node] = {}
        for key_node, value in node.value:
            key = key_node.data()
            if key not in known:
                self.problem(
                    key_node, f"unknown field '{key}' in {what}; known: {', '.join(known)}"
                )
            elif key in result:
                self.problem(key_node, f"field '{key}' is given twice in {what}")
            else:
                result[key] = value
        return result

    def text(self, fields: dict[str, Node], key: str, where: Node, what: str) -> str | None:
        node = fields.get(key)
        if node is None:
            self.problem(where, f"{what} needs '{key}'")
            return None
        value = node.data()
        if not isinstance(value, str) or not value.strip():
            self.problem(node, f"'{key}' in {what} must be non-empty text")
            return None
        return value.strip()

    def read(self, path: Path) -> list[Pattern]:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(1, f"cannot read the file: {exc}")
            return []
        readable, root = compose_reporting(text, self.problem)
        if not readable:
            return []
        if root is None or root.kind != MAP:
            self.problem(1 if root is None else root, "expected a top-level 'patterns:' list")
            return []
        top = self.fields(root, ("patterns",), "a pattern file")
        items = top.get("patterns")
        if items is None or items.kind != SEQ:
            self.problem(items or root, "'patterns' must be a list of patterns")
            return []
        return [p for item in items.value if (p := self.pattern(item)) is not None]

    def pattern(self, node: Node) -> Pattern | None:
        fields = self.fields(node, _PATTERN_FIELDS, "a pattern")
        if not fields:
            return None
        pid = self.text(fields, "id", node, "a pattern")
        what = f"pattern '{pid}'" if pid else "a pattern"
        title = self.text(fields, "title", node, what)
        conclusion = self.text(fields, "conclusion", node, what)
        strategy_node = fields.get("strategy")
        strategy: dict[str, str | None] = {}
        if strategy_node is None:
            self.problem(node, f"{what} needs 'strategy' (label, rationale, usage_domain)")
        else:
            given = self.fields(strategy_node, _STRATEGY_FIELDS, f"the strategy of {what}")
            for key in _STRATEGY_FIELDS:
                strategy[key] = self.text(given, key, strategy_node, f"the strategy of {what}")
        kinds: tuple[str, ...] = ()
        if "applies_to" in fields:
            applies = self.fields(fields["applies_to"], ("kinds",), f"'applies_to' of {what}")
            kinds_node = applies.get("kinds")
            value = kinds_node.data() if kinds_node is not None else None
            if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
                self.problem(kinds_node or fields["applies_to"], "'kinds' must be a list of kinds")
            else:
                kinds = tuple(value)
        agree: tuple[str, ...] = ()
        if "agree" in fields:
            value = fields["agree"].data()
            if not isinstance(value, list) or any(a not in AGREEMENTS for a in value):
                self.problem(fields["agree"], f"'agree' must list some of: {', '.join(AGREEMENTS)}")
            else:
                agree = tuple(value)
        slots: list[Slot] = []
        supports = fields.get("supports")
        if supports is None or supports.kind != SEQ or not supports.value:
            self.problem(supports or node, f"{what} needs 'supports', a list of slots")
        else:
            ids: set[str] = set()
            for item in supports.value:
                slot = self.slot(item, what)
                if slot is None:
                    continue
                if slot.id in ids:
                    self.problem(item, f"slot '{slot.id}' is given twice in {what}")
                    continue
                ids.add(slot.id)
                slots.append(slot)
        if not (pid and title and conclusion and all(strategy.values()) and strategy):
            return None
        return Pattern(
            id=pid,
            title=title,
            conclusion=conclusion,
            strategy=strategy["label"] or "",
            rationale=strategy["rationale"] or "",
            usage_domain=strategy["usage_domain"] or "",
            supports=tuple(slots),
            kinds=kinds,
            agree=agree,
            file=self.shown,
            line=node.line,
        )

    def slot(self, node: Node, owner: str) -> Slot | None:
        selectors = self.selectors
        fields = self.fields(node, (*_SLOT_FIELDS, *selectors), f"a slot of {owner}")
        if not fields:
            return None
        sid = self.text(fields, "id", node, f"a slot of {owner}")
        what = f"slot '{sid}' of {owner}"
        label = self.text(fields, "label", node, what)
        kinds = [k for k in selectors if k in fields]
        if len(kinds) != 1:
            self.problem(
                node,
                f"{what} needs exactly one evidence selector, one of: {', '.join(selectors)}"
                + (f" (it has {', '.join(kinds)})" if kinds else ""),
            )
            return None
        kind = kinds[0]
        selector_node = fields[kind]
        selector: dict[str, Any] = {}
        if not (selector_node.kind == SCALAR and selector_node.data() is None):
            given = self.fields(selector_node, selectors[kind], f"the {kind} selector of {what}")
            selector = {key: value.data() for key, value in given.items()}
        for key, required in selectors[kind].items():
            if required and key not in selector:
                self.problem(selector_node, f"the {kind} selector of {what} needs '{key}'")
        if kind == "metric":
            if selector.get("comparator") not in COMPARATORS:
                self.problem(
                    selector_node,
                    f"the comparator of {what} must be one of {' '.join(COMPARATORS)}",
                )
            threshold = selector.get("threshold")
            if (
                isinstance(threshold, bool)
                or not isinstance(threshold, int | float)
                or (threshold != threshold or threshold in (float("inf"), float("-inf")))
            ):
                self.problem(selector_node, f"the threshold of {what} must be a finite number")
        if kind == "query" and len(selector) != 1:
            self.problem(selector_node, f"the query selector of {what} needs 'ask' or 'select'")
        optional = fields.get("optional")
        if optional is not None and not isinstance(optional.data(), bool):
            self.problem(optional, f"'optional' in {what} must be true or false")
        how = fields.get("how")
        if sid is None or label is None:
            return None
        return Slot(
            id=sid,
            label=label,
            kind=kind,
            selector=selector,
            optional=bool(optional.data()) if optional is not None else False,
            how=str(how.data()) if how is not None else None,
            line=node.line,
        )


@dataclass(frozen=True)
class PatternUse:
    """Which requirement follows which pattern, as the files say."""

    patterns: dict[str, Pattern]
    followed_by: dict[str, tuple[str, ...]]  # pattern id -> requirement ids
    without: tuple[tuple[str, str], ...]  # (requirement id, kind) that no pattern covers


def patterns(config: Config | None = None) -> PatternUse:
    """Read the patterns (built-in and the ``patterns`` setting) and the requirement
    files, and say which pattern each requirement follows. A requirement naming an
    unknown pattern is a ``file:line`` problem."""
    config = config or load_config()
    patterns = read_patterns((config.path(p) for p in config.patterns), root=config.root)
    roots = [config.path(p) for p in config.requirements]
    files = find_requirement_files([r for r in roots if r.exists()])
    limit = int(config.number("requirement_file_limit_mb") * 1_000_000)
    requirements = read_requirements(files, root=config.root, limit=limit)
    problems = [
        Problem(
            req.file,
            req.line,
            f"'{req.id}' names pattern '{req.pattern}', which no pattern file defines; "
            f"known: {', '.join(sorted(patterns))}",
        )
        for req in requirements
        if req.pattern and req.pattern not in patterns
    ]
    problems += unknown_roles(patterns, requirements, config.roles)
    if problems:
        raise RequirementFileError(problems)
    followed: dict[str, list[str]] = {pid: [] for pid in patterns}
    without = []
    for req in requirements:
        found = pattern_for(patterns, req.kind, req.pattern)
        if found is None:
            without.append((req.id, req.kind))
        else:
            followed[found.id].append(req.id)
    return PatternUse(
        patterns=patterns,
        followed_by={pid: tuple(sorted(ids)) for pid, ids in followed.items()},
        without=tuple(sorted(without)),
    )
