"""The command line: a thin shell over the library.

Each command forwards to one public function of ``justify``. Library errors
(``JustifyError``) become a message and an exit code here, in one place:
0 ok, 1 justification failures, 2 invalid input or usage, 3 a source or store
cannot be reached.
"""

from __future__ import annotations

import signal
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from justify import __version__
from justify._check import ENGINES, FAIL_ON
from justify._demo import demo as run_demo
from justify._history import history as run_history
from justify._load import load as run_load
from justify._query import OUTPUT_FORMATS, canned_queries, format_result, text_table
from justify._query import query as run_query
from justify._sync import sync as run_sync
from justify._trace import trace as run_trace
from justify.audit import REPORT_FORMATS
from justify.audit import gather as gather_report
from justify.audit import write as write_report_file
from justify.check_formats import FORMATS, output_target, render, to_text, write_report
from justify.config import Config, all_settings, load_config
from justify.errors import JustifyError
from justify.graphs import copy_store, repair_store
from justify.graphs import export as run_export
from justify.graphs import status as run_status
from justify.importers import Importer, broken_importers, registered_importers, run_import
from justify.judgement import check as run_check
from justify.scaffold import init as run_init
from justify.serve import start_app
from justify.store import EXPORT_FORMATS
from justify.urls import redact, redact_logs


def report_error(exc: JustifyError) -> None:
    click.secho(f"error: {exc.message}", fg="red", err=True)
    if exc.hint:
        click.echo(f"  hint: {exc.hint}", err=True)


class JustifyGroup(click.Group):
    """Turns ``JustifyError`` into a message and its exit code, for every command."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Built when help is asked for: the settings include the importers' own.
        self.epilog = _settings_epilog()
        super().format_epilog(ctx, formatter)

    def invoke(self, ctx: click.Context) -> Any:
        redact_logs()
        try:
            return super().invoke(ctx)
        except JustifyError as exc:
            report_error(exc)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; the store keeps its previous graphs", err=True)
            ctx.exit(130)


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    # --config and --store may be given before or after the command name.
    if value is not None:
        ctx.ensure_object(dict)[param.name] = value
        if ctx.parent is not None:
            ctx.parent.ensure_object(dict)[param.name] = value
    return value


def shared_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--config`` and ``--store``, declared once and stacked on each command."""
    command = click.option(
        "--store",
        envvar=None,
        expose_value=False,
        callback=_remember,
        metavar="FOLDER|URL",
        help="Graph store: a folder, or a SPARQL server's query URL "
        "(default: the 'store' setting, .justify).",
    )(command)
    command = click.option(
        "--config",
        "config",
        expose_value=False,
        callback=_remember,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Configuration file (default: nearest justify.toml or pyproject.toml).",
    )(command)
    return command


def current_config() -> Config:
    ctx = click.get_current_context()
    obj: dict[str, Any] = {}
    for c in reversed(list(_lineage(ctx))):
        obj.update(c.obj or {})
    return load_config(obj.get("config"), overrides={"store": obj.get("store")})


def _lineage(ctx: click.Context | None) -> Any:
    while ctx is not None:
        yield ctx
        ctx = ctx.parent


def _settings_epilog() -> str:
    lines = ["\b", "Settings ([tool.justify] in pyproject.toml, or justify.toml; env overrides):"]
    lines += [f"  {s.name:<26} {s.env}" for s in all_settings().values()]
    lines += [
        "",
        "\b",
        "Exit codes: 0 ok, 1 justification failures, 2 invalid input or usage,",
        "3 a source or store cannot be reached.",
    ]
    return "\n".join(lines)


@click.group(
    cls=JustifyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="justify")
