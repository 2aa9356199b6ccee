"""Core commands: ``kefu run``, ``kefu chat``, ``kefu ask``, ``kefu doctor``, ``kefu --version``."""

from __future__ import annotations

from typing import Annotated

import typer

from bot import __version__
from bot.cli.groups import app


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kefu {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """kefu: a runtime for multimodal customer-service bots."""
