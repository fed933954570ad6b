"""`justify lineage receive`: an OpenLineage HTTP endpoint feeding the events folder."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from justify.cli._shell import cli, current_config, shared_options


@cli.group("lineage")
def lineage_group() -> None:
    """OpenLineage events: receive them from pipelines over HTTP.

    Import what was received with `justify import openlineage` (or `justify sync`).
    """


@lineage_group.command("receive")
@click.option(
    "--port", type=int, default=5055, show_default=True, help="Port to listen on (0: any free one)."
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; another than 127.0.0.1 requires JUSTIFY_LINEAGE_TOKEN.",
)
@click.option(
    "--events",
    type=click.Path(path_type=Path),
    help="Folder (or .jsonl file) to append events to (default: 'openlineage_events').",
)
@shared_options
def receive(port: int, host: str, events: Path | None) -> None:
    """Accept OpenLineage's HTTP transport: each valid event POSTed to /api/v1/lineage
    is appended to the events folder (received-YYYY-MM-DD.jsonl); an invalid one is
    answered 400 and not written. Nothing received is ever sent back.

    When JUSTIFY_LINEAGE_TOKEN is set, requests must carry it as a bearer token
    (the HTTP transport's `auth: {type: api_key, apiKey: ...}`).

    \b
    Examples:
      justify lineage receive --events lineage/
      OPENLINEAGE_URL=http://127.0.0.1:5055 python train.py   # the pipeline side
    """
    from justify.importers.openlineage import lineage_receiver

    def log(line: str) -> None:
        click.echo(line, err=True)

    receiver = lineage_receiver(
        events=events, host=host, port=port, config=current_config(), log=log
    )
    guarded = " (bearer token required)" if receiver.token else ""
    click.echo(f"receiving OpenLineage events at {receiver.url}/api/v1/lineage{guarded}")
    click.echo(f"appending them to {receiver.target}; Ctrl-C stops", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        receiver.serve()
    click.echo(f"stopped: {receiver.received} events received", err=True)