@shared_options
def cli() -> None:
    """Keep the justification of every requirement of an ML system in one RDF graph.

    \b
    Start with:
      justify demo            build and load a small demo workspace
      justify init            scaffold justify in the current project
    """


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Scaffold justify in DIRECTORY: configuration, an example requirement file,
    and .justify/ in .gitignore. Existing files are kept.

    \b
    Example:
      justify init
      justify load && justify query requirements
    """
    result = run_init(directory)
    for path in result.created:
        click.echo(f"wrote {path}")
    for path in result.kept:
        click.echo(f"kept  {path}")
    click.echo("next: edit requirements/*.yaml, then run `justify load`")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the files, write nothing (pre-commit).")
@shared_options
def load(paths: tuple[Path, ...], dry_run: bool) -> None:
    """Load requirement files (default: the 'requirements' setting) into the graph.

    Every problem in every file is reported as file:line: message, and nothing
    is loaded until all of them are fixed (exit 2).

    \b
    Examples:
      justify load
      justify load requirements/performance.yaml requirements/governance.yaml
      justify load --dry-run
    """
    click.echo(str(run_load(list(paths) or None, dry_run=dry_run, config=current_config())))


def _show_warnings(warnings: tuple[str, ...] | list[str]) -> None:
    for warning in warnings:
        click.secho(f"warning: {redact(warning)}", fg="yellow", err=True)


class ImportGroup(click.Group):
    """``justify import NAME``: one subcommand per registered importer, built from its
    declaration (options, help, examples), so a plug-in needs no change here."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(registered_importers())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        importer = registered_importers().get(cmd_name)
        return _import_command(importer) if importer else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_commands(ctx, formatter)
        broken = broken_importers()
        if broken:
            with formatter.section("Installed but broken"):
                formatter.write_dl(sorted(broken.items()))


def _import_command(importer: Importer) -> click.Command:
    def run(full: bool, **options: Any) -> None:
        summary = run_import(importer.name, full=full, config=current_config(), **options)
        click.echo(str(summary))
        _show_warnings(summary.warnings)

    params: list[click.Parameter] = []
    for o in importer.options:
        kind: Any = click.Path(file_okay=False, path_type=Path) if o.folder else None
        params.append(
            click.Option(
                [o.flag_name, o.name],
                is_flag=o.switch,
                multiple=o.multiple,
                type=kind,
                metavar=None if o.switch else o.metavar,
                help=o.help,
            )
        )
    params.append(
        click.Option(["--full"], is_flag=True, help="Re-read everything instead of what changed.")
    )
    body = importer.summary[:1].upper() + importer.summary[1:] + "."
    if importer.description:
        body += "\n\n" + textwrap.dedent(importer.description)
    if importer.examples:
        body += "\n\n\b\nExamples:\n" + "\n".join(f"  {e}" for e in importer.examples)
    command = click.Command(
        importer.name, callback=run, params=params, help=body, short_help=importer.summary
    )
    shared_options(command)  # appends the two options to the command's own
    return command


@cli.group("import", cls=ImportGroup)
def import_group() -> None:
    """Import a source into its own named graph, with one of the registered importers.

    Importers are plug-ins (entry-point group justify.importers): MLflow and Git
    come with justify; an installed package can add more.

    \b
    Examples:
      justify import mlflow --tracking-uri http://127.0.0.1:5000
      justify import git --repo .
    """


@cli.command()
@click.option("--full", is_flag=True, help="Re-read every source from scratch.")
@shared_options
def sync(full: bool) -> None:
    """Rebuild the graph from every configured source: requirement files, MLflow, Git.

    \b
    Example:
      justify sync
    """
    for summary in run_sync(full=full, config=current_config(), echo=click.echo):
        _show_warnings(getattr(summary, "warnings", ()))


def _parse_params(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    params = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE")
        params[key] = value
    return params


@cli.command()
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="fast",
    show_default=True,
    help="fast: each SPARQL constraint once on the store; pyshacl: the reference.",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default="text",
    show_default=True,
    help="Report format on standard output.",
)
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    metavar="[FORMAT:]FILE",
    help="Also write a report file (repeatable); the format comes from FORMAT: or "
    "the extension (.json, .xml for JUnit, .sarif, .md, .txt).",
)
@click.option(
    "--history/--no-history",
    "keep_history",
    default=True,
    show_default=True,
    help="Record the judgement and the status changes with their causes and the HEAD "
    "commit (see justify history); --no-history writes nothing.",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default=None,
    help="Which results make the exit code 1 and stop a model version from shipping "
    "(default: the 'fail_on' setting, violation).",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Pass (exit 0) without a configuration or without requirements, instead of exiting 2.",
)
@shared_options
def check(
    engine: str,
    fmt: str,
    outputs: tuple[str, ...],
    keep_history: bool,
    fail_on: str | None,
    allow_empty: bool,
) -> None:
    """Check that every requirement is justified by current, sufficient evidence, and
    whether each model version may ship.

    Runs the SHACL shapes of shapes/ (and the 'shapes' setting's folders) over
    all graphs, prints each requirement's status (failing, unjustified, stale,
    justified, draft, retired) with the failing rules and each model version's
    ship verdict, and exits 1 when a result reaches --fail-on. With no
    configuration, or no requirement loaded, it exits 2 (see --allow-empty).

    \b
    Examples:
      justify check
      justify check --format json --fail-on warning
      justify check -o check.sarif -o junit.xml -o summary.md --format github
      justify check --engine pyshacl
    """
    targets = [output_target(spec) for spec in outputs]  # bad names fail before the work
    config = current_config()
    report = run_check(
        engine=engine,
        fail_on=fail_on,
        record=keep_history,
        allow_empty=allow_empty,
        config=config,
    )
    for out_fmt, path in targets:
        write_report(render(report, out_fmt), Path(path))
    click.echo(render(report, fmt))
    click.get_current_context().exit(report.exit_code())


