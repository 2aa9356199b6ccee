"""Core commands: ``kefu run`` (``--role front`` too), ``kefu chat``, ``kefu ask``, ``kefu doctor``, ``kefu bench
pipeline``."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Annotated

import typer

from bot import __version__
from bot.cli.groups import app, bench_app
from bot.cli.kit import (
    ConfigOption,
    ExitCode,
    JsonOption,
    check,
    check_store,
    fail_usage,
    load,
    print_json,
    set_verbose,
    setup,
)

if TYPE_CHECKING:  # imported lazily at run time: `kefu --help` must stay quick
    from bot.messages import Reply


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kefu {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log at DEBUG, the libraries' own messages included.")
    ] = False,
) -> None:
    """kefu: a runtime for multimodal customer-service bots."""
    from bot.logs import configure_logging

    set_verbose(verbose)
    # every command: client values escaped, personal data masked (``setup`` sets the command's level)
    configure_logging("DEBUG" if verbose else logging.WARNING)


@app.command()
def run(
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="all: one process answers everything (SQLite or Redis). front: only accept onto the Redis stream and"
            " deliver replies; `kefu worker` processes answer (docs/scale.md).",
        ),
    ] = "all",
    config: ConfigOption = None,
) -> None:
    """Start every configured channel on one HTTP server (default: the web chat on the demo store).

    Until it is up, /healthz is 200 and /readyz 503 (a Redis store that does not answer is tried again).

    SIGTERM or Ctrl+C answers what is queued, then stops."""
    from bot.cli.serve import serve
    from bot.config import is_redis_url

    if role not in ("all", "front"):
        fail_usage(f"--role takes all or front, not {role!r}")
    settings = setup(config)
    check(settings)
    if role == "front":
        from bot.app.roles import KefuFront
        from bot.errors import ConfigError

        try:
            front = KefuFront(settings)
        except ConfigError as error:
            fail_usage(error)
        asyncio.run(serve(settings, lambda _: front, load=lambda: None, models=False))
        return
    from bot.app import Kefu

    if not is_redis_url(settings.store_url):
        check_store(settings)
    asyncio.run(serve(settings, lambda components: Kefu(settings, components), load=lambda: load(settings)))


LAST_CHAT = "last-chat"
"""File in the data dir naming the conversation of the last ``kefu chat`` (what ``--resume`` continues)."""


@app.command()
def chat(
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the last `kefu chat` conversation instead of a new one.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Talk to the bot in this terminal (the console channel), in a new conversation; /help lists the commands."""
    from adapters.console import ConsoleAdapter
    from bot.app import Kefu

    settings = setup(config, log_level="WARNING")
    components = load(settings)
    last = settings.data_dir / LAST_CHAT
    previous = last.read_text(encoding="utf-8").strip() if last.is_file() else ""
    if resume and not previous:
        typer.secho("no earlier conversation to resume: this is a new one", fg="yellow", err=True)

    async def converse() -> None:
        bot = Kefu(settings, components, channels=["console"], serve_http=False)
        console = next(adapter for adapter in bot.adapters if isinstance(adapter, ConsoleAdapter))
        if resume and previous:
            console.resume(previous)
        await bot.start()
        last.write_text(console.conversation.conversation_id, encoding="utf-8")
        await console.finished.wait()
        await bot.runtime.join()
        await bot.stop()

    asyncio.run(converse())
    typer.secho("`kefu chat --resume` continues this conversation.", dim=True, err=True)


@app.command()
def ask(
    text: Annotated[str, typer.Argument(help="The shopper's message.")],
    lang: Annotated[str | None, typer.Option("--lang", help="Reply language: zh or en (default: detected).")] = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """One turn through the same pipeline the channels use."""
    from bot.app import build_pipeline
    from bot.messages import ConversationRef, Message

    if lang is not None and lang not in ("zh", "en"):
        fail_usage("--lang takes zh or en")
    settings = setup(config, log_level="WARNING")
    components = load(settings, speech=False)

    async def one_turn() -> Reply:
        from bot.app import open_orders

        orders = await open_orders(settings)
        pipeline = build_pipeline(settings, components, orders=orders)
        try:
            return await pipeline.handle(
                Message(conversation=ConversationRef("cli", "ask"), user_id="cli", text=text, language=lang)
            )
        finally:
            await orders.close()
            await pipeline.engines.aclose()
            await components.generator.close()

    reply = asyncio.run(one_turn())
    if json_output:
        print_json(reply.to_json())
        return
    typer.echo(reply.text)
    for number, source in enumerate(reply.sources, 1):
        typer.secho(f"  [{number}] {source.title} ({source.id})", dim=True)


@app.command()
def doctor(json_output: JsonOption = False, config: ConfigOption = None) -> None:
    """Check the installation: configuration, packages, the store (SQLite or Redis), data dir, GPU."""
    from bot.cli.doctor import run_checks

    settings = setup(config, log_level="WARNING")
    checks = run_checks(settings)
    if json_output:
        print_json([check.to_json() for check in checks])
    else:
        for check in checks:
            mark = {"ok": "✓", "warn": "!", "fail": "✗"}[check.status]
            colour = {"ok": "green", "warn": "yellow", "fail": "red"}[check.status]
            typer.secho(f"{mark} {check.name}: {check.detail}", fg=colour)
    if any(check.status == "fail" for check in checks):
        raise typer.Exit(ExitCode.FAILED)


@bench_app.command("pipeline")
def bench_pipeline(
    messages: Annotated[int, typer.Option("--messages", "-n", help="Messages per run.")] = 400,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="Conversations at once.")] = 32,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Throughput and p50/p95/p99 per stage, micro-batching on vs off (batch size 1), in one run."""
    from bot.cli.pipeline_bench import bench_pipeline as measure
    from bot.cli.pipeline_bench import render_pipeline_report

    settings = setup(config, log_level="WARNING")
    components = load(settings, speech=False)
    report = asyncio.run(measure(settings, components, messages=messages, concurrency=concurrency))
    if json_output:
        print_json(report)
    else:
        render_pipeline_report(report)
