"""Copies of the demo workspace (built once per run, see conftest) and the explorer's
AppTest helpers."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

from justify._demo import DemoResult
from justify.config import load_config

APP = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"


def copy_demo(template: DemoResult, target: Path) -> DemoResult:
    """A private copy of the demo workspace (files, Git repository, MLflow database,
    store), for tests that read it or add checks and reports to it. Re-importing
    MLflow in a copy would read it under another path: build a fresh demo for that."""
    shutil.copytree(template.directory, target, symlinks=True)
    return dataclasses.replace(
        template, directory=target, config=load_config(target / "justify.toml")
    )


def open_page(page: str | None = None, **params: str) -> AppTest:
    """Run the explorer's router, then switch to ``page`` with query parameters."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    if page is not None:
        at.switch_page(page)
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Every piece of text the page drew (markdown, captions, alerts, titles)."""
    parts = [e.value for e in (*at.title, *at.header, *at.subheader, *at.markdown, *at.caption)]
    parts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success, *at.text)]
    return "\n".join(str(p) for p in parts)
