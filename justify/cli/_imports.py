"""`justify import NAME` (one subcommand per registered importer) and `justify sync`."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from justify.importers import Importer

from justify.cli._shell import cli, current_config, shared_options, show_warnings


class ImportGroup(click.Group):
    """``justify import NAME``: one subcommand per registered importer, built from its
    declaration (options, help, examples), so a plug-in needs no change here."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from justify.importers import registered_importers

        return list(registered_importers())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from justify.importers import registered_importers

        importer = registered_importers().get(cmd_name)
        return _import_command(importer) if importer else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from justify.importers import broken_importers

        super().format_commands(ctx, formatter)
        broken = broken_importers()
        if broken:
            with formatter.section("Installed but broken"):
                formatter.write_dl(sorted(broken.items()))


def _import_command(importer: Importer) -> click.Command:
    from justify.importers import run_import

    def run(full: bool, **options: Any) -> None:
        summary = run_import(importer.name, full=full, config=current_config(), **options)
        click.echo(str(summary))
        show_warnings(summary.warnings)

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
        # Written like a docstring: the first line flush, the others indented.
        body += "\n\n" + inspect.cleandoc(importer.description)
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
    from justify._sync import sync as run_sync

    for summary in run_sync(full=full, config=current_config(), echo=click.echo):
        show_warnings(getattr(summary, "warnings", ()))
