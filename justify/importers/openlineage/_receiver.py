"""An OpenLineage HTTP endpoint that appends valid events to the events folder.

Pipelines configured with OpenLineage's HTTP transport (``url: http://HOST:PORT``,
endpoint ``api/v1/lineage``) send each event as one POST. A valid event is appended
as one line to ``received-YYYY-MM-DD.jsonl`` (UTC day) in the events folder, which
``justify import openlineage`` reads incrementally; an invalid one is answered 400
and not written. The endpoint only appends: nothing it stored is ever sent back.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import threading
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from justify.errors import UsageError
from justify.importers.openlineage._events import problem

ENDPOINTS = ("/api/v1/lineage", "/api/v1/lineage/batch")
TOKEN_VARIABLE = "JUSTIFY_LINEAGE_TOKEN"
MAX_BODY = 16 * 1024 * 1024  # an event with a large schema or SQL facet fits many times


class LineageReceiver:
    """Receives OpenLineage events over HTTP; ``serve`` runs until interrupted."""

    def __init__(
        self,
        target: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 5055,
        token: str | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.target = target
        self.token = token or None
        self.log = log
        self.received = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(_Handler):
            owner = receiver

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port} ({exc.strerror})",
                hint="give another port with --port (0 picks a free one)",
            ) from None
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def file(self) -> Path:
        """Where the next event goes: the target file, or today's file in the folder."""
        if self.target.suffix in (".json", ".jsonl", ".ndjson") and not self.target.is_dir():
            return self.target
        return self.target / f"received-{datetime.now(UTC):%Y-%m-%d}.jsonl"

    def append(self, events: list[Any]) -> None:
        lines = "".join(
            json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in events
        )
        with self._lock:
            path = self.file()
            path.parent.mkdir(parents=True, exist_ok=True)
            # One write of whole lines: an import reading meanwhile sees whole events.
            with path.open("a", encoding="utf-8") as f:
                f.write(lines)
            self.received += len(events)

    def serve(self) -> None:
        try:
            self.server.serve_forever()
        finally:
            self.server.server_close()

    def stop(self) -> None:
        self.server.shutdown()


class _Handler(BaseHTTPRequestHandler):
    owner: LineageReceiver

    def version_string(self) -> str:
        return "justify-lineage"

    def do_POST(self) -> None:
        owner = self.owner
        if self.path.split("?", 1)[0].rstrip("/") not in ENDPOINTS:
            return self._answer(404, f"POST events to {ENDPOINTS[0]}")
        if owner.token is not None and not self._authorised(owner.token):
            return self._answer(401, "a valid 'Authorization: Bearer TOKEN' header is required")
        body, why = self._body()
        if body is None:
            return self._answer(413 if "large" in why else 400, why)
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return self._answer(400, f"the body is not JSON: {exc}")
        events = data if isinstance(data, list) else [data]
        if not events:
            return self._answer(400, "no event in the body")
        for n, event in enumerate(events):
            why_not = problem(event)
            if why_not is not None:
                where = f"event {n + 1}: " if isinstance(data, list) else ""
                return self._answer(400, f"{where}not a valid OpenLineage event: {why_not}")
        owner.append(events)
        self._answer(201, "", events)

    def do_GET(self) -> None:
        self._answer(405, "this endpoint only accepts POSTed OpenLineage events")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _authorised(self, token: str) -> bool:
        given = self.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), token.encode()
        )

    def _body(self) -> tuple[bytes | None, str]:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return None, "a Content-Length header is required"
        if int(length) > MAX_BODY:
            return None, f"the body is too large (more than {MAX_BODY} bytes)"
        raw = self.rfile.read(int(length))
        encoding = self.headers.get("Content-Encoding", "").lower()
        if encoding in ("", "identity"):
            return raw, ""
        if encoding != "gzip":
            return None, f"unsupported Content-Encoding {encoding!r} (gzip or none)"
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflate.decompress(raw, MAX_BODY + 1)
        except zlib.error as exc:
            return None, f"the gzip body cannot be read: {exc}"
        if len(body) > MAX_BODY or inflate.unconsumed_tail:
            return None, f"the body is too large (more than {MAX_BODY} bytes uncompressed)"
        return body, ""

    def _answer(self, status: int, message: str, events: list[Any] | None = None) -> None:
        payload = json.dumps({"error": message}).encode() if message else b""
        self.send_response(status)
        if status == 405:
            self.send_header("Allow", "POST")
        if status == 401:
            self.send_header("WWW-Authenticate", "Bearer")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)
        self.owner.log(_log_line(status, self.command, self.path, message, events))

    def log_message(self, format: str, *args: Any) -> None:
        pass  # _answer logs one line per request, without headers (they may hold a token)


def _log_line(status: int, method: str, path: str, message: str, events: list[Any] | None) -> str:
    if events:
        first = events[0]
        run = first.get("run", {}).get("runId", "") if isinstance(first, dict) else ""
        what = f"{first.get('eventType', '')} {first.get('job', {}).get('name', '')}".strip()
        more = f" (+{len(events) - 1})" if len(events) > 1 else ""
        return f"{status} {method} {path}: {what} run {str(run)[:8]}{more}"
    return f"{status} {method} {path}: {message}"


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
