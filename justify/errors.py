"""The one exception hierarchy of justify.

The library raises only these; ``justify.cli`` turns them into a message on
standard error and an exit code, in one place::

    JustifyError                    any problem justify can explain
    ├── UsageError            (2)   a command or argument that cannot work as given
    ├── ConfigError           (2)   a configuration file or setting is wrong
    ├── RequirementFileError  (2)   requirement files have problems (all of them listed)
    ├── QueryError            (2)   a SPARQL query is malformed or names an unknown canned query
    ├── ShapeError            (2)   a SHACL shape file is malformed
    ├── SourceUnavailable     (3)   a source (MLflow, Git) cannot be reached
    └── StoreError            (3)   the graph store cannot be opened, read or written

Each error carries a ``hint``: what the user can do next.
"""

from __future__ import annotations

from dataclasses import dataclass

from justify.urls import redact

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_INVALID = 2
EXIT_UNREACHABLE = 3


class JustifyError(Exception):
    """Base class: a problem justify can explain to its user."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        # MLflow's and requests' exception text, quoted in messages, may carry a URL
        # with credentials: every message is redacted once, here.
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.hint = redact(hint) if hint else hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UsageError(JustifyError):
    """A command or argument that cannot work as given."""


class ConfigError(JustifyError):
    """A configuration file or setting is wrong."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a requirement file, located at ``file:line``."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class RequirementFileError(JustifyError):
    """Requirement files have problems; ``problems`` lists every one found."""

    def __init__(self, problems: list[Problem], what: str = "requirement files") -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.message))
        count = len(self.problems)
        lines = "\n".join(str(p) for p in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"{count} {noun} in the {what}; nothing was loaded:\n{lines}",
            hint="fix the files above and run the command again; the store still holds "
            + ("the requirements it had before" if what == "requirement files" else "what it had"),
        )


class QueryError(JustifyError):
    """A SPARQL query is malformed or names an unknown canned query."""


class ShapeError(JustifyError):
    """A SHACL shape file is malformed."""


class SourceUnavailable(JustifyError):
    """A source (MLflow tracking server, Git repository) cannot be reached."""

    exit_code = EXIT_UNREACHABLE


class StoreError(JustifyError):
    """The graph store cannot be opened, read or written."""

    exit_code = EXIT_UNREACHABLE
