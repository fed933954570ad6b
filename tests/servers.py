"""Real servers for the tests, on free ports of 127.0.0.1, stopped after."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not start:\n{log.read_text()[-3000:]}")


class MlflowServer:
    """A real ``mlflow server`` process with a SQLite backend and local artifacts."""

    def __init__(self, folder: Path, *, auth: bool = False) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.auth = auth
        self.admin_password = "Adm1n-pass-for-tests"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> MlflowServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.folder / "server.log"
        mlflow = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
        args = [
            mlflow,
            "server",
            "--backend-store-uri",
            f"sqlite:///{self.folder / 'mlflow.db'}",
            "--artifacts-destination",
            str(self.folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]
        # MLflow 3's server also starts a job runner and seven Huey consumers (for its
        # GenAI jobs), each importing MLflow: about 40 s of CPU per server on 2 cores,
        # and polling while it runs. Tracking does not use them.
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        if self.auth:
            args += ["--app-name", "basic-auth"]
            env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = "tests-only-secret"
            env["MLFLOW_AUTH_ADMIN_PASSWORD"] = self.admin_password
            env["MLFLOW_AUTH_CONFIG_PATH"] = str(self._auth_config())
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        wait_for_http(self.url + "/health", self.proc, log)
        return self

    def _auth_config(self) -> Path:
        path = self.folder / "auth.ini"
        path.write_text(
            "[mlflow]\ndefault_permission = READ\n"
            f"database_uri = sqlite:///{self.folder / 'auth.db'}\n"
            "admin_username = admin\n"
            f"admin_password = {self.admin_password}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        )
        return path

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


class Upstream(Protocol):
    @property
    def port(self) -> int: ...

    def stop(self) -> None: ...


class KillingProxy:
    """Forwards HTTP requests to a real server, and kills that server on request N.

    Stands for a server that dies in the middle of an import; with ``delay``, for
    a slow one (each answer waits that many seconds).
    """

    def __init__(self, target: Upstream, *, kill_on: int = 0, delay: float = 0.0) -> None:
        self.target = target
        self.kill_on = kill_on
        self.delay = delay
        self.count = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                proxy.count += 1
                if proxy.kill_on and proxy.count >= proxy.kill_on:
                    proxy.target.stop()
                time.sleep(proxy.delay)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", proxy.target.port, timeout=30)
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                except OSError:
                    self.send_error(502, "upstream is gone")
                    return
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> KillingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def mlflow_server(folder: Path, *, auth: bool = False) -> Iterator[MlflowServer]:
    server = MlflowServer(folder, auth=auth).start()
    try:
        yield server
    finally:
        server.stop()


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 10
CheckpointInterval = 60
O_DIRECT = 0
CaseMode = 2
DirsAllowed = .
NumberOfBuffers = 340000
MaxDirtyBuffers = 250000
MaxQueryMem = 2G
TransactionAfterImageLimit = 1500000000
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {folder}
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8
EnabledGzipContent = 0
[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 0
"""


class VirtuosoServer:
    """A real Virtuoso Open Source server (Debian's virtuoso-opensource) in a folder.

    justify talks to it as a team would: through the authenticated endpoints
    (/sparql-auth for queries and updates, /sparql-graph-crud-auth for the Graph
    Store Protocol) with a user that may update, its password in the environment.
    """

    user = "justify"
    password = "s3cret-for-tests"

    def __init__(self, folder: Path, *, max_rows: int = 10_000_000) -> None:
        self.folder = folder
        self.sql_port = free_port()
        self.http_port = free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.max_rows = max_rows
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        return self.http_port

    @property
    def query_url(self) -> str:
        return f"{self.base}/sparql-auth"

    @property
    def graph_store_url(self) -> str:
        return f"{self.base}/sparql-graph-crud-auth"

    def env(self) -> dict[str, str]:
        """The environment variables that point justify at this server."""
        return {
            "JUSTIFY_STORE": self.query_url,
            "JUSTIFY_STORE_GRAPH_STORE_URL": self.graph_store_url,
            "JUSTIFY_STORE_USER": self.user,
            "JUSTIFY_STORE_PASSWORD": self.password,
        }

    def start(self) -> VirtuosoServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        ini = self.folder / "virtuoso.ini"
        first = not (self.folder / "virtuoso.db").exists()
        ini.write_text(
            VIRTUOSO_INI.format(
                folder=self.folder,
                sql_port=self.sql_port,
                http_port=self.http_port,
                max_rows=self.max_rows,
            )
        )
        log = self.folder / "server.log"
        binary = shutil.which("virtuoso-t")
        if binary is None:
            raise RuntimeError("virtuoso-t not found: .ci/run installs virtuoso-opensource")
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [binary, "+foreground", "+configfile", str(ini)],
                cwd=self.folder,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_http(f"{self.base}/sparql?query=ASK%7B%7D", self.proc, log, timeout=120)
        if first:
            self.sql(
                f"DB.DBA.USER_CREATE('{self.user}', '{self.password}'); "
                f'GRANT SPARQL_UPDATE TO "{self.user}"; '
                f'GRANT SPARQL_SELECT TO "{self.user}";'
            )
        return self

    def sql(self, statements: str) -> str:
        isql = shutil.which("isql-vt") or "isql-vt"
        done = subprocess.run(
            [isql, f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={statements}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    def stop(self, *, kill: bool = False) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.proc = None


@contextlib.contextmanager
def virtuoso_server(folder: Path, **options: int) -> Iterator[VirtuosoServer]:
    server = VirtuosoServer(folder, **options).start()
    try:
        yield server
    finally:
        server.stop()
