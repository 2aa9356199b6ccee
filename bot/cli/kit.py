"""What every command shares: ``--config`` and ``--json``, settings and logging, and one way to end with an error.

Exit codes (the same for every command):

- ``0`` done;
- ``1`` failed: the work could not be done (an unreadable file, a broken index, an unreachable server);
- ``2`` usage or configuration: a bad option or setting, a misspelt channel, a missing secret.
"""

from __future__ import annotations

import json
import logging
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:  # imported lazily at run time: `kefu --help` must stay quick
    from bot.app import Components
    from bot.config import Settings


class ExitCode(IntEnum):
    DONE = 0
    FAILED = 1
    USAGE = 2


ConfigOption = Annotated[Path | None, typer.Option("--config", help="A kefu.toml (default: ./kefu.toml when present).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]

_verbose = False


def set_verbose(verbose: bool) -> None:
    """``kefu --verbose``: every command logs at DEBUG, library chatter included."""
    global _verbose
    _verbose = verbose


def fail(problem: BaseException | str, *, code: ExitCode = ExitCode.FAILED) -> NoReturn:
    """End the command: ``error: …`` on stderr (the error's user-facing message when it has one), then ``code``."""
    from bot.errors import user_message

    text = problem if isinstance(problem, str) else user_message(problem) or str(problem)
    typer.secho(f"error: {text}", fg="red", err=True)
    raise typer.Exit(int(code))


def fail_usage(problem: BaseException | str) -> NoReturn:
    """``fail`` with exit code 2: a bad option, setting or channel."""
    fail(problem, code=ExitCode.USAGE)


def read_input(file: Path) -> bytes:
    """The bytes of a file named on the command line; one that cannot be read ends the command (exit 2)."""
    try:
        return file.read_bytes()
    except OSError as error:
        fail_usage(f"cannot read {file}: {error.strerror or error}")


def print_json(value: Any) -> None:
    """A result as JSON on stdout (UTF-8 as written, indented)."""
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def setup(config: Path | None, *, log_level: str | None = None) -> Settings:
    """Settings and logging for a command (``log_level`` unless ``--verbose``); a configuration error ends it."""
    from bot.config import load_settings
    from bot.errors import ConfigError
    from bot.logs import configure_logging

    try:
        settings = load_settings(config)
    except ConfigError as error:
        fail_usage(error)
    configure_logging("DEBUG" if _verbose else log_level or settings.log_level)
    return settings


def check(settings: Settings) -> None:
    """Build the configured channels from their settings before any model loads; a bad one ends the command."""
    from bot.app import check_channels
    from bot.errors import ConfigError

    try:
        check_channels(settings)
    except ConfigError as error:
        fail_usage(error)


def check_store(settings: Settings) -> None:
    """Open the configured store once before any model loads: a bad URL ends the command with code 2, a Redis server
    that does not answer with code 1 (one ``error:`` line, no traceback)."""
    import asyncio

    from bot.app import probe_store
    from bot.errors import ConfigError, StoreUnavailable

    try:
        logging.getLogger("bot.app").info("store: %s", asyncio.run(probe_store(settings)))
    except ConfigError as error:
        fail_usage(error)
    except StoreUnavailable as error:
        fail(error)


def load(settings: Settings, *, speech: bool = True) -> Components:
    """Load the engines with a spinner on stderr (a first run says it builds the index once); a knowledge base that
    cannot be used ends the command clearly."""
    from rich.console import Console

    from bot.app import load_components, locate_knowledge_base
    from bot.errors import ConfigError
    from kb.errors import KbError

    try:
        if locate_knowledge_base(settings).needs_build():
            typer.secho("building the knowledge-base index once (about a minute; later starts reuse it)…", err=True)
            return load_components(settings, speech=speech, progress=True)
        with Console(stderr=True).status("loading models and the knowledge base…"):
            return load_components(settings, speech=speech)
    except ConfigError as error:
        fail_usage(error)
    except KbError as error:
        fail(error)
