"""`justify report`: the audit story as an archivable HTML or Markdown file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from justify import __version__
from justify._demo import DemoResult
from tests.explorer_env import copy_demo
from tests.helpers import run_justify


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory, demo_template: DemoResult) -> DemoResult:
    return copy_demo(demo_template, tmp_path_factory.mktemp("report") / "ws")


def head(folder: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_html_report_is_one_self_contained_file_with_the_whole_story(
    demo_ws: DemoResult, tmp_path: Path
) -> None:
    out = tmp_path / "audit.html"
    result = run_justify("report", "-o", str(out), cwd=demo_ws.directory)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out} (html): 7 requirements, 2 failing or unjustified" in result.stdout
    text = out.read_text(encoding="utf-8")
    assert head(demo_ws.directory) in text and f"justify {__version__}" in text
    assert re.search(r"Written \d{4}-\d\d-\d\dT", text)
    # Nothing is fetched from elsewhere: no scripts, stylesheets or images by URL.
    assert not re.search(r"<(script|link|img|iframe)\b", text)
    for rid, status in (
        ("REQ-FAIR-1", "failing"),
        ("REQ-EXPL-1", "unjustified"),
        ("REQ-DATA-1", "justified"),
        ("REQ-PREC-1", "stale"),
        ("REQ-REC-1", "justified"),
    ):
        block = text[text.index(f'id="{rid}"') :].split('<div class="req"', 1)[0]
        assert f">{status}</span>" in block, rid
    rec = text[text.index('id="REQ-REC-1"') :]
    assert "current evidence: run candidate" in rec
    assert (
        "test_recall &gt;= 0.85 on test: met (test_recall = 0.953125 on breast-cancer-test)" in rec
    )
    assert "screening-model version 1 @champion</b>: <span" in text
    assert "DO NOT SHIP" in text and "REQ-FAIR-1 JF-THRESHOLD" in text
    # Fields a requirement file adds beyond the core ones are shown as annotations.
    assert "<li>review_board: platform-guild</li>" in text
    # The story starts with the verdict, then the problems worst first.
    assert (
        text.index("May it ship?")
        < text.index("Problems, worst first")
        < text.index("<h2>Summary</h2>")
    )
    problems = text[text.index("Problems, worst first") : text.index("<h2>Summary</h2>")]
    assert problems.index("violation") < problems.index("warning")
    # Each requirement carries its diagram and, per criterion, its plot, as inline SVG.
    fair = text[text.index('id="REQ-FAIR-1"') :].split('<div class="req"', 1)[0]
    diagram = fair[fair.index('<figure class="diagram">') :].split("</figure>", 1)[0]
    assert "<svg" in diagram and "REQ-FAIR-1: Equal recall across tumour" in diagram
    assert "criterion: recall_gap_size &lt;= 0.1 on" in diagram and "#c62828" in diagram
    plot = fair[fair.index('<figure class="plot">') :].split("</figure>", 1)[0]
    assert "<svg" in plot and "threshold &lt;= 0.1" in plot and "run ended (UTC" in plot
    assert "ringed: the current evidence, run candidate" in plot
    # Ids inside the SVGs (clip paths, markers) stay unique across the page.
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))


def test_markdown_report(demo_ws: DemoResult, tmp_path: Path) -> None:
    out = tmp_path / "audit.md"
    result = run_justify("report", "--format", "markdown", "-o", str(out), cwd=demo_ws.directory)
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Justification report: ws")
    assert "| failing | 1 |" in text and "| stale | 2 |" in text
    assert "### REQ-FAIR-1: Equal recall across tumour sizes [failing]" in text
    assert "recall_gap_size <= 0.1 on test: not met (recall_gap_size = 0.13218390804597702" in text
    assert "- review_board: platform-guild" in text  # annotations, as in the HTML
    # The same figures, as SVG files beside it, linked in place.
    assert text.index("## May it ship?") < text.index("## Problems, worst first")
    links = re.findall(r"!\[[^\]]*\]\((audit-figures/[^)]+)\)", text)
    assert "audit-figures/REQ-FAIR-1-diagram.svg" in links
    assert "audit-figures/REQ-FAIR-1-criterion-1.svg" in links
    for link in links:
        assert (tmp_path / link).read_text(encoding="utf-8").startswith("<svg"), link
    # The justifications grouped by pattern, before the requirements one by one.
    grouped = text.index("## Justifications by pattern")
    assert grouped < text.index("## Requirements")
    fairness = text.index("### Pattern fairness: The model treats the protected groups alike")
    assert "(0 of 1 complete)" in text[fairness : fairness + 120]
    assert (
        "| REQ-FAIR-1 | failing | no | gap: FAILING, attributes-reviewed: MISSING, "
        "evaluation-data: filled |" in text
    )
    assert "### Pattern performance: The model performs well enough for its use (2 of 2" in text


def test_report_names_a_bad_format_and_an_unwritable_path(demo_ws: DemoResult) -> None:
    result = run_justify("report", "--format", "pdf", "-o", "x.pdf", cwd=demo_ws.directory)
    assert result.returncode == 2 and "'pdf' is not one of" in result.stderr
    blocker = demo_ws.directory / "justify.toml"  # a file, so no folder can be made under it
    result = run_justify("report", "-o", str(blocker / "audit.html"), cwd=demo_ws.directory)
    assert result.returncode == 2 and "cannot write the report to" in result.stderr
