"""``justify sync``: rebuild the graph from every configured source, in order."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

from justify.config import Config, load_config
from justify.importers.git import GitImportSummary, import_git
from justify.importers.mlflow import MlflowImportSummary, import_mlflow
from justify.load import LoadSummary, load
from justify.store import GraphStore, open_store

Summary: TypeAlias = LoadSummary | MlflowImportSummary | GitImportSummary


def sync(
    *,
    full: bool = False,
    config: Config | None = None,
    store: GraphStore | None = None,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
) -> list[Summary]:
    """Load the requirement files, then import MLflow, then Git.

    A source that is not configured (no MLflow tracking URI, no repository) is
    skipped and said so. Git comes last: it reports runs whose commit it lacks.
    """
    config = config or load_config()
    store = store or open_store(config)
    say = echo or (lambda _text: None)
    done: list[Summary] = [load(config=config, store=store)]
    say(str(done[-1]))
    if config.mlflow_tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"):
        done.append(import_mlflow(full=full, config=config, store=store, progress=progress))
        say(str(done[-1]))
    else:
        say("mlflow: skipped (no tracking URI: set 'mlflow_tracking_uri' or MLFLOW_TRACKING_URI)")
    if config.origins.get("git_repo", "default") == "default" and not _inside_git(
        config.path(config.git_repo)
    ):
        # Only the default may be skipped: a project not (yet) under Git. A repository
        # the user named and that cannot be read is an error, or CI would pass without
        # the Git evidence it was told to import.
        say("git: skipped (the project is not a Git repository; set 'git_repo' to import one)")
        return done
    done.append(import_git(full=full, config=config, store=store, progress=progress))
    say(str(done[-1]))
    return done


def _inside_git(folder: Path) -> bool:
    """Whether ``folder`` lies in a Git work tree (a .git entry there or above)."""
    folder = folder.resolve()
    return any((p / ".git").exists() for p in (folder, *folder.parents))
