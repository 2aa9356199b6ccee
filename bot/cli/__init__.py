"""The ``kefu`` command line. Each module registers its commands on the groups in ``bot.cli.groups``."""

from __future__ import annotations

from bot.cli import core  # noqa: F401  (registers run, chat, ask, doctor, bench pipeline)
from bot.cli import dialogue  # noqa: F401  (registers handoff list/show/take/reply/resolve, sessions forget/purge/stats)
from bot.cli import intents  # noqa: F401  (registers intents train, eval intents)
from bot.cli import kb  # noqa: F401  (registers kb build/search/stats, eval retrieval, bench kb)
from bot.cli import speech  # noqa: F401  (registers transcribe, bench speech)
from bot.cli import telegram  # noqa: F401  (registers bench telegram)
from bot.cli.groups import app


def main() -> None:
    """Console-script entry point."""
    app()
