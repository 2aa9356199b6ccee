"""``kefu worker`` (worker mode on a Redis store, docs/scale.md) and ``kefu bench load``."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from bot.cli.groups import app, bench_app
from bot.cli.kit import ConfigOption, JsonOption, check_store, fail, fail_usage, load, print_json, setup


@app.command()
def worker(
    name: Annotated[
        str | None, typer.Option("--name", help="This worker's name in the group (default: host name and pid).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Answer the messages a `kefu run --role front` appends to the Redis stream (run as many as you need).

    Until it is up, /healthz is 200 and /readyz 503 (a Redis store that does not answer is tried again).

    SIGTERM or Ctrl+C finishes the running turns, hands the rest back to the other workers, then stops."""
    from bot.app.roles import KefuWorker
    from bot.cli.serve import serve
    from bot.errors import ConfigError

    settings = setup(config)
    if name is not None:
        settings.workers.name = name
    try:
        KefuWorker.check(settings)
    except ConfigError as error:
        fail_usage(error)
    asyncio.run(serve(settings, lambda components: KefuWorker(settings, components), load=lambda: load(settings)))


@bench_app.command("load")
def bench_load(
    workers: Annotated[str, typer.Option("--workers", help="Worker counts to measure, in one run.")] = "1,2,3",
    chats: Annotated[int, typer.Option("--chats", help="Shoppers writing at once.")] = 200,
    per_chat: Annotated[int, typer.Option("--per-chat", help="Messages each shopper sends, one after another.")] = 3,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Messages/s and p50/p95 end to end of a front and 1, 2, 3 workers against a fake Telegram (an empty Redis
    database as the store: it is emptied between rounds)."""
    from bot.cli.load_bench import bench_load as measure
    from bot.cli.load_bench import render_load_report
    from bot.errors import ConfigError, KefuError

    try:
        counts = [int(part) for part in workers.split(",") if part.strip()]
    except ValueError:
        fail_usage(f"--workers takes counts like 1,2,3, not {workers!r}")
    if not counts or min(counts) < 1 or chats < 1 or per_chat < 1:
        fail_usage("--workers, --chats and --per-chat take positive numbers")
    settings = setup(config, log_level="WARNING")
    check_store(settings)
    load(settings)  # builds the knowledge-base index once, before the workers share it
    try:
        report = asyncio.run(measure(settings, workers=counts, chats=chats, per_chat=per_chat, config=config))
    except ConfigError as error:
        fail_usage(error)
    except KefuError as error:
        fail(error)
    if json_output:
        print_json(report)
        return
    for line in render_load_report(report):
        typer.echo(line)
