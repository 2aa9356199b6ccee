"""Core commands: ``kefu run``, ``kefu chat``, ``kefu ask``, ``kefu doctor``, ``kefu bench pipeline``."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot import __version__
from bot.cli.groups import app, bench_app

if TYPE_CHECKING:  # imported lazily at run time: `kefu --help` must stay quick
    from bot.app import Components
    from bot.config import Settings
    from bot.messages import Reply

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="A kefu.toml (default: ./kefu.toml when present).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


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
    from bot.logs import configure_logging

    configure_logging()  # every command: client values escaped, personal data masked (setup() sets the level)


def setup(config: Path | None, *, log_level: str | None = None) -> Settings:
    """Settings and logging for a command; a configuration error ends the command with its message."""
    from bot.config import load_settings
    from bot.errors import ConfigError

    try:
        settings = load_settings(config)
    except ConfigError as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        raise typer.Exit(2) from None
    from bot.logs import configure_logging

    configure_logging(log_level or settings.log_level)
    return settings


def check(settings: Settings) -> None:
    """Build the configured channels from their settings before any model loads; a bad one ends the command."""
    from bot.app import check_channels
    from bot.errors import ConfigError

    try:
        check_channels(settings)
    except ConfigError as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        raise typer.Exit(2) from None


def load(settings: Settings, *, speech: bool = True) -> Components:
    """Load the engines with a spinner on stderr; a knowledge base that cannot be used ends the command clearly."""
    from rich.console import Console

    from bot.app import load_components
    from bot.errors import ConfigError
    from kb.errors import KbError

    try:
        with Console(stderr=True).status("loading models and the knowledge base…"):
            return load_components(settings, speech=speech)
    except (ConfigError, KbError) as error:
        typer.secho(f"error: {getattr(error, 'user_message', None) or error}", fg="red", err=True)
        raise typer.Exit(2 if isinstance(error, ConfigError) else 1) from None


@app.command()
def run(config: ConfigOption = None) -> None:
    """Start every configured channel on one HTTP server (default: the web chat on the demo store)."""
    from bot.app import Kefu

    settings = setup(config)
    check(settings)
    components = load(settings)

    async def serve() -> None:
        bot = Kefu(settings, components)
        await bot.start()
        if bot.http is not None:
            typer.secho(f"kefu {__version__} is running: {bot.http.url}  (Ctrl+C stops)", fg="green", err=True)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await stopping.wait()
        await bot.stop()

    asyncio.run(serve())


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
        typer.secho("error: --lang takes zh or en", fg="red", err=True)
        raise typer.Exit(2)
    settings = setup(config, log_level="WARNING")
    components = load(settings, speech=False)

    async def one_turn() -> Reply:
        from bot.dialogue import build_actions, open_orders

        pipeline = build_pipeline(settings, components)
        orders = await open_orders(settings)
        pipeline.actions.update(build_actions(orders, catalogue=pipeline.catalogue))
        try:
            return await pipeline.handle(
                Message(conversation=ConversationRef("cli", "ask"), user_id="cli", text=text, language=lang)
            )
        finally:
            await orders.close()
            await pipeline.engines.aclose()

    reply = asyncio.run(one_turn())
    if json_output:
        typer.echo(json.dumps(reply.to_json(), ensure_ascii=False, indent=2))
        return
    typer.echo(reply.text)
    for number, source in enumerate(reply.sources, 1):
        typer.secho(f"  [{number}] {source.title} ({source.id})", dim=True)


@app.command()
def doctor(json_output: JsonOption = False, config: ConfigOption = None) -> None:
    """Check the installation: configuration, packages, packaged model weights, data dir, GPU."""
    from bot.cli.doctor import run_checks

    settings = setup(config, log_level="WARNING")
    checks = run_checks(settings)
    if json_output:
        typer.echo(json.dumps([check.to_json() for check in checks], ensure_ascii=False, indent=2))
    else:
        for check in checks:
            mark = {"ok": "✓", "warn": "!", "fail": "✗"}[check.status]
            colour = {"ok": "green", "warn": "yellow", "fail": "red"}[check.status]
            typer.secho(f"{mark} {check.name}: {check.detail}", fg=colour)
    if any(check.status == "fail" for check in checks):
        raise typer.Exit(1)


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
        typer.echo(json.dumps(report, indent=2))
    else:
        render_pipeline_report(report)
