"""``justify demo``: a small fraud-detection workspace, loaded and queried end to end."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from justify.config import Config, load_config
from justify.errors import UsageError
from justify.load import LoadSummary, load
from justify.query import query
from justify.store import QueryResult

MARKER = ".justify-demo"


@dataclass
class DemoResult:
    """The demo workspace and what was done in it."""

    directory: Path
    config: Config
    loaded: LoadSummary
    requirements: QueryResult
    unjustified: QueryResult


def _copy_tree(source: Traversable, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.is_dir():
            _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


def build_workspace(directory: str | Path) -> Path:
    """Write the demo files into ``directory`` (a new folder, or an earlier demo's)."""
    root = Path(directory).resolve()
    if root.exists() and any(root.iterdir()) and not (root / MARKER).exists():
        raise UsageError(
            f"{root} exists and is not a justify demo workspace; the demo will not write into it",
            hint="give another folder: justify demo DIRECTORY",
        )
    if (root / "requirements").exists():
        shutil.rmtree(root / "requirements")  # the demo's own files, rewritten fresh
    _copy_tree(resources.files("justify") / "templates" / "demo", root)
    (root / MARKER).write_text("made by `justify demo`; safe to delete\n", encoding="utf-8")
    return root


def demo(
    directory: str | Path = "justify-demo",
    *,
    echo: Callable[[str], None] | None = None,
) -> DemoResult:
    """Build the demo workspace, load its requirements, and query the graph."""
    say = echo or (lambda _text: None)
    root = build_workspace(directory)
    say(f"demo workspace: {root}")
    config = load_config(root / "justify.toml")
    loaded = load(config=config)
    say(str(loaded))
    return DemoResult(
        directory=root,
        config=config,
        loaded=loaded,
        requirements=query("requirements", config=config),
        unjustified=query("unjustified", config=config),
    )
