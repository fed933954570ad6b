"""The command line: a thin shell over the library.

Each command forwards to one public function of ``justify``. Library errors
(``JustifyError``) become a message and an exit code here, in one place:
0 ok, 1 justification failures, 2 invalid input or usage, 3 a source or store
cannot be reached.
"""

from __future__ import annotations

import sys

from justify.cli import _commands, _demo, _imports, _lineage  # noqa: F401 - each registers its commands
from justify.cli._shell import cli, report_error
from justify.errors import JustifyError

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``justify`` console script and ``python -m justify``."""
    try:
        cli.main(args=argv, prog_name="justify")
    except JustifyError as exc:  # raised while parsing options, before a command ran
        report_error(exc)
        sys.exit(exc.exit_code)
