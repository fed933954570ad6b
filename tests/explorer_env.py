"""The demo workspace, checked and recorded, shared by the explorer tests."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from justify.demo import DemoResult, demo

APP = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"


def checked_demo(folder: Path) -> DemoResult:
    """The demo (real MLflow runs, a real Git repository); it records its check."""
    return demo(folder)


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
