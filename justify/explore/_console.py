"""The SPARQL console: an analyst's query, read-only, limited in rows and time."""

from __future__ import annotations

import pickle
import subprocess
import sys

from justify._query import query_kind, refuse_service, with_prefixes
from justify.config import Config
from justify.errors import QueryError, StoreError
from justify.store import QueryResult


def console_query(config: Config, sparql: str, *, row_limit: int, time_limit: float) -> QueryResult:
    """Run an analyst's query read-only, with a row limit and a time limit.

    An update or a SERVICE pattern is refused before anything runs. The query runs in
    a child process (``justify.console_worker``) on a read-only handle of the store;
    past the time limit the child is killed, so an abandoned query costs nothing."""
    if query_kind(sparql) == "update":
        raise QueryError(
            "the console only reads: this is a SPARQL Update",
            hint="change the graph through its sources and `justify sync`; "
            "use SELECT, ASK, CONSTRUCT or DESCRIBE here",
        )
    refuse_service(sparql, "the console's query")
    request = pickle.dumps((config, with_prefixes(sparql), row_limit))
    child = subprocess.Popen(
        [sys.executable, "-m", "justify.console_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = child.communicate(request, timeout=time_limit)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise QueryError(
            f"the query did not finish within {time_limit:g} s (the console's time limit); "
            "it was stopped",
            hint="narrow it with more selective patterns or a LIMIT, or raise console_time_limit",
        ) from None
    finally:
        if child.poll() is None:  # the session ended while waiting (Streamlit stops it)
            child.kill()
            child.wait()
    if child.returncode != 0 or not out:
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no answer"]
        raise QueryError(f"the query failed: {last[0][:300]}")
    answer = pickle.loads(out)
    if answer[0] == "ok":
        result: QueryResult = answer[1]
        return result
    _, kind, message, hint = answer
    raise (StoreError if kind == "StoreError" else QueryError)(message, hint=hint)
