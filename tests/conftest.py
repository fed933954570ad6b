"""Fixtures: real workspaces in tmp_path, the real embedded store, the real CLI."""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from justify._demo import DemoResult, build_workspace, demo
from justify.cli import cli
from justify.config import Config, load_config
from justify.store import EmbeddedStore

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No JUSTIFY_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("JUSTIFY_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The demo workspace's files (config and requirement files), not yet loaded."""
    return build_workspace(tmp_path / "ws")


@pytest.fixture
def config(workspace: Path) -> Config:
    return load_config(workspace / "justify.toml")


@pytest.fixture
def store(config: Config) -> EmbeddedStore:
    return EmbeddedStore(config.store_location)


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the real CLI in-process, in a folder; stdout and stderr kept apart."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> DemoResult:
    """The demo (real MLflow runs, a real Git repository, its check recorded), built
    once per test run, by the first worker that asks (the others wait for it, where
    each building its own cost a demo build per worker on two cores); tests that read
    it take a copy (see ``copy_demo``) and never write to it."""
    if worker_id == "master":  # not under xdist
        return demo(tmp_path_factory.mktemp("demo-template") / "ws")
    shared = tmp_path_factory.getbasetemp().parent  # one folder for all the workers
    result = shared / "demo-template.pickle"
    with open(shared / "demo-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result.exists():
            built = demo(shared / "demo-template" / "ws")
            partial = result.with_suffix(".partial")
            partial.write_bytes(pickle.dumps(built))
            partial.rename(result)
        template: DemoResult = pickle.loads(result.read_bytes())
    return template


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """CI runs everything: a skipped test there is a failure, not a quiet pass."""
    if not os.environ.get("JUSTIFY_TESTS_SKIP_NOTHING"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped:
        if reporter is not None:
            reporter.write_line(f"{skipped} tests were skipped; CI runs every test", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """One worker more than cores: much of a test's time is spent waiting for the real
    servers, browsers and CLI processes it started (2 cores: 7.1 min with 3 workers,
    8.0 min with 2)."""
    return (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files whose tests start servers, browsers or whole demos run first: with one
    file per worker, a long file started last would leave the other workers idle."""
    heavy = {"slow", "server", "browser"}
    weighty = {item.path for item in items if any(m.name in heavy for m in item.iter_markers())}
    items.sort(key=lambda item: item.path not in weighty)  # stable: order kept within