@cli.command()
@click.argument("requirement", metavar="[REQ-ID]", required=False)
@shared_options
def history(requirement: str | None) -> None:
    """Show when requirements became justified or stopped being so, on which commit,
    and why: the status changes that `justify check` recorded, with their causes (a
    new or finished run, an alias moved, a requirement edited, a version registered).

    \b
    Examples:
      justify history
      justify history REQ-REC-1
    """
    changes = run_history(requirement, config=current_config())
    if not changes:
        click.echo("no status changes recorded yet; `justify check` records them")
        return
    rows = [
        [
            c.time,
            c.requirement,
            f"{c.previous or '-'} -> {c.status}",
            (c.commit or "")[:8] + (f" {c.commit_title}" if c.commit_title else ""),
            "; ".join(c.causes),
        ]
        for c in changes
    ]
    click.echo(
        text_table(["time", "requirement", "status", "commit", "cause"], rows, max_width=160)
    )


@cli.command()
@click.argument("requirement", metavar="REQ-ID")
@shared_options
def trace(requirement: str) -> None:
    """Show the justification of one requirement as a tree: conclusion, strategy,
    criteria, current and older evidence with values, datasets, commits, authors,
    model versions and aliases, and the check results.

    \b
    Example:
      justify trace REQ-REC-1
    """
    click.echo("\n".join(run_trace(requirement, config=current_config()).render()))


@cli.command()
@click.argument("query", required=False)
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    callback=_parse_params,
    metavar="NAME=VALUE",
    help="Value of a query parameter (repeatable).",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(OUTPUT_FORMATS),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option("--list", "list_queries", is_flag=True, help="List the canned queries and exit.")
@click.option(
    "--allow-service",
    is_flag=True,
    help="Let a SERVICE pattern send requests to other servers (refused by default).",
)
@shared_options
def query(
    query: str | None, params: dict[str, str], fmt: str, list_queries: bool, allow_service: bool
) -> None:
    """Run SPARQL over all graphs: inline text, @file.rq, or a canned query's name.

    \b
    Examples:
      justify query requirements
      justify query unjustified --format csv
      justify query trace --param id=REQ-REC-1
      justify query 'SELECT ?id WHERE { ?r a jf:Requirement ; dcterms:identifier ?id }'
      justify query @my-query.rq --format json
    """
    if list_queries:
        rows = [
            [q.name, ", ".join(p for p, _ in q.parameters), q.title]
            for q in canned_queries().values()
        ]
        click.echo(text_table(["name", "parameters", "title"], rows))
        return
    if not query:
        raise click.UsageError("give a QUERY (SPARQL, @file.rq or a canned name), or --list")
    config = current_config()
    result = run_query(query, params=params, allow_service=allow_service, config=config)
    click.echo(format_result(result, fmt, base=config.base_iri))


@cli.command()
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(list(EXPORT_FORMATS)),
    default="turtle",
    show_default=True,
    help="RDF format.",
)
@click.option(
    "--graph", "-g", metavar="NAME", help="One graph: its IRI or short name (requirements)."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)
@shared_options
def export(fmt: str, graph: str | None, output: Path | None) -> None:
    """Export the graph store as RDF.

    \b
    Examples:
      justify export -o graph.ttl
      justify export --format nquads -o all.nq
      justify export --graph requirements --format jsonld
    """
    count = run_export(fmt, graph=graph, output=output, config=current_config())
    if output is not None:
        click.echo(f"wrote {count} statements to {output}")


@cli.group("store")
def store_group() -> None:
    """Manage the graph store as a whole."""


@store_group.command("repair")
@shared_options
def store_repair_command() -> None:
    """Repair an embedded store whose pointer to its published generation is damaged:
    publish the newest complete generation again. Nothing else changes.

    \b
    Example:
      justify store repair
    """
    config = current_config()
    name = repair_store(config=config)
    click.echo(f"the store at {config.store_location} now reads generation {name}")


