"""jPipe's ``.jd`` language for justify's patterns: a pattern written as a jPipe
``pattern`` block (slots as ``@support``), and ``pattern`` blocks read back as pattern
structure whose evidence selectors a YAML pattern of the same id binds by slot id."""

from __future__ import annotations

import re
from pathlib import Path

from justify._patterns import Pattern, Slot
from justify.errors import Problem, RequirementFileError


def ident(text: str) -> str:
    """A jPipe and Python identifier for an id (``attributes-reviewed`` ->
    ``attributes_reviewed``, ``REQ-FAIR-1`` -> ``REQ_FAIR_1``)."""
    out = re.sub(r"\W", "_", text)
    return out if re.match(r"[A-Za-z_]", out) else f"_{out}"


def quote(text: str) -> str:
    return '"' + " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"') + '"'


def pattern_jd(pattern: Pattern) -> str:
    """A justify pattern as a jPipe ``pattern``: slots are ``@support`` (abstract
    supports that each justification fills)."""
    lines = [f"// {pattern.title}", f"pattern {ident(pattern.id)} {{"]
    for slot in pattern.supports:
        lines.append(f"    @support {ident(slot.id)} is {quote(slot.label)}")
    lines.append(f"    strategy strategy is {quote(pattern.strategy)}")
    for slot in pattern.supports:
        lines.append(f"    {ident(slot.id)} supports strategy")
    lines.append(f"    conclusion conclusion is {quote(pattern.conclusion)}")
    lines.append("    strategy supports conclusion")
    lines.append("}")
    return "\n".join(lines) + "\n"


_PATTERN = re.compile(r"pattern\s+(\w+)\s*\{(.*?)\n\s*\}", re.S)
_DECLARATION = re.compile(
    r"^\s*(@support|evidence|strategy|conclusion|sub-conclusion)\s+(\w+)\s+is\s+\"((?:[^\"\\]|\\.)*)\"",
    re.M,
)


def read_jd_patterns(path: Path, bindings: dict[str, dict[str, Slot]], *,
                     shown: str | None = None) -> dict[str, Pattern]:  # fmt: skip
    """The ``pattern`` blocks of a jPipe file as justify patterns: their structure
    (conclusion, strategy, ``@support`` and evidence slots) from the ``.jd``, each slot's
    evidence selector from ``bindings`` (pattern id -> slot id -> a slot read from a
    YAML pattern file). A slot without a binding is a ``file:line`` problem."""
    shown = shown or str(path)
    text = path.read_text(encoding="utf-8")
    problems: list[Problem] = []
    found: dict[str, Pattern] = {}
    for match in _PATTERN.finditer(text):
        pid, body = match.group(1), match.group(2)
        bound_slots = {ident(k): v for k, v in bindings.get(pid, {}).items()}
        base_line = text.count("\n", 0, match.start()) + 1
        conclusion = strategy = None
        slots: list[Slot] = []
        for d in _DECLARATION.finditer(body):
            keyword, name, label = d.group(1), d.group(2), d.group(3).replace('\\"', '"')
            line = base_line + body.count("\n", 0, d.start(1))
            if keyword == "conclusion":
                conclusion = label
            elif keyword == "strategy":
                strategy = label
            else:
                bound = bound_slots.get(name)
                if bound is None:
                    problems.append(Problem(shown, line, f"slot '{name}' of pattern '{pid}' has "
                                            "no evidence selector; bind it by slot id in a "
                                            "pattern YAML file"))  # fmt: skip
                    continue
                slots.append(Slot(id=bound.id, label=label, kind=bound.kind,
                                  selector=bound.selector, optional=bound.optional,
                                  how=bound.how, line=line))  # fmt: skip
        if conclusion is None or strategy is None:
            problems.append(
                Problem(shown, base_line, f"pattern '{pid}' needs a conclusion and a strategy")
            )
            continue
        found[pid] = Pattern(id=pid, title=conclusion, conclusion=conclusion, strategy=strategy,
                             rationale="", usage_domain="", supports=tuple(slots),
                             file=shown, line=base_line)  # fmt: skip
    if problems:
        raise RequirementFileError(problems, what="jPipe files")
    return found
