"""The commands that read and judge the graph, and manage the project and the store."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from justify.choices import (
    CHECK_FORMATS,
    ENGINES,
    EXPORT_FORMATS,
    FAIL_ON,
    OUTPUT_FORMATS,
    REPORT_FORMATS,
)
from justify.cli._shell import cli, current_config, shared_options
from justify.errors import UsageError

if TYPE_CHECKING:
    from justify.judgement import Judgement


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--pattern",
    default=None,
    help="Also write requirements/PATTERN.yaml: a draft requirement that follows this "
    "justification pattern, each support slot written out (see `justify patterns`).",
)
def init(directory: Path, pattern: str | None) -> None:
    """Scaffold justify in DIRECTORY: configuration, an example requirement file,
    and .justify/ in .gitignore. Existing files are kept.

    \b
    Examples:
      justify init
      justify init --pattern fairness
      justify load && justify query requirements
    """
    from justify.scaffold import init as run_init

    result = run_init(directory, pattern=pattern)
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
    from justify._load import load as run_load

    click.echo(str(run_load(list(paths) or None, dry_run=dry_run, config=current_config())))


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
    type=click.Choice(CHECK_FORMATS),
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
@click.option(
    "--data",
    "data_files",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Validate this RDF file instead of the store (repeatable; the format comes from "
    "the extension: .ttl .nt .nq .trig .jsonld .rdf); needs --shapes.",
)
@click.option(
    "--shapes",
    "shape_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="With --data: the shape files or folders to validate with (only these, not "
    "justify's own).",
)
@click.option(
    "--rederive",
    is_flag=True,
    help="Apply every rule again, even when nothing the recorded derived links depend "
    "on changed (by default they are reused).",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Say which shapes the fast engine hands to pySHACL, and why, and whether the "
    "recorded derived links were reused.",
)
@shared_options
def check(
    engine: str,
    fmt: str,
    outputs: tuple[str, ...],
    keep_history: bool,
    fail_on: str | None,
    allow_empty: bool,
    data_files: tuple[Path, ...],
    shape_paths: tuple[Path, ...],
    rederive: bool,
    verbose: bool,
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
      justify check --data graph.ttl --shapes my-shapes.ttl --format json
    """
    from justify.check_formats import output_target
    from justify.judgement import check as run_check
    from justify.judgement import judge_files

    targets = [output_target(spec) for spec in outputs]  # bad names fail before the work
    say = (lambda text: click.echo(text, err=True)) if verbose else None
    if data_files or shape_paths:
        if not data_files or not shape_paths:
            raise UsageError(
                "--data and --shapes go together",
                hint="justify check --data FILE --shapes FILE_OR_FOLDER",
            )
        report = judge_files(
            data_files, shape_paths, engine=engine, fail_on=fail_on or "violation", say=say
        )
        _emit(report, fmt, targets)
    config = current_config()
    report = run_check(
        engine=engine,
        fail_on=fail_on,
        record=keep_history,
        allow_empty=allow_empty,
        config=config,
        say=say,
        reuse=not rederive,
    )
    _emit(report, fmt, targets)


def _emit(report: Judgement, fmt: str, targets: list[tuple[str, str]]) -> None:
    """The report files and the output, each format rendered once; exits with the
    judgement's code."""
    from justify.check_formats import render, write_report

    rendered: dict[str, str] = {}
    for out_fmt in [*(f for f, _ in targets), fmt]:
        if out_fmt not in rendered:
            rendered[out_fmt] = render(report, out_fmt)
    for out_fmt, path in targets:
        write_report(rendered[out_fmt], Path(path))
    click.echo(rendered[fmt])
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
    from justify._history import history as run_history
    from justify._query import text_table

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
    from justify._trace import trace as run_trace

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
    from justify._query import canned_queries, format_result, text_table
    from justify._query import query as run_query

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
    type=click.Choice((*EXPORT_FORMATS, "jpipe")),
    default="turtle",
    show_default=True,
    help="RDF format, or jpipe (a folder of jPipe diagrams and steps).",
)
@click.option(
    "--graph", "-g", metavar="NAME", help="One graph: its IRI or short name (requirements)."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="File to write (default: standard output); the folder for --format jpipe.",
)
@shared_options
def export(fmt: str, graph: str | None, output: Path | None) -> None:
    """Export the graph store as RDF, or (--format jpipe) each requirement's
    justification for jPipe: per requirement REQ.json (the diagram jpipe-runner
    validates) and REQ_steps.py (its steps, bound to justify's judgement), and
    justification.jd with the patterns, into the folder -o names.

    \b
    Examples:
      justify export -o graph.ttl
      justify export --format nquads -o all.nq
      justify export --graph requirements --format jsonld
      justify export --format jpipe -o reports/jpipe
      jpipe-runner --library reports/jpipe/REQ-REC-1_steps.py reports/jpipe/REQ-REC-1.json
    """
    from justify.graphs import export as run_export

    if fmt == "jpipe":
        from justify._jpipe import export_jpipe

        if output is None or graph is not None:
            raise UsageError(
                "--format jpipe writes a folder of files and takes no --graph",
                hint="give the folder with -o, e.g. justify export --format jpipe -o jpipe",
            )
        done = export_jpipe(output, config=current_config())
        click.echo(
            f"wrote {len(done.files)} files to {output}: {len(done.requirements)} "
            "justifications with their steps, and justification.jd"
            + (
                f"; not exported (draft, retired or without a pattern): {', '.join(done.skipped)}"
                if done.skipped
                else ""
            )
        )
        return

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
    from justify.graphs import repair_store

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
    from justify.graphs import copy_store

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
    from justify._query import text_table
    from justify.graphs import status as run_status

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
    """Write the audit report: ship verdicts first, problems worst first, then every
    requirement with its status, criteria, justification diagram and plots (inline
    SVG in HTML; SVG files beside a Markdown report), evidence values, commits,
    annotations and check results, stamped with the date, the HEAD commit and the
    justify version. Renders the judgement of the graph as it is now.

    \b
    Examples:
      justify report -o audit.html
      justify report --format markdown -o audit.md
    """
    from justify.audit import gather as gather_report
    from justify.audit import write as write_report_file

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
    from justify.serve import start_app, wait_until_serving

    config = current_config()
    chosen = port or int(config.number("app_port"))
    process = start_app(config, chosen)
    # Stopped by a signal (a service manager, CI), stop Streamlit too: no orphan server.
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        # The URL only once something answers there: a server that fails to start
        # must not leave a URL on the screen that leads nowhere.
        if wait_until_serving(process, chosen):
            click.echo(f"justify explorer: http://127.0.0.1:{chosen}/  (Ctrl-C stops it)")
        sys.exit(process.wait())
    except KeyboardInterrupt:
        process.terminate()
        process.wait(10)


