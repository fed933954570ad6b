"""The HTTP side of the server backend: credentials from the environment, retries of
transient answers, and errors that name the URL and never a secret."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any

import requests
from requests.auth import HTTPDigestAuth, _basic_auth_str

from justify.errors import QueryError, StoreError, UsageError
from justify.urls import strip_credentials

ENV_USER = "JUSTIFY_STORE_USER"
ENV_PASSWORD = "JUSTIFY_STORE_PASSWORD"
ENV_TOKEN = "JUSTIFY_STORE_TOKEN"

_TRANSIENT = {429, 502, 503, 504}


@dataclass(frozen=True)
class ServerSettings:
    """Where a server answers and how hard justify may push it."""

    query_url: str
    update_url: str | None = None  # default: the query URL (most servers take both)
    graph_store_url: str | None = None  # SPARQL 1.1 Graph Store Protocol, for bulk I/O
    timeout: float = 120.0  # seconds one request may take
    batch_size: int = 20_000  # triples per write request
    retries: int = 3  # attempts after a transient failure (refused connection, 502-504)


class _ServerAuth(HTTPDigestAuth):
    """HTTP basic or digest, whichever the server asks for in its challenge.

    requests' digest handler answers a Digest challenge (Virtuoso's /sparql-auth
    sends one); a Basic challenge is answered here, and basic is then sent at once.
    """

    def __init__(self, username: str, password: str) -> None:
        super().__init__(username, password)
        self.basic = False

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.basic:
            r.headers["Authorization"] = _basic_auth_str(self.username, self.password)
            return r
        r = super().__call__(r)
        r.register_hook("response", self._answer_basic)
        return r

    def _answer_basic(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        challenge = r.headers.get("www-authenticate", "").lower()
        if r.status_code != 401 or not challenge.startswith("basic") or self.basic:
            return r
        self.basic = True
        r.content  # noqa: B018 - read the body so the connection can be reused
        r.close()
        again = r.request.copy()
        again.headers["Authorization"] = _basic_auth_str(self.username, self.password)
        answer = r.connection.send(again, **kwargs)
        answer.history.append(r)
        answer.request = again
        return answer


class _Http:
    """One session to the server: credentials, time limits, retries and error text."""

    def __init__(self, settings: ServerSettings, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        for url in (settings.query_url, settings.update_url, settings.graph_store_url):
            if url and strip_credentials(url) != url:
                raise UsageError(
                    f"the store URL {strip_credentials(url)} carries credentials",
                    hint=f"remove them from the URL and set {ENV_USER} and {ENV_PASSWORD} "
                    f"(or {ENV_TOKEN}) in the environment",
                )
        self.settings = settings
        self.session = requests.Session()
        self.auth: requests.auth.AuthBase | None = None
        if env.get(ENV_TOKEN):
            self.session.headers["Authorization"] = f"Bearer {env[ENV_TOKEN]}"
        elif env.get(ENV_USER):
            self.auth = _ServerAuth(env[ENV_USER], env.get(ENV_PASSWORD, ""))
        self.session.headers["User-Agent"] = "justify"

    def send(
        self,
        url: str,
        *,
        what: str,
        method: str = "POST",
        data: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        query: bool = False,
        missing_ok: bool = False,
        failure_ok: bool = False,
    ) -> requests.Response:
        """One request, retried on transient failures; errors become StoreError or QueryError
        (``failure_ok``: a server error, 500 and up, is returned for the caller to handle)."""
        s = self.settings
        for attempt in range(s.retries + 1):
            try:
                response = self.session.request(
                    method,
                    url,
                    data=data,
                    params=params,
                    headers=headers,
                    timeout=s.timeout,
                    auth=self.auth,
                )
            except requests.Timeout as exc:
                raise StoreError(
                    f"the SPARQL server at {url} did not answer within {s.timeout:g} s ({what})",
                    hint="raise the store_timeout setting, or check the server's load",
                ) from exc
            except requests.RequestException as exc:
                if attempt < s.retries:
                    time.sleep(0.5 * 2**attempt)
                    continue
                raise StoreError(
                    f"cannot reach the SPARQL server at {url} ({what}): {_reason(exc)}",
                    hint="check that the server runs and that the 'store' setting names it",
                ) from exc
            if response.status_code in _TRANSIENT and attempt < s.retries:
                time.sleep(0.5 * 2**attempt)
                continue
            if missing_ok and response.status_code == 404:
                return response
            if not (failure_ok and response.status_code >= 500):
                _raise_for(response, url, what, query=query)
            return response
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _reason(exc: Exception) -> str:
    text = str(exc)
    match = re.search(
        r"\[Errno -?\d+\] ([^'\")]+)|(Connection refused|Connection reset[^'\")]*)", text
    )
    if match:
        return (match.group(1) or match.group(2)).strip()
    return type(exc).__name__


def _raise_for(response: requests.Response, url: str, what: str, *, query: bool) -> None:
    code = response.status_code
    if code < 300:
        return
    body = " ".join(response.text.split())[:400]
    if code in (401, 403):
        raise StoreError(
            f"the SPARQL server at {url} refused the credentials (HTTP {code}) to {what}",
            hint=f"set {ENV_USER} and {ENV_PASSWORD}, or {ENV_TOKEN}, to an account "
            "allowed to read and update the store",
        )
    if code == 404:
        raise StoreError(
            f"no SPARQL endpoint at {url} (HTTP 404)",
            hint="check the store URL settings (store, store_update_url, store_graph_store_url)",
        )
    if query and code < 500:
        raise QueryError(f"the SPARQL server at {url} rejected the query (HTTP {code}): {body}")
    hint = "see the server's log; the store keeps its previous graphs"
    if "SR325" in body:  # Virtuoso: one transaction may not log more than this
        hint = (
            "the update is larger than the server takes in one transaction: raise "
            "TransactionAfterImageLimit in the [Parameters] of virtuoso.ini; "
            "the store keeps its previous graphs"
        )
    raise StoreError(
        f"the SPARQL server at {url} failed to {what} (HTTP {code}): {body}", hint=hint
    )
