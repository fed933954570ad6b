"""Runs one query of the explorer's console in a child process.

Oxigraph cannot cancel a running query, and a thread cannot be stopped: a query
left running in the explorer's process kept a core busy for good. A child process
can be ended, so the console's time limit really stops the query, and the
explorer's process stays free for its other users meanwhile.

The parent writes a pickled (Config, SPARQL text, row limit) to standard input;
the child answers a pickled ("ok", QueryResult) or ("error", kind, message, hint).
"""

from __future__ import annotations

import pickle
import sys


def main() -> None:
    from justify.errors import JustifyError
    from justify.store import open_store
    from justify.urls import redact_logs

    redact_logs()
    config, sparql, row_limit = pickle.loads(sys.stdin.buffer.read())
    try:
        result = open_store(config, read_only=True).query(sparql, max_rows=row_limit)
        answer: tuple[object, ...] = ("ok", result)
    except JustifyError as exc:
        answer = ("error", type(exc).__name__, exc.message, exc.hint)
    sys.stdout.buffer.write(pickle.dumps(answer))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
