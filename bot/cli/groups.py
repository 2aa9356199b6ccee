"""The Typer command groups; each ``bot.cli.<part>`` module adds its commands to one of these."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="kefu",
    help="kefu: a runtime for multimodal customer-service bots (Telegram, Slack, web chat).",
    epilog="Exit codes: 0 done, 1 failed, 2 usage or configuration error. --verbose logs at DEBUG.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Measure speed, each against a baseline measured in the same run.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate intents and retrieval on labelled data.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
app.add_typer(eval_app, name="eval")
