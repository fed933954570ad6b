"""Shared by the explorer's readers: row shape, status orders and colours."""

from __future__ import annotations

from justify._query import run_query
from justify.store import GraphStore

Row = dict[str, str | None]
# Every status a requirement is shown with, worst first: what an auditor should look at
# before anything else. (Declared statuses are requirements.DECLARED_STATUSES.)
SHOWN_STATUSES = ("failing", "unjustified", "stale", "unchecked", "justified", "draft", "retired")
STATUS_ORDER = {status: i for i, status in enumerate(SHOWN_STATUSES)}
STATUS_COLOURS = {
    "justified": "#2e7d32",
    "failing": "#c62828",
    "unjustified": "#ef6c00",
    "stale": "#f9a825",
    "unchecked": "#6d4c41",
    "draft": "#757575",
    "retired": "#9e9e9e",
}
VERDICT_COLOURS = {
    "ship": "#2e7d32",
    "ship with warnings": "#f9a825",
    "do not ship": "#c62828",
}
SEVERITY_ORDER = {"violation": 0, "warning": 1, "info": 2}
SH = "http://www.w3.org/ns/shacl#"


def _rows(store: GraphStore, sparql: str) -> list[Row]:
    return run_query(store, sparql).values()


def store_version(store: GraphStore) -> str:
    """Changes whenever an import or a check writes: the key of the explorer's caches."""
    return store.version()
