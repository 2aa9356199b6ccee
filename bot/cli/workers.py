"""``kefu worker`` (worker mode on a Redis store, docs/scale.md) and ``kefu bench load``."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.core import serve_until_signal
from bot.cli.groups import app
from bot.cli.kit import ConfigOption, check_store, fail_usage, load, setup


@app.command()
def worker(
    name: Annotated[
        str | None, typer.Option("--name", help="This worker's name in the group (default: host name and pid).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Answer the messages a `kefu run --role front` appends to the Redis stream (run as many as you need)."""
    from bot.app.roles import KefuWorker
    from bot.errors import ConfigError

    settings = setup(config)
    if name is not None:
        settings.workers.name = name
    check_store(settings)
    try:
        KefuWorker.check(settings)
    except ConfigError as error:
        fail_usage(error)
    serve_until_signal(KefuWorker(settings, load(settings)))
