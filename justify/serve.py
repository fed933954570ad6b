"""Starting the explorer: ``streamlit run`` on the shipped app, bound to 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from justify.config import Config, load_config
from justify.errors import StoreError, UsageError
from justify.resources import data_folder
from justify.store import open_store


def app(
    port: int | None = None, *, config: Config | None = None, quiet: bool = False
) -> subprocess.Popen[bytes]:
    """Start the explorer on 127.0.0.1 (default port: the app_port setting); return the
    Streamlit process, which runs until it is terminated."""
    config = config or load_config()
    return start_app(config, port or int(config.number("app_port")), quiet=quiet)


def start_app(config: Config, port: int, *, quiet: bool = False) -> subprocess.Popen[bytes]:
    """Start Streamlit on ``port`` for the project ``config`` names; return the process."""
    if not 1 <= port <= 65535:
        raise UsageError(
            f"port {port} is not a TCP port", hint="give --port (or app_port) from 1 to 65535"
        )
    store = open_store(config)
    if not store.graph_names():
        raise StoreError(
            f"the store at {config.store_location} is empty",
            hint="run `justify sync` (or `justify demo`) first, then `justify app`",
        )
    _check_free(port)
    env = dict(os.environ)
    if config.file:
        env["JUSTIFY_CONFIG"] = str(config.file)
    env["JUSTIFY_STORE"] = config.store_location
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(data_folder("app") / "streamlit_app.py"),
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
        # A read-only viewer: no "Deploy" button, no developer menu.
        "--client.toolbarMode=viewer",
    ]
    output = subprocess.DEVNULL if quiet else None
    return subprocess.Popen(command, cwd=config.root, env=env, stdout=output, stderr=output)


def _check_free(port: int) -> None:
    """Say so before printing a URL that something else answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise UsageError(
                f"port {port} on 127.0.0.1 is not free ({exc.strerror or exc})",
                hint="choose another with --port or the app_port setting, or stop what uses it",
            ) from exc


def wait_until_serving(
    process: subprocess.Popen[bytes], port: int, *, timeout: float = 120.0
) -> bool:
    """Whether the explorer answers on ``port`` before ``process`` ends (or the
    timeout passes: then the caller waits on the process anyway)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.2)
    return process.poll() is None
