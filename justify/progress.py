"""Progress of long work on standard error: a live line with counts and rate on a
terminal, and a quiet line every few seconds in CI (no terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts items of one phase (``runs``, ``commits``...) and reports them."""

    def __init__(
        self,
        label: str,
        *,
        total: int | None = None,
        stream: TextIO | None = None,
        enabled: bool = True,
        interval: float | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.count = 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = interval if interval is not None else (0.1 if self.tty else 10.0)
        self.started = time.monotonic()
        self._last = self.started

    def advance(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if self.enabled and now - self._last >= self.interval:
            self._last = now
            self._show(final=False)

    def _line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        of = f"/{self.total}" if self.total is not None else ""
        rate = self.count / elapsed
        text = f"{self.label}: {self.count}{of} ({rate:,.0f}/s, {elapsed:.1f} s)"
        if self.total and self.tty:
            width = 24
            filled = int(width * min(self.count / self.total, 1.0))
            bar = "#" * filled + "." * (width - filled)
            text = f"{self.label}: [{bar}] {self.count}{of} ({rate:,.0f}/s)"
        return text

    def _show(self, *, final: bool) -> None:
        if self.tty:
            end = "\n" if final else ""
            self.stream.write("\r\033[K" + self._line() + end)
        else:
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def done(self) -> None:
        """Print the final count (on a terminal, replacing the live line)."""
        if self.enabled and (self.tty or self.count):
            self._show(final=True)