@store_group.command("copy")
@click.argument("source")
@click.argument("target")
@shared_options
def store_copy_command(source: str, target: str) -> None:
    """Copy every graph from the store SOURCE to the store TARGET.

    Each is a folder (the embedded store) or a SPARQL server's query URL; TARGET
    ends up with exactly SOURCE's graphs, written in one step (a failure leaves it
    as it was). Server credentials come from JUSTIFY_STORE_USER and
    JUSTIFY_STORE_PASSWORD, or JUSTIFY_STORE_TOKEN; its update and Graph Store
    URLs from the store_update_url and store_graph_store_url settings.

    \b
    Examples:
      justify store copy .justify http://127.0.0.1:8890/sparql-auth
      justify store copy http://127.0.0.1:8890/sparql-auth backup-store
    """
    summary = copy_store(source, target, config=current_config(), echo=click.echo)
    total = sum(summary.graphs.values())
    click.echo(
        f"copied {len(summary.graphs)} graphs ({total} triples) "
        f"from {summary.source} to {summary.target}"
    )
    for name in summary.dropped:
        click.echo(f"removed <{name}> from {summary.target} (not in {summary.source})")


@cli.command()
@shared_options
def status() -> None:
    """Show each named graph, its size, and when and from what it was last imported.

    \b
    Example:
      justify status
    """
    config = current_config()
    graphs = run_status(config=config)
    click.echo(f"store: {config.store_location}")
    if not graphs:
        click.echo("the store is empty; run `justify load` to load requirement files")
        return
    rows = [
        [
            g.graph,
            str(g.triples),
            g.kind or "",
            str(g.items or ""),
            g.imported_at or "",
            g.location or "",
        ]
        for g in graphs
    ]
    click.echo(
        text_table(["graph", "triples", "source", "items", "imported", "from"], rows, max_width=80)
    )


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
    result = run_demo(directory, echo=click.echo)
    base = result.config.base_iri
    for title, answer in (
        ("justify query requirements", result.requirements),
        (
            "requirement -> current evidence -> judged value (dataset) -> commit -> author",
            result.evidence,
        ),
        ("justify query unjustified", result.unjustified),
    ):
        click.echo(f"\n$ {title}" if title.startswith("justify") else f"\n{title}")
        click.echo(format_result(answer, base=base))
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
    audit = gather_report(config=result.config)
    for fmt, name in (("html", "reports/audit.html"), ("markdown", "reports/audit.md")):
        write_report_file(audit, fmt, result.directory / name)
    click.echo("\n$ justify report -o reports/audit.html  (and --format markdown)")
    click.echo(f"wrote the audit report to {directory}/reports/audit.html and audit.md")
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
        f"\nExplore it: cd {directory} && justify app   (then open http://127.0.0.1:{port}/)"
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


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default="html",
    show_default=True,
    help="html: one self-contained file; markdown: for a wiki or a pull request.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write.",
)
@shared_options
def report(fmt: str, output: Path) -> None:
    """Write the audit report: summary, models (ship or not), every requirement with
    its status, criteria, evidence values, commits and check results, stamped with
    the date, the HEAD commit and the justify version. Runs the check afresh.

    \b
    Examples:
      justify report -o audit.html
      justify report --format markdown -o audit.md
    """
    config = current_config()
    audit = gather_report(config=config)
    write_report_file(audit, fmt, output)
    failing = sum(audit.counts.get(s, 0) for s in ("failing", "unjustified"))
    click.echo(
        f"wrote {output} ({fmt}): {len(audit.requirements)} requirements, "
        f"{failing} failing or unjustified"
    )


@cli.command()
@click.option("--port", type=int, help="Port on 127.0.0.1 (default: the app_port setting, 8501).")
@shared_options
def app(port: int | None) -> None:
    """Start the explorer (read-only) on the configured store and print its URL.

    \b
    Examples:
      justify app
      justify app --port 8600
    """
    config = current_config()
    chosen = port or int(config.number("app_port"))
    process = start_app(config, chosen)
    # Stopped by a signal (a service manager, CI), stop Streamlit too: no orphan server.
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    click.echo(f"justify explorer: http://127.0.0.1:{chosen}/  (Ctrl-C stops it)")
    try:
        sys.exit(process.wait())
    except KeyboardInterrupt:
        process.terminate()
        process.wait(10)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``justify`` console script and ``python -m justify``."""
    try:
        cli.main(args=argv, prog_name="justify")
    except JustifyError as exc:  # raised while parsing options, before a command ran
        report_error(exc)
        sys.exit(exc.exit_code)
