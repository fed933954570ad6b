"""`justify demo`: the whole tour, end to end, on an embedded store."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from justify.cli._shell import cli
from justify.config import Config


def _own_command(folder: Path) -> str:
    """How to run this very justify from ``folder``: the command as printed works
    after the README's first command, where justify is only in .venv/bin."""
    script = Path(sys.executable).parent / "justify"
    if script.exists():
        return os.path.relpath(script, folder)
    return f"{os.path.relpath(sys.executable, folder)} -m justify"


@cli.command()
@click.argument(
    "directory", default="justify-demo", type=click.Path(file_okay=False, path_type=Path)
)
def demo(directory: Path) -> None:
    """Build a demo workspace in DIRECTORY: requirement files, real MLflow runs of a
    scikit-learn model with a registered champion, all loaded into the embedded
    store and queried.

    \b
    Example:
      justify demo && cd justify-demo && justify status
    """
    from justify._demo import demo as run_demo
    from justify._query import format_result
    from justify.audit import gather as gather_report
    from justify.audit import write as write_report_file
    from justify.check_formats import output_target, render, to_text, write_report
    from justify.graphs import copy_store

    result = run_demo(directory, echo=click.echo)
    base = result.config.base_iri
    for title, answer in (
        ("justify query requirements", result.requirements),
        (
            "requirement -> current evidence -> judged value (dataset) -> commit -> author",
            result.evidence,
        ),
        ("the validation job's OpenLineage data-quality facets, as imported", result.lineage),
        (
            "the DVC latency stage, one run per commit (read from Git by `justify import dvc`)",
            result.dvc,
        ),
        ("justify query unjustified", result.unjustified),
    ):
        click.echo(f"\n$ {title}" if title.startswith("justify") else f"\n{title}")
        click.echo(format_result(answer, base=base))
    from justify._patterns import patterns as pattern_use

    click.echo("\n$ justify patterns  (what each kind of requirement needs; `--format json`)")
    use = pattern_use(result.config)
    for pattern in use.patterns.values():
        slots = ", ".join(s.id + (" (optional)" if s.optional else "") for s in pattern.supports)
        followers = ", ".join(use.followed_by[pattern.id]) or "-"
        click.echo(f"{pattern.id}: {slots}; followed by {followers}")
    if use.without:
        click.echo("no pattern covers: " + ", ".join(rid for rid, _ in use.without))
    reports = ["reports/check.sarif", "reports/junit.xml", "reports/summary.md"]
    click.echo(f"\n$ justify check -o {' -o '.join(reports)}")
    report = result.judgement
    for spec in reports:
        out_fmt, path = output_target(spec)
        write_report(render(report, out_fmt), result.directory / path)
    click.echo(to_text(report))
    click.echo(
        f"(justify check exits {report.exit_code()} here: the planted problems fail it; "
        f"reports written to {directory}/reports/)"
    )
    if result.team_check is not None:
        click.echo("\n$ justify export --graph requirements -o reports/requirements.ttl")
        click.echo("$ justify check --data reports/requirements.ttl --shapes team-shapes/")
        click.echo(to_text(result.team_check))
        click.echo(
            "(the team's own SHACL shapes, tried on a file before they join the "
            "project's `shapes` setting; any RDF file and shapes work the same way)"
        )
    from justify._elicit import elicit, render_markdown, render_text
    from justify._jpipe import export_jpipe

    click.echo("\n$ justify elicit REQ-FAIR-1  (the to-do list; --format markdown for a PR)")
    short = {result.config.base_iri: ":"}
    todo = elicit(config=result.config)
    click.echo(render_text([e for e in todo if e.requirement == "REQ-FAIR-1"], short))
    (result.directory / "reports" / "justification-todo.md").write_text(
        render_markdown(todo, short), encoding="utf-8"
    )
    click.echo(f"(every requirement's to-do list: {directory}/reports/justification-todo.md)")
    click.echo("\n$ justify export --format jpipe -o reports/jpipe")
    exported = export_jpipe(result.directory / "reports" / "jpipe", config=result.config)
    click.echo(
        f"wrote {len(exported.requirements)} jPipe justifications ("
        + ", ".join(exported.requirements)
        + ") with their steps, and justification.jd; run one with "
        "`jpipe-runner --library reports/jpipe/REQ-REC-1_steps.py reports/jpipe/REQ-REC-1.json`"
    )
    click.echo("\n$ justify report -o reports/audit.html  (and --format markdown)")
    audit = gather_report(config=result.config)
    for fmt, name in (("html", "reports/audit.html"), ("markdown", "reports/audit.md")):
        write_report_file(audit, fmt, result.directory / name, progress=False)
    click.echo(
        f"wrote the audit report to {directory}/reports/audit.html (figures inline) and "
        "audit.md (figures in audit-figures/): ship verdicts first, then each requirement "
        "with its justification diagram and plots"
    )
    # The graph as audited, kept beside the report; a server URL works the same way.
    click.echo("\n$ justify store copy .justify reports/audited-store")
    copied = copy_store(".justify", "reports/audited-store", config=result.config)
    click.echo(
        f"copied {len(copied.graphs)} graphs ({sum(copied.graphs.values())} triples); "
        f"`justify --store reports/audited-store trace REQ-PREC-1` reads that copy"
    )
    _demo_guard_rails(result.directory, result.config)
    port = int(result.config.number("app_port"))
    click.echo(
        f"\nExplore it: cd {directory} && {_own_command(result.directory)} app   "
        f"(then open http://127.0.0.1:{port}/)"
        "\nOr on the command line: justify status, justify trace REQ-PREC-1, "
        "justify query trace --param id=REQ-REC-1"
        "\nShare it: justify store copy .justify http://HOST:PORT/sparql moves the graph "
        "to a SPARQL server (README: A shared store on a SPARQL server)"
    )


# Hostile requirement files, for the demo's guard rails: a Python tag, an alias bomb.
HOSTILE_FILES = {
    "python-tag.yaml": "requirements:\n  - id: REQ-EVIL-1\n"
    '    title: !!python/object/apply:os.system ["echo owned"]\n',
    "alias-bomb.yaml": "requirements:\n  - id: REQ-EVIL-2\n    title: laughs\n"
    "    l0: &l0 [ha, ha, ha, ha, ha, ha, ha, ha, ha, ha]\n"
    + "".join(f"    l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9)),
}


def _demo_guard_rails(directory: Path, config: Config) -> None:
    """The demo shows that hostile input is refused and secrets never printed."""
    from justify._load import load as run_load
    from justify.errors import JustifyError
    from justify.urls import redact

    folder = directory / "untrusted"
    folder.mkdir(exist_ok=True)
    for name, text in HOSTILE_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    click.echo("\n$ justify load --dry-run untrusted/   (guard rails: hostile files)")
    try:
        run_load([folder], dry_run=True, config=config)
    except JustifyError as exc:
        click.echo(f"refused with exit code {exc.exit_code}: {exc.message}")
    secret = "http://alice:s3cret@mlflow.internal:5000/?token=abc123"
    click.echo(
        f"and a tracking URI {secret.replace('s3cret', '<password>').replace('abc123', '<token>')} "
        f"reads in every message, log and stored value as: {redact(secret)}"
    )