@cli.command()
@click.argument("requirement", metavar="[REQ-ID]", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("text", "markdown", "json")),
    default="text",
    show_default=True,
    help="text for people, markdown for a pull-request comment, json for tools.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)
@shared_options
def elicit(requirement: str | None, fmt: str, output: Path | None) -> None:
    """The to-do list of the justifications: per requirement (sub-requirements
    first) and per slot of its justification pattern, the evidence that fills the
    slot, or that it is missing or failing and how to produce it. Renders the
    judgement of the graph as it is now; writes nothing to the store.

    \b
    Examples:
      justify elicit
      justify elicit REQ-FAIR-1
      justify elicit --format markdown -o justification-todo.md
    """
    from justify._elicit import elicit as run_elicit
    from justify._elicit import render_json, render_markdown, render_text

    config = current_config()
    items = run_elicit(requirement, config=config)
    short = {config.base_iri: ":"}
    if fmt == "json":
        text = render_json(items)
    elif fmt == "markdown":
        text = render_markdown(items, short)
    else:
        text = render_text(items, short)
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}",
                         hint="choose a writable file") from exc  # fmt: skip
    todo = sum(len(e.todo) for e in items)
    click.echo(f"wrote {output} ({fmt}): {todo} slots to fill or fix in {len(items)} requirements")


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="text for people, json for tools.",
)
@shared_options
def patterns(fmt: str) -> None:
    """List the justification patterns (built-in and the `patterns` setting): what each
    kind of requirement needs to be justified, and which requirements follow each one
    (by `pattern:`, else by kind). Reads the files only; a requirement naming an
    unknown pattern is an error (exit 2).

    \b
    Examples:
      justify patterns
      justify patterns --format json
    """
    import dataclasses
    import json

    from justify._patterns import patterns as pattern_use

    use = pattern_use(current_config())
    if fmt == "json":
        data = {
            "patterns": [
                {**dataclasses.asdict(p), "followed_by": list(use.followed_by[p.id])}
                for p in use.patterns.values()
            ],
            "without_pattern": [{"id": rid, "kind": kind} for rid, kind in use.without],
        }
        click.echo(json.dumps(data, indent=2))
        return
    for p in use.patterns.values():
        kinds = ", ".join(p.kinds) or "none (named with `pattern:`)"
        click.echo(f"{p.id}: {p.title}  [{p.file}:{p.line}]")
        click.echo(f"  applies to kinds: {kinds}")
        click.echo(f"  strategy: {p.strategy}")
        for slot in p.supports:
            selector = ", ".join(f"{k}={v}" for k, v in slot.selector.items())
            optional = " (optional)" if slot.optional else ""
            how = f"{slot.kind}: {selector}" if selector else slot.kind
            click.echo(f"  - {slot.id}{optional}: {slot.label} [{how}]")
        if p.agree:
            click.echo(f"  supports agree on: {', '.join(p.agree)}")
        followers = ", ".join(use.followed_by[p.id]) or "no requirement yet"
        click.echo(f"  followed by: {followers}")
    if use.without:
        listed = ", ".join(f"{rid} (kind {kind})" for rid, kind in use.without)
        click.echo(f"no pattern covers: {listed}; give them a `pattern:` or add one for their kind")
