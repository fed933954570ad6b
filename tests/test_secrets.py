"""Secrets never leave the environment: not in a message, a log line, a stored value,
an export or a report.

The unreachable cases use a tiny HTTP listener on 127.0.0.1 that answers 500 (with a
body that echoes the request's Authorization header, as some proxies do), garbage or
too slowly; the full sync uses a real ``mlflow server`` reached through a tracking URI
that carries credentials, a Git remote with a token and a run whose params hold one.
"""

from __future__ import annotations

import base64
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import git, run_justify, write
from servers import free_port, mlflow_server

from justify.urls import redact

pytestmark = pytest.mark.slow

PASSWORD = "Pa55-word-9f3c"
USERINFO = f"alice:{PASSWORD}"
BASIC = base64.b64encode(USERINFO.encode()).decode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://alice:pw@127.0.0.1:5000/api", "http://***@127.0.0.1:5000/api"),
        ("see https://tok3n@git.example.com/r.", "see https://***@git.example.com/r."),
        ("https://h/d.csv?token=abc&rows=3", "https://h/d.csv?token=***&rows=3"),
        ("https://s3/o?X-Amz-Signature=f00&X-Amz-Credential=AKIA%2F1&v=2",
         "https://s3/o?X-Amz-Signature=***&X-Amz-Credential=***&v=2"),
        ("https://h/?access_token=a&sig=b&key=c&password=d&apiKey=e",
         "https://h/?access_token=***&sig=***&key=***&password=***&apiKey=***"),
        ("Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer ***"),
        ("https://h/?monkey=1&design=2&keys=3", "https://h/?monkey=1&design=2&keys=3"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("accuracy >= 0.9 on test", "accuracy >= 0.9 on test"),
    ],
)  # fmt: skip
def test_redaction(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_the_value_of_a_secret_variable_is_redacted_wherever_it_appears(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "t0ken-from-the-environment")
    assert redact("rejected t0ken-from-the-environment (401)") == "rejected *** (401)"


class Listener:
    """Answers every request in one way: ``500`` echoing the Authorization header,
    ``garbage`` (200 and not JSON), or ``slow`` (no answer for 10 s)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if listener.mode == "slow":
                    time.sleep(10)
                    return
                if listener.mode == "500":
                    body = f"upstream error for {self.headers.get('Authorization')}".encode()
                    self.send_response(500)
                else:
                    body = b"\x00\xff<html>not json"
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def __enter__(self) -> Listener:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


FAST = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "2"}


@pytest.mark.parametrize("mode", ["500", "garbage", "slow", "closed"])
def test_an_unreachable_tracking_server_never_prints_credentials(
    workspace: Path, mode: str
) -> None:
    if mode == "closed":
        port, listener = free_port(), None
    else:
        listener = Listener(mode).__enter__()
        port = listener.port
    try:
        uri = f"http://{USERINFO}@127.0.0.1:{port}"
        result = run_justify("import", "mlflow", "--tracking-uri", uri, cwd=workspace, env=FAST)
    finally:
        if listener is not None:
            listener.__exit__()
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    assert f"127.0.0.1:{port}" in result.stderr
    assert PASSWORD not in output and BASIC not in output
    assert "Traceback" not in output


def test_credentials_given_in_the_environment_are_not_printed(workspace: Path) -> None:
    with Listener("500") as listener:
        result = run_justify(
            "import", "mlflow", "--tracking-uri", f"http://127.0.0.1:{listener.port}",
            cwd=workspace,
            env={**FAST, "MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": PASSWORD},
        )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    assert PASSWORD not in output and BASIC not in output


SECRETS = {
    "tracking password": PASSWORD,
    "basic auth header": BASIC,
    "git token": "GitT0ken-77aa",
    "param token": "ParamT0ken-55bb",
    "secret param": "hunter2-66cc",
    "dataset signature": "DsSig-88dd",
}

REQUIREMENTS = """\
requirements:
  - id: REQ-ACC
    title: Accurate enough
    statement: The model is accurate on the test set.
    kind: performance
    status: approved
    criteria:
      - {metric: accuracy, op: ">=", threshold: 0.5}
"""


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    import mlflow
    import pandas as pd

    base = tmp_path_factory.mktemp("secrets")
    with mlflow_server(base / "mlflow") as server:
        root = base / "project"
        write(root / "requirements" / "reqs.yaml", REQUIREMENTS)
        write(root / "justify.toml", "# the tracking URI comes from the environment\n")
        (root / ".gitignore").write_text(".justify/\nout/\n")
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
        git(root, "add", "-A")
        git(root, "commit", "-qm", "Add requirements")
        git(root, "remote", "add", "origin",
            f"https://bob:{SECRETS['git token']}@git.example.com/org/project.git")  # fmt: skip
        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(server.url)
        try:
            with mlflow.start_run(run_name="candidate"):
                mlflow.set_tag("justify.requirements", "REQ-ACC")
                mlflow.log_params({
                    "data_url": f"https://data.example/d.csv?token={SECRETS['param token']}",
                    "db_password": SECRETS["secret param"],
                })  # fmt: skip
                frame = pd.DataFrame({"x": [1, 2], "y": [0, 1]})
                source = f"https://bucket.example/d.csv?sig={SECRETS['dataset signature']}"
                mlflow.log_input(mlflow.data.from_pandas(frame, source=source, name="test"))
                mlflow.log_metric("accuracy", 0.8)
        finally:
            mlflow.set_tracking_uri(previous)
        uri = server.url.replace("http://", f"http://{USERINFO}@")
        env = {"MLFLOW_TRACKING_URI": uri}
        outputs: dict[str, str] = {}
        out = root / "out"
        out.mkdir()
        commands = {
            "sync": ["sync", "--full"],
            "check": ["check", "-o", f"json:{out}/c.json", "-o", f"junit:{out}/c.xml",
                      "-o", f"sarif:{out}/c.sarif", "-o", f"markdown:{out}/c.md"],
            "trace": ["trace", "REQ-ACC"],
            "report html": ["report", "-o", str(out / "audit.html")],
            "report md": ["report", "--format", "markdown", "-o", str(out / "audit.md")],
            "export": ["export", "--format", "nquads", "-o", str(out / "all.nq")],
            "query": ["query", "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"],
            "history": ["history"],
            "status": ["status"],
        }  # fmt: skip
        for name, args in commands.items():
            result = run_justify(*args, cwd=root, env=env, timeout=300)
            assert result.returncode in (0, 1), f"{name}: {result.stderr}"
            outputs[name] = result.stdout + result.stderr
        yield root, outputs


def test_a_full_sync_writes_no_secret_anywhere(synced: tuple[Path, dict[str, str]]) -> None:
    root, outputs = synced
    for path in sorted((root / "out").rglob("*")):  # the report's figures too
        if path.is_file():
            outputs[path.name] = path.read_text(encoding="utf-8", errors="replace")
    assert "data.example/d.csv?token=***" in outputs["export"] + outputs["all.nq"]
    for name, text in outputs.items():
        for what, secret in SECRETS.items():
            assert secret not in text, f"the {what} appears in {name}"
    # The store's own files, byte for byte (Oxigraph keeps literals as UTF-8).
    for path in (root / ".justify").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for what, secret in SECRETS.items():
                assert secret.encode() not in data, f"the {what} is stored in {path}"


def test_what_was_redacted_stays_readable(synced: tuple[Path, dict[str, str]]) -> None:
    root, outputs = synced
    export = (root / "out" / "all.nq").read_text()
    assert "https://git.example.com/org/project.git" in export  # the remote, without its user
    assert "https://bucket.example/d.csv?sig=***" in export
    assert '"db_password"' in export and '"***"' in export
    assert "REQ-ACC" in outputs["trace"]
