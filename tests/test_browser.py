"""The explorer end to end: `justify app` on a free port, a real headless Chromium.

Debian's chromium and chromium-driver come from `.ci/run`; screenshots are kept
in test-artifacts/ (or $JUSTIFY_TEST_ARTIFACTS) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from justify._demo import DemoResult
from tests.explorer_env import copy_demo
from tests.helpers import needs, run_justify
from tests.servers import free_port, wait_for_http

pytestmark = [
    pytest.mark.browser,
    needs("chromium", "chromium"),
    needs("chromedriver", "chromium-driver"),
]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(
    os.environ.get("JUSTIFY_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts")
)


@pytest.fixture(scope="module")
def browser_ws(tmp_path_factory: pytest.TempPathFactory, demo_template: DemoResult) -> DemoResult:
    return copy_demo(demo_template, tmp_path_factory.mktemp("browser") / "ws")


def start_justify_app(ws: DemoResult, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`justify app` as a user starts it, in the demo workspace."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUSTIFY_")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "justify", "app", "--port", str(port)],
            cwd=ws.directory,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", proc, log)
    return proc


@pytest.fixture(scope="module")
def app_url(browser_ws: DemoResult) -> Iterator[str]:
    port = free_port()
    proc = start_justify_app(browser_ws, port, browser_ws.directory / "app.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    assert Path(CHROMIUM).exists() and Path(DRIVER).exists(), (
        "Debian's chromium and chromium-driver are needed: apt-get install chromium "
        "chromium-driver (.ci/run installs them)"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="justify-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1800",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for_text(driver: webdriver.Chrome, *texts: str, timeout: float = 60) -> str:
    def ready(d: webdriver.Chrome) -> str | bool:
        body = d.find_element(By.TAG_NAME, "body").text
        return body if all(t in body for t in texts) and "Running" not in body[:200] else False

    return WebDriverWait(driver, timeout).until(ready)  # type: ignore[no-any-return]


def test_overview_in_a_real_browser(
    app_url: str, browser: webdriver.Chrome, browser_ws: DemoResult
) -> None:
    # `justify app` printed its URL, once the server answered there.
    log = (browser_ws.directory / "app.log").read_text(encoding="utf-8", errors="replace")
    assert f"justify explorer: {app_url}/  (Ctrl-C stops it)" in log
    browser.get(app_url + "/")
    body = wait_for_text(browser, "Justification overview", "REQ-FAIR-1", "REQ-EXPL-1")
    assert "REQ-PREC-1" in body and "unjustified" in body and "stale" in body
    # A read-only viewer: no Deploy button; page icons drawn from Streamlit's own
    # Material font, not emoji (Debian's Chromium has no emoji font).
    assert "Deploy" not in body
    icons = browser.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] span')
    assert "home" in [i.text for i in icons]


def drawn(driver: webdriver.Chrome, selector: str, count: int = 1, timeout: float = 60) -> None:
    """Wait until the browser has drawn ``count`` things matching ``selector``."""
    WebDriverWait(driver, timeout).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, selector)) >= count
    )


def screenshot(driver: webdriver.Chrome, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


# The diagram is Graphviz drawn to SVG by the browser; a plot is Vega drawn on a canvas.
DIAGRAM = "svg g.node"
PLOT = '[data-testid="stVegaLiteChart"] canvas.marks, [data-testid="stVegaLiteChart"] svg.marks'
TABLE = '[data-testid="stDataFrame"] canvas'


def test_requirement_page_from_a_shared_url(app_url: str, browser: webdriver.Chrome) -> None:
    browser.get(app_url + "/requirement?id=REQ-PREC-1")
    body = wait_for_text(browser, "REQ-PREC-1: Screening precision", "Justification diagram")
    assert "JF-STALE" in body and "Tighten the precision requirement" in body
    drawn(browser, DIAGRAM)
    drawn(browser, PLOT)
    screenshot(browser, "requirement-REQ-PREC-1")


# Every page, with what an auditor looks for on it: text, and what must be drawn
# (selector: how many). Tables are drawn on a canvas (Streamlit's data grid), so
# their text is not in the page.
PAGES: dict[str, tuple[str, tuple[str, ...], dict[str, int]]] = {
    "overview": (
        "/",
        ("Justification overview", "screening-model", "DO NOT SHIP", "Worst problems first"),
        {TABLE: 3},  # by kind, by model, sources and checks
    ),
    "requirements": ("/requirements", ("Requirements", "Status"), {TABLE: 1}),
    "requirement": (
        "/requirement?id=REQ-FAIR-1",
        ("REQ-FAIR-1: Equal recall", "Justification diagram", "recall_gap_size <= 0.1"),
        {DIAGRAM: 1, PLOT: 1, TABLE: 1},
    ),
    "models": ("/models", ("Models: may they ship?", "DO NOT SHIP", "REQ-FAIR-1"), {}),
    "patterns": (
        "/patterns",
        ("Justification patterns", "fairness: The model treats the protected groups", "Strategy."),
        {TABLE: 5},  # the summary, then one table per pattern followed (four)
    ),
    "runs": ("/runs", ("Runs and commits",), {TABLE: 1}),
    "graph": ("/graph", ("Graph", "Node IRI"), {'[data-testid="stVegaLiteChart"]': 1}),
    "sparql": ("/sparql", ("SPARQL console", "Read-only"), {}),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_what_an_auditor_needs(
    page: str, app_url: str, browser: webdriver.Chrome
) -> None:
    path, texts, drawings = PAGES[page]
    browser.get(app_url + path)
    body = wait_for_text(browser, *texts)
    assert "Traceback" not in body and "Error" not in body[:300]
    for selector, count in drawings.items():
        drawn(browser, selector, count)
    time.sleep(1)  # let the last drawing settle before the picture
    screenshot(browser, f"page-{page}")


def test_the_report_in_a_real_browser(browser_ws: DemoResult, browser: webdriver.Chrome) -> None:
    """The archived report, opened from disk: verdict first, figures drawn inline."""
    out = ARTIFACTS / "report.html"
    result = run_justify("report", "-o", str(out), cwd=browser_ws.directory)
    assert result.returncode == 0, result.stderr
    browser.get(out.as_uri())
    body = wait_for_text(browser, "May it ship?", "DO NOT SHIP", "REQ-FAIR-1")
    assert body.index("May it ship?") < body.index("Requirements\n")
    diagrams = browser.find_elements(By.CSS_SELECTOR, "figure.diagram svg")
    plots = browser.find_elements(By.CSS_SELECTOR, "figure.plot svg")
    assert len(diagrams) == 7 and len(plots) >= 3
    assert all(svg.size["width"] > 100 and svg.size["height"] > 50 for svg in diagrams + plots)
    height = browser.execute_script("return document.body.scrollHeight")
    size = browser.get_window_size()
    browser.set_window_size(1100, min(int(height) + 100, 16000))
    try:
        screenshot(browser, "report")
    finally:
        browser.set_window_size(size["width"], size["height"])


def test_app_refuses_an_empty_store(tmp_path: Path) -> None:
    (tmp_path / "justify.toml").write_text("", encoding="utf-8")
    result = run_justify("app", "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 3 and "is empty" in result.stderr


def test_stopping_justify_app_stops_the_explorer(browser_ws: DemoResult) -> None:
    """A terminated `justify app` (Ctrl-C, a service manager, CI) leaves no server behind."""
    port = free_port()
    proc = start_justify_app(browser_ws, port, browser_ws.directory / "app-stop.log")
    proc.terminate()
    proc.wait(20)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
        except OSError:
            return  # nothing answers any more
        time.sleep(0.3)
    pytest.fail(f"the explorer still answers on port {port} after `justify app` ended")
