"""Progress: a live line on a terminal, quiet lines without one."""

from __future__ import annotations

import io

from justify.progress import Progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_gets_a_live_bar_with_counts_and_rate() -> None:
    out = FakeTerminal()
    progress = Progress("runs", total=4, stream=out, interval=0)
    for _ in range(4):
        progress.advance()
    progress.done()
    text = out.getvalue()
    assert text.count("\r") >= 4  # rewritten in place
    assert "runs: [########################] 4/4" in text
    assert "/s)" in text and text.endswith("\n")


def test_ci_gets_plain_lines_only_now_and_then() -> None:
    out = io.StringIO()
    progress = Progress("commits", stream=out, interval=3600)
    for _ in range(1000):
        progress.advance()
    progress.done()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("commits: 1000 (")
    assert "\r" not in out.getvalue()


def test_disabled_progress_prints_nothing() -> None:
    out = FakeTerminal()
    progress = Progress("runs", stream=out, enabled=False, interval=0)
    progress.advance(5)
    progress.done()
    assert out.getvalue() == ""
