"""The ``kefu`` command line. Each module registers its commands on the groups in ``bot.cli.groups``."""

from __future__ import annotations

from bot.cli import (  # noqa: F401  (imported for the commands they register)
    answers,  # eval answers
    core,  # run, chat, ask, doctor, bench pipeline
    dialogue,  # handoff list/show/take/reply/resolve, sessions forget/purge/stats
    insights,  # report, bench insights
    intents,  # intents train, eval intents
    kb,  # kb build/search/stats, eval retrieval, bench kb
    slack,  # bench slack
    speech,  # transcribe, bench speech
    telegram,  # bench telegram
    vision,  # describe
    web,  # bench isolation
    workers,  # worker, bench load
)
from bot.cli.groups import app


def main() -> None:
    """Console-script entry point."""
    app()
