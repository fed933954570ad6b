"""Reading one MLflow tracking source through MLflow's own client: the URI, paging,
and MLflow's errors turned into messages naming the source."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from justify.config import Config
from justify.errors import SourceUnavailable, UsageError
from justify.progress import Progress
from justify.urls import strip_credentials

PAGE_SIZE = 1000
HISTORY_THREADS = 8  # concurrent get_metric_history calls; a server answers them in parallel
# MLflow retries an unreachable server for minutes by default; fail in seconds
# unless the user set MLflow's own variables.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


@contextlib.contextmanager
def _http_defaults() -> Iterator[None]:
    added = [k for k in HTTP_DEFAULTS if k not in os.environ]
    for key in added:
        os.environ[key] = HTTP_DEFAULTS[key]
    try:
        with quiet_mlflow():
            yield
    finally:
        for key in added:
            os.environ.pop(key, None)


@contextlib.contextmanager
def quiet_mlflow() -> Iterator[None]:
    """MLflow's INFO lines (creating tables, ...) are not the user's business here."""
    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _unavailable(uri: str, exc: BaseException) -> SourceUnavailable:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    code = str(getattr(exc, "error_code", ""))
    if code in ("UNAUTHENTICATED", "PERMISSION_DENIED") or re.search(r"\b40[13]\b", str(exc)):
        return SourceUnavailable(
            f"the MLflow server at {uri} refused the request ({text[:200]})",
            hint="check the credentials in MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD "
            "or MLFLOW_TRACKING_TOKEN, and that they may read these experiments",
        )
    return SourceUnavailable(
        f"cannot read MLflow at {uri}: {text[:300]}",
        hint="check that the tracking server is running and the URI is right "
        "(--tracking-uri, the 'mlflow_tracking_uri' setting or MLFLOW_TRACKING_URI); "
        "the graph keeps what the last import wrote",
    )


def _pages(call: Callable[..., Any], **kwargs: Any) -> Iterator[Any]:
    """Every item of a paged MLflow search: always follow the page token."""
    token = None
    while True:
        page = call(page_token=token, **kwargs)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def resolve_tracking_uri(tracking_uri: str | None, config: Config) -> str:
    uri = tracking_uri or config.get("mlflow_tracking_uri") or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise UsageError(
            "no MLflow tracking URI is set",
            hint="give --tracking-uri, set 'mlflow_tracking_uri' in the configuration, "
            "or set MLFLOW_TRACKING_URI",
        )
    display = strip_credentials(uri)
    try:
        scheme = urllib.parse.urlsplit(uri).scheme.lower().split("+", 1)[0]
    except ValueError as exc:
        raise UsageError(
            f"the MLflow tracking URI {display!r} is not a valid URL ({exc})", hint=_URI_HINT
        ) from exc
    if scheme == "":
        raise UsageError(
            f"the MLflow tracking URI {display!r} is not a URL (it has no scheme, and MLflow "
            "would take it for a file-store folder)",
            hint=_URI_HINT,
        )
    if scheme == "file":
        raise UsageError(
            f"the MLflow tracking URI {display!r} names a file store, which MLflow no longer "
            "serves and justify does not read",
            hint=_URI_HINT,
        )
    if scheme not in TRACKING_SCHEMES:
        raise UsageError(
            f"the MLflow tracking URI {display!r} has the unsupported scheme '{scheme}'",
            hint=_URI_HINT,
        )
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        path = path if path.is_absolute() or uri.startswith("sqlite:////") else config.root / path
        if not uri.startswith("sqlite:////"):
            uri = "sqlite:///" + str(path)
        if not path.is_file():
            raise SourceUnavailable(
                f"no MLflow database at {path} (from {strip_credentials(uri)})",
                hint="check the path; MLflow would silently create an empty database there",
            )
        _check_mlflow_database(path)
    return uri


TRACKING_SCHEMES = frozenset(
    ("sqlite", "http", "https", "postgresql", "mysql", "mssql", "databricks", "databricks-uc", "uc")
)
_URI_HINT = (
    "use a tracking server (http://HOST:PORT) or MLflow's database (sqlite:///mlflow.db, "
    "postgresql://...), via --tracking-uri, the 'mlflow_tracking_uri' setting or "
    "MLFLOW_TRACKING_URI"
)


def _check_mlflow_database(path: Path) -> None:
    """A source is only read: MLflow's client would create its tables inside any file it
    is given (an empty file, a typo'd path), so the file is looked at first, read-only."""
    try:
        connection = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = {row[0] for row in rows}
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise SourceUnavailable(
            f"{path} is not an SQLite database ({exc})",
            hint="point the tracking URI at the database MLflow writes (its --backend-store-uri)",
        ) from exc
    if not {"experiments", "runs"} <= tables:
        raise SourceUnavailable(
            f"{path} holds no MLflow tables; justify only reads tracking stores and will not "
            "let MLflow create them there",
            hint="check the path: it should be the database of an MLflow tracking store",
        )


class MlflowReader:
    """Reads one tracking source through MLflow's own client; every call is guarded
    so that MLflow, HTTP and SQL errors become ``SourceUnavailable`` naming the URI."""

    def __init__(self, uri: str, *, progress: bool = True) -> None:
        from mlflow import MlflowClient  # imported here: mlflow is slow to import

        self.uri = uri
        self.display = strip_credentials(uri)
        self.client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        self.progress = progress

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        try:
            with _http_defaults():
                yield
        except (UsageError, SourceUnavailable):
            raise
        except Exception as exc:  # MLflow, HTTP and SQL errors alike
            raise _unavailable(self.display, exc) from exc

    def experiments(self, names: Sequence[str]) -> list[Any]:
        from mlflow.entities import ViewType

        with self.guard():
            found = list(
                _pages(
                    self.client.search_experiments, view_type=ViewType.ALL, max_results=PAGE_SIZE
                )
            )
        if not names:
            return found
        known = {e.name: e for e in found}
        missing = [n for n in names if n not in known]
        if missing:
            listed = ", ".join(repr(m) for m in missing)
            raise UsageError(
                f"no experiment named {listed} at {self.display}",
                hint="experiments there: " + ", ".join(sorted(known)),
            )
        return [known[n] for n in names]

    def runs(
        self,
        ids: list[str],
        *,
        since_ms: int | None,
        running: Iterable[str],
    ) -> Iterator[list[Any]]:
        """Every active run (or, incrementally, every changed one), a page at a time."""
        from mlflow.entities import ViewType

        filters = [""]
        if since_ms is not None:
            filters = [
                f"attributes.start_time > {since_ms}",
                f"attributes.end_time > {since_ms}",
                "attributes.status = 'RUNNING'",
            ]
            # Runs that were running at the last import may have ended with an
            # end time (a client's clock) before the watermark.
            pending = sorted(running)
            for i in range(0, len(pending), 100):
                quoted = ", ".join(f"'{r}'" for r in pending[i : i + 100])
                filters.append(f"attributes.run_id IN ({quoted})")
        seen: set[str] = set()
        progress = Progress("mlflow runs", enabled=self.progress)
        with self.guard():
            for filter_string in filters:
                token = None
                while True:
                    page = self.client.search_runs(
                        ids,
                        filter_string=filter_string,
                        run_view_type=ViewType.ACTIVE_ONLY,
                        max_results=PAGE_SIZE,
                        page_token=token,
                    )
                    fresh = [r for r in page if r.info.run_id not in seen]
                    seen.update(r.info.run_id for r in fresh)
                    if fresh:
                        yield fresh
                        progress.advance(len(fresh))
                    token = page.token
                    if not token:
                        break
        progress.done()

    def deleted_run_ids(self, ids: list[str]) -> set[str]:
        from mlflow.entities import ViewType

        with self.guard():
            return {
                r.info.run_id
                for r in _pages(
                    self.client.search_runs,
                    experiment_ids=ids,
                    run_view_type=ViewType.DELETED_ONLY,
                    max_results=PAGE_SIZE,
                )
            }

    def logged_models(self, ids: list[str]) -> list[Any]:
        if not ids:
            return []
        with self.guard():
            return list(
                _pages(self.client.search_logged_models, experiment_ids=ids, max_results=100)
            )

    def registry(self) -> tuple[list[Any], list[Any]]:
        with self.guard():
            models = list(_pages(self.client.search_registered_models, max_results=100))
            versions = list(_pages(self.client.search_model_versions, max_results=PAGE_SIZE))
        return models, versions

    def histories(self, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], list[Any]]:
        """One call per run and key (MLflow has no bulk call): a few at a time."""
        progress = Progress("metric histories", total=len(wanted), enabled=self.progress)
        result = {}
        with self.guard(), ThreadPoolExecutor(max_workers=HISTORY_THREADS) as pool:
            calls = {
                pool.submit(self.client.get_metric_history, run_id, key): (run_id, key)
                for run_id, key in wanted
            }
            for done in as_completed(calls):
                result[calls[done]] = done.result()
                progress.advance()
        progress.done()
        return result
