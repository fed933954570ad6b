"""``justify init``: a configuration, an example requirement file, and .gitignore."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from justify._patterns import Pattern
from justify.config import CONFIG_FILE, PYPROJECT, all_settings, find_config_file
from justify.errors import UsageError


@dataclass
class InitResult:
    """Files ``init`` created or changed, and those it left as they were."""

    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def config_text(*, table: str | None = None) -> str:
    """The commented settings block, one line per setting of the settings table."""
    lines = [f"[{table}]"] if table else []
    lines.append("# Every setting also has an environment variable; secrets live only there.")
    for s in all_settings().values():
        lines.append(f"# {s.help} (env {s.env})")
        if s.default is None:
            lines.append(f'# {s.name} = ""')
        elif s.is_list:
            inner = ", ".join(f'"{v}"' for v in s.default)
            lines.append(f"{s.name} = [{inner}]")
        else:
            lines.append(f'{s.name} = "{s.default}"')
    return "\n".join(lines) + "\n"


def template(name: str) -> str:
    return (resources.files("justify") / "templates" / name).read_text(encoding="utf-8")


def pattern_requirement(pattern: Pattern) -> str:
    """A draft requirement that follows ``pattern``, with each support slot written out
    as a commented block saying what fills it and how to produce it."""
    kind = pattern.kinds[0] if pattern.kinds else "other"
    rid = "REQ-" + "".join(c if c.isalnum() else "-" for c in pattern.id.upper()) + "-1"
    lines = [
        f"# A requirement scaffolded from the justification pattern '{pattern.id}'.",
        f"# Strategy: {pattern.strategy}",
        f"# Rationale: {pattern.rationale}",
        f"# Usage domain: {pattern.usage_domain}",
        "# Fill in each support below, then set `status: approved`; `justify patterns`",
        "# lists the pattern, `justify load` loads this file.",
        "requirements:",
        f"  - id: {rid}",
        f"    title: {json.dumps(pattern.title)}",
        f"    kind: {kind}",
        "    status: draft",
        f"    pattern: {pattern.id}",
        '    statement: "State the requirement in one sentence."',
    ]
    for slot in pattern.supports:
        optional = ", optional" if slot.optional else ""
        lines.append(f"    # support '{slot.id}' ({slot.kind}{optional}): {slot.label}")
        if slot.how:
            lines.append(f"    #   how: {slot.how}")
        if slot.kind == "criterion":
            lines += [
                "    # criteria:",
                "    #   - metric: <the metric's key, as logged>",
                '    #     op: ">="',
                "    #     threshold: <a number>",
                "    #     dataset: test",
            ]
        elif slot.kind == "attestation":
            lines += [
                "    # attestations:",
                "    #   - by: <name>",
                f"    #     role: {slot.selector.get('role', '<role>')}",
                "    #     date: <YYYY-MM-DD>",
                "    #     statement: <what was checked>",
            ]
    return "\n".join(lines) + "\n"


def init(directory: str | Path = ".", *, pattern: str | None = None) -> InitResult:
    """Scaffold a justify project in ``directory``; existing files are never overwritten.
    With ``pattern``, also write ``requirements/<pattern>.yaml``: a draft requirement
    that follows that justification pattern, its slots written out."""
    root = Path(directory).resolve()
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file, not a folder")
    chosen = _pattern(root, pattern) if pattern is not None else None  # before any write
    root.mkdir(parents=True, exist_ok=True)
    result = InitResult()

    existing = find_config_file(root)
    if existing is not None and existing.parent == root:
        result.kept.append(existing)
    elif (root / PYPROJECT).is_file():
        pyproject = root / PYPROJECT
        text = pyproject.read_text(encoding="utf-8")
        sep = "" if text.endswith("\n") else "\n"
        pyproject.write_text(
            text + sep + "\n" + config_text(table="tool.justify"), encoding="utf-8"
        )
        result.created.append(pyproject)
    else:
        (root / CONFIG_FILE).write_text(config_text(), encoding="utf-8")
        result.created.append(root / CONFIG_FILE)

    folder = root / "requirements"
    folder.mkdir(exist_ok=True)
    if any(folder.rglob("*.y*ml")):
        result.kept.append(folder)
    else:
        example = folder / "example.yaml"
        example.write_text(template("example.yaml"), encoding="utf-8")
        result.created.append(example)

    gitignore = root / ".gitignore"
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    if any(line.strip().rstrip("/") in (".justify", "/.justify") for line in lines):
        result.kept.append(gitignore)
    else:
        lines += [
            "# the justify graph store, rebuilt from the sources by `justify load`",
            ".justify/",
        ]
        gitignore.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result.created.append(gitignore)
    if chosen is not None:
        target = folder / f"{chosen.id}.yaml"
        if target.exists():
            result.kept.append(target)
        else:
            target.write_text(pattern_requirement(chosen), encoding="utf-8")
            result.created.append(target)
    return result


def _pattern(root: Path, name: str) -> Pattern:
    """The pattern ``name``: built-in, or from the project's ``patterns`` setting."""
    from justify._patterns import read_patterns
    from justify.config import load_config

    found = find_config_file(root) if root.is_dir() else None
    config = load_config(found) if found is not None else None
    extra = [config.path(p) for p in config.patterns] if config is not None else []
    known = read_patterns(extra, root=root)
    if name not in known:
        raise UsageError(
            f"no justification pattern '{name}'",
            hint="known patterns: " + ", ".join(sorted(known)) + " (`justify patterns`)",
        )
    return known[name]
