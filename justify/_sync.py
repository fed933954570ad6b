"""``justify sync``: rebuild the graph from every configured source, in order."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from justify._load import LoadSummary, load
from justify.config import Config, load_config
from justify.importers import ImportSummary, registered_importers, run_import
from justify.store import GraphStore, open_store

Summary: TypeAlias = LoadSummary | ImportSummary


def sync(
    *,
    full: bool = False,
    config: Config | None = None,
    store: GraphStore | None = None,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
) -> list[Summary]:
    """Load the requirement files, then run every registered importer in its order.

    An importer whose source is not configured (no MLflow tracking URI, a project
    outside Git) is skipped and said so; any other error stops the sync.
    """
    config = config or load_config()
    store = store or open_store(config)
    say = echo or (lambda _text: None)
    done: list[Summary] = [load(config=config, store=store)]
    say(str(done[-1]))
    for name, importer in registered_importers().items():
        reason = importer.skip_reason(config)
        if reason:
            say(f"{name}: skipped ({reason})")
            continue
        done.append(run_import(name, full=full, config=config, store=store, progress=progress))
        say(str(done[-1]))
    return done
