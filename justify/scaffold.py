"""``justify init``: a configuration, an example requirement file, and .gitignore."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

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


def init(directory: str | Path = ".") -> InitResult:
    """Scaffold a justify project in ``directory``; existing files are never overwritten."""
    root = Path(directory).resolve()
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file, not a folder")
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
    return result
