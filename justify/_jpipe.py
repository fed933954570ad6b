"""``justify export --format jpipe -o DIR``: each requirement's justification as jPipe
speaks it, and ``.jd`` patterns read back as pattern structure.

jPipe (McMaster University, with I3S) is the living heir of the Justification Factory
line of work; ``jpipe-runner`` executes justification diagrams in CI. Per requirement
that follows a pattern, this writes

- ``<REQ>.json``: the diagram in the JSON form ``jpipe-runner`` validates (elements
  typed conclusion, strategy, evidence and sub-conclusion; relations from support to
  what it supports);
- ``<REQ>_steps.py``: a steps module binding every element to justify's judgement
  (``@jpipe_link`` and ``@jpipe``): each evidence node produces what justify found for
  its slot and passes when the slot is filled; the strategy consumes them and passes
  exactly when the judgement lets the requirement pass (no result about it at the
  ``fail_on`` level), so ``jpipe-runner --library <REQ>_steps.py <REQ>.json`` gives
  PASS and FAIL as ``justify check`` does;

and one ``justification.jd`` with a ``pattern`` per pattern used (slots as
``@support``) and a ``justification <REQ> implements <pattern>``. Everything is a
renderer of the judgement and of :mod:`justify._elicit`; nothing is decided here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from justify._elicit import Elicitation, judged_elicitations
from justify._jd import ident, pattern_jd, quote
from justify._patterns import Pattern, read_patterns
from justify.config import Config, load_config
from justify.errors import UsageError
from justify.judgement import blocks
from justify.store import GraphStore, open_store

PASSING_STATES = ("filled", "optional")


@dataclass(frozen=True)
class JpipeExport:
    folder: Path
    files: tuple[Path, ...]
    requirements: tuple[str, ...]
    skipped: tuple[str, ...]  # requirements not approved, or that follow no pattern


def _conclusion(pattern: Pattern, e: Elicitation) -> str:
    fields = {"title": e.title, "id": e.requirement, "kind": e.kind}
    try:
        return pattern.conclusion.format(**fields)
    except (KeyError, IndexError, ValueError):
        return pattern.conclusion


def export_jpipe(
    output: Path, *, config: Config | None = None, store: GraphStore | None = None
) -> JpipeExport:
    """Write the jPipe files of every requirement that follows a pattern to ``output``."""
    config = config or load_config()
    store = store or open_store(config)
    patterns = read_patterns((config.path(p) for p in config.patterns), root=config.root)
    judgement, items = judged_elicitations(config=config, store=store)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {output}: {exc}", hint="choose another -o folder") from exc
    files: list[Path] = []
    done: list[str] = []
    skipped: list[str] = []
    used: dict[str, Pattern] = {}
    implementations: list[str] = []
    for e in items:
        # Only what `justify check` judges: a draft's steps would fail where the check
        # is silent. (`justify elicit` lists the drafts' slots.)
        if e.pattern is None or e.pattern not in patterns or e.status in ("draft", "retired"):
            skipped.append(e.requirement)
            continue
        pattern = patterns[e.pattern]
        used[pattern.id] = pattern
        req = judgement.requirements[e.requirement]
        passes = not any(blocks(r, judgement.fail_on) for r in judgement.results_about(req.iri))
        stem = e.requirement
        diagram = _diagram(pattern, e)
        steps = _steps(pattern, e, passes, judgement.judged_at)
        for name, text in ((f"{stem}.json", json.dumps(diagram, indent=2) + "\n"),
                           (f"{stem}_steps.py", steps)):  # fmt: skip
            path = output / name
            try:
                path.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise UsageError(
                    f"cannot write {path}: {exc}", hint="choose another -o folder"
                ) from exc
            files.append(path)
        implementations.append(_justification_jd(pattern, e))
        done.append(e.requirement)
    jd = output / "justification.jd"
    text = "\n".join([*(pattern_jd(p) for p in used.values()), *implementations])
    try:
        jd.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {jd}: {exc}", hint="choose another -o folder") from exc
    files.append(jd)
    return JpipeExport(output, tuple(files), tuple(done), tuple(skipped))


def _element_type(slot_kind: str) -> str:
    return "sub-conclusion" if slot_kind == "requirement" else "evidence"


def _diagram(pattern: Pattern, e: Elicitation) -> dict[str, object]:
    elements: list[dict[str, str]] = [
        {"id": "conclusion", "label": _conclusion(pattern, e), "type": "conclusion"},
        {"id": "strategy", "label": pattern.strategy, "type": "strategy"},
    ]
    relations = [{"source": "strategy", "target": "conclusion"}]
    for s in e.slots:
        elements.append({"id": ident(s.id), "label": s.label, "type": _element_type(s.kind)})
        relations.append({"source": ident(s.id), "target": "strategy"})
    return {"name": e.requirement, "type": "justification", "elements": elements,
            "relations": relations}  # fmt: skip


def _steps(pattern: Pattern, e: Elicitation, passes: bool, judged_at: str) -> str:
    slots = {
        ident(s.id): {"slot": s.id, "state": s.state, "evidence": list(s.evidence),
                      "problems": list(s.problems)}
        for s in e.slots
    }  # fmt: skip
    lines = [
        f'"""Steps binding the jPipe diagram {e.requirement}.json to justify\'s judgement',
        f"of {judged_at}: generated by `justify export --format jpipe`; do not edit.",
        "",
        f"Requirement {e.requirement} ({e.status}) follows pattern {pattern.id}. Each",
        "evidence node passes when its slot is filled (or optional and empty); the",
        f"strategy passes as `justify check` lets {e.requirement} pass.",
        '"""',
        "",
        "from jpipe_runner.framework.decorators.jpipe_decorator import jpipe, jpipe_link",
        "",
        f"SLOTS = {json.dumps(slots, indent=4)}",
        f"REQUIREMENT_PASSES = {passes!r}  # no result about it at the fail_on level",
        f"PASSING = {PASSING_STATES!r}",
    ]
    for name in slots:
        lines += [
            "",
            "",
            f"@jpipe_link({name!r})",
            f"@jpipe(produce=[{name!r}])",
            f"def {name}(produce):",
            f"    produce({name!r}, SLOTS[{name!r}])",
            f'    return SLOTS[{name!r}]["state"] in PASSING',
        ]
    consumed = list(slots)
    lines += [
        "",
        "",
        '@jpipe_link("strategy")',
        f"@jpipe(consume={consumed!r})",
        f"def strategy({', '.join(consumed)}):",
        f"    supports = [{', '.join(consumed)}]",
        '    return REQUIREMENT_PASSES and all(s["state"] in PASSING for s in supports)',
        "",
    ]
    return "\n".join(lines)


def _justification_jd(pattern: Pattern, e: Elicitation) -> str:
    lines = [f"justification {ident(e.requirement)} implements {ident(pattern.id)} {{"]
    for s in e.slots:
        keyword = "sub-conclusion" if s.kind == "requirement" else "evidence"
        lines.append(f"    {keyword} {ident(s.id)} is {quote(f'{s.label} ({s.state})')}")
    lines.append("}")
    return "\n".join(lines) + "\n"
