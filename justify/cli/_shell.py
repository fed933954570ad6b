"""The shell every command runs in: errors to messages and exit codes, the shared
--config and --store options, the effective configuration, the settings epilog."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from justify import __version__
from justify.config import Config, all_settings, load_config
from justify.errors import JustifyError
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


def show_warnings(warnings: tuple[str, ...] | list[str]) -> None:
    for warning in warnings:
        click.secho(f"warning: {redact(warning)}", fg="yellow", err=True)
