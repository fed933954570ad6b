"""The graph store: one interface (``base``), two backends (``embedded``: an
Oxigraph database in a folder; ``server``: a SPARQL 1.1 server), and one place
that picks a backend for a 'store' setting, through a small registry.

A backend is a name, a test of the location ("is this a folder, a URL?") and an
opener; the first backend whose test accepts the location opens it. Callers only
ever see ``GraphStore``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from justify.config import Config
from justify.iris import judgement_graphs
from justify.store.base import (
    EXPORT_FORMATS,
    BackgroundLoader,
    GraphStore,
    GraphWriter,
    MemoryStore,
    QueryResult,
    Term,
)
from justify.store.embedded import EmbeddedStore

if TYPE_CHECKING:
    from justify.store.server import ServerSettings, SparqlStore

__all__ = [
    "BACKENDS",
    "EXPORT_FORMATS",
    "Backend",
    "BackgroundLoader",
    "EmbeddedStore",
    "GraphStore",
    "GraphWriter",
    "MemoryStore",
    "QueryResult",
    "ServerSettings",
    "SparqlStore",
    "Term",
    "is_server_location",
    "open_store",
]


@dataclass(frozen=True)
class Backend:
    """One kind of store: ``accepts`` a location, ``opens`` it (with the configuration
    when there is one, for the backend's own settings)."""

    name: str
    accepts: Callable[[str], bool]
    opens: Callable[[str, Config | None, bool], GraphStore]


def __getattr__(name: str) -> Any:
    # The server backend (and the HTTP client under it) loads when first named.
    if name in ("ServerSettings", "SparqlStore"):
        from justify.store import server

        return getattr(server, name)
    raise AttributeError(f"module 'justify.store' has no attribute {name!r}")


def is_server_location(location: str) -> bool:
    """Whether a 'store' setting names a SPARQL server (a URL), not a folder."""
    return location.startswith(("http://", "https://"))


def _open_server(location: str, config: Config | None, read_only: bool) -> GraphStore:
    from justify.store.server import ServerSettings, SparqlStore

    if config is None:
        return SparqlStore(ServerSettings(query_url=location), read_only=read_only)
    settings = ServerSettings(
        query_url=location,
        update_url=config.store_update_url,
        graph_store_url=config.store_graph_store_url,
        timeout=config.number("store_timeout"),
        batch_size=int(config.number("store_batch_size")),
    )
    return SparqlStore(settings, read_only=read_only)


def _open_embedded(location: str, config: Config | None, read_only: bool) -> GraphStore:
    # The judgement's own graphs are kept apart from the data a check starts from.
    apart = judgement_graphs(config.base_iri) if config is not None else ()
    return EmbeddedStore(location, read_only=read_only, apart=apart)


# Tried in order: the first that accepts the location opens it.
BACKENDS: list[Backend] = [
    Backend("server", is_server_location, _open_server),
    Backend("embedded", lambda _location: True, _open_embedded),
]


def open_store(where: Config | str | Path, *, read_only: bool = False) -> GraphStore:
    """Open the store a configuration (or a bare 'store' setting: folder or URL) names.

    ``read_only`` stores refuse to write (the explorer opens its store so).
    """
    config = where if isinstance(where, Config) else None
    location = where.store_location if isinstance(where, Config) else str(where)
    backend = next(b for b in BACKENDS if b.accepts(location))
    return backend.opens(location, config, read_only)
