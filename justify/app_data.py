"""The explorer's data access: ``justify.explore`` behind Streamlit's caches.

The store is a cached resource (one per location). Query results are cached
data keyed by the store's version, which changes whenever an import or a check
publishes: after ``justify sync`` a refresh shows the new data, and until then
the explorer keeps reading the generation it has open. Pages call these
functions and only draw.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from justify import explore
from justify._elicit import PatternConformance
from justify._query import canned_queries
from justify.config import Config, load_config
from justify.judgement import ShipVerdict
from justify.store import GraphStore, QueryResult, open_store


@st.cache_resource(show_spinner=False)
def _config(config_file: str | None, store: str | None, cwd: str) -> Config:
    overrides = {"store": store} if store else None
    return load_config(config_file, cwd=cwd, overrides=overrides)


@st.cache_resource(show_spinner=False)
def _store(location: str) -> GraphStore:
    # The explorer never writes: the store refuses write blocks, and the console
    # refuses updates before they reach it.
    return open_store(config(), read_only=True)


def config() -> Config:
    """The project the explorer shows (``justify app`` passes it in the environment)."""
    return _config(os.environ.get("JUSTIFY_CONFIG"), os.environ.get("JUSTIFY_STORE"), os.getcwd())


def store() -> GraphStore:
    return _store(config().store_location)


def _key() -> tuple[str, str, str]:
    cfg = config()
    return cfg.store_location, cfg.base_iri, store().version()


@st.cache_data(show_spinner=False, max_entries=64)
def _overview(location: str, base: str, version: str) -> explore.Overview:
    return explore.overview(_store(location), base)


@st.cache_data(show_spinner=False, max_entries=64)
def _requirements(location: str, base: str, version: str) -> list[explore.Row]:
    return explore.requirements(_store(location), base)


@st.cache_data(show_spinner=False, max_entries=256)
def _requirement(
    location: str, base: str, version: str, rid: str
) -> explore.RequirementView | None:
    return explore.requirement_view(_store(location), base, rid)


@st.cache_data(show_spinner=False, max_entries=16)
def _patterns(location: str, base: str, version: str) -> list[PatternConformance]:
    return explore.pattern_conformance(_store(location), base)


@st.cache_data(show_spinner=False, max_entries=16)
def _models(location: str, base: str, version: str) -> list[ShipVerdict]:
    return explore.models(_store(location), base)


@st.cache_data(show_spinner=False, max_entries=64)
def _runs(location: str, base: str, version: str, text: str, limit: int) -> list[explore.Row]:
    return explore.runs(_store(location), text=text, limit=limit)


@st.cache_data(show_spinner=False, max_entries=256)
def _run(location: str, base: str, version: str, run_id: str) -> explore.RunView | None:
    return explore.run_view(_store(location), run_id)


@st.cache_data(show_spinner=False, max_entries=64)
def _commits(location: str, base: str, version: str, text: str, limit: int) -> list[explore.Row]:
    return explore.commits(_store(location), text=text, limit=limit)


@st.cache_data(show_spinner=False, max_entries=256)
def _commit(location: str, base: str, version: str, sha: str) -> explore.CommitView | None:
    return explore.commit_view(_store(location), sha)


@st.cache_data(show_spinner=False, max_entries=256)
def _neighbourhood(
    location: str, base: str, version: str, iri: str, limit: int
) -> explore.Neighbourhood:
    return explore.neighbourhood(_store(location), iri, limit=limit)


def overview() -> explore.Overview:
    return _overview(*_key())


def requirements() -> list[explore.Row]:
    return _requirements(*_key())


def requirement(rid: str) -> explore.RequirementView | None:
    return _requirement(*_key(), rid)


def models() -> list[ShipVerdict]:
    return _models(*_key())


def patterns() -> list[PatternConformance]:
    return _patterns(*_key())


def runs(text: str = "", limit: int = 500) -> list[explore.Row]:
    return _runs(*_key(), text, limit)


def run(run_id: str) -> explore.RunView | None:
    return _run(*_key(), run_id)


def commits(text: str = "", limit: int = 500) -> list[explore.Row]:
    return _commits(*_key(), text, limit)


def commit(sha: str) -> explore.CommitView | None:
    return _commit(*_key(), sha)


def neighbourhood(iri: str, limit: int) -> explore.Neighbourhood:
    return _neighbourhood(*_key(), iri, limit)


def examples() -> dict[str, str]:
    """The canned queries of ``justify/queries/``, as console examples."""
    return {f"{q.title} ({name})": q.text for name, q in canned_queries().items()}


def console(sparql: str) -> QueryResult:
    """Not cached: the analyst asked for this run, and limits apply each time."""
    cfg = config()
    return explore.console_query(
        cfg,
        sparql,
        row_limit=int(cfg.number("console_row_limit")),
        time_limit=cfg.number("console_time_limit"),
    )


def table(rows: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    """Rows reduced to ``columns``, in that order, for st.dataframe."""
    return [{c: row.get(c) for c in columns} for row in rows]


def prefixed(iri: str) -> str:
    """An IRI as the explorer shows it: a prefixed name (jf:, prov:, dcterms:) where a
    known prefix fits, the project's own IRIs relative to its base."""
    from pyoxigraph import NamedNode

    from justify._query import term_text

    return term_text(NamedNode(iri), compact=True, base=config().base_iri)
