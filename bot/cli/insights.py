"""``kefu report``: the insights of a period as a text summary, JSON, a PNG/PDF picture, a self-contained HTML page,
or the unanswered questions as a to-do CSV for ``kefu kb build``; ``kefu bench insights``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.groups import app, bench_app
from bot.cli.kit import ConfigOption, JsonOption, fail, fail_usage, print_json, setup

DEFAULT_SIZES = "10000,100000,1000000"
_FORMATS = (".html", ".png", ".pdf", ".json", ".csv")


@app.command()
def report(
    since: Annotated[str, typer.Option(help="The period up to now: 24h, 7d, 30d, 2w…")] = "7d",
    channel: Annotated[str | None, typer.Option(help="One channel (web, telegram, slack…); default all.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write report.html, report.png, report.pdf, report.json or (with --unanswered) todo.csv."),
    ] = None,
    unanswered: Annotated[
        bool,
        typer.Option(
            "--unanswered", help="Only the grouped unanswered questions, as CSV (question, answer, count, examples)."
        ),
    ] = False,
    by_meaning: Annotated[
        bool,
        typer.Option(
            "--by-meaning",
            help="Group unanswered questions with the sentence encoder (loads it) instead of by wording.",
        ),
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """What shoppers asked, what the bot did and why, feedback, latency and hand-offs over a period."""
    from bot.insights.aggregate import Period, parse_period

    settings = setup(config, log_level="WARNING")
    try:
        period = Period.last(parse_period(since), channel=channel)
    except ValueError as error:
        fail_usage(error)
    suffix = out.suffix.lower() if out else ""
    if out is not None and suffix not in _FORMATS:
        fail_usage(f"--out {out}: write .html, .png, .pdf, .json or .csv")
    if (suffix == ".csv") != unanswered and out is not None:
        fail_usage("the unanswered questions go to a .csv file (--unanswered --out todo.csv), the report elsewhere")
    encoder = _encoder(settings) if by_meaning else None
    summary = asyncio.run(_summary(settings, period, encoder))
    _write(summary, out=out, unanswered=unanswered, as_json=as_json)


def _encoder(settings: Any) -> Any:
    from kb.encoders import load_encoder
    from kb.errors import KbError

    try:
        return load_encoder(settings.kb.encoder, device="cpu")
    except KbError as error:
        fail(error)


async def _summary(settings: Any, period: Any, encoder: Any) -> dict[str, Any]:
    from bot.errors import ConfigError
    from bot.insights.aggregate import summarize
    from bot.sessions.sqlite import Database, sqlite_path

    file = sqlite_path(settings.store_url)
    if not file.exists():
        fail(f"no store at {file} yet: the bot has not recorded a conversation (KEFU_STORE__URL)")
    try:
        db = await Database.open(file)
    except ConfigError as error:
        fail(error)
    try:
        from bot.insights import rollup

        async with db.transaction() as c:
            await rollup.setup(c)
        return await summarize(db, period, encoder=encoder)
    finally:
        await db.close()


def _write(summary: dict[str, Any], *, out: Path | None, unanswered: bool, as_json: bool) -> None:
    from bot.insights.export import todo_csv
    from bot.insights.report import render_figure, render_html

    groups = summary["unanswered"]["groups"]
    try:
        if unanswered:
            text = todo_csv(groups)
            if out is None:
                typer.echo(text, nl=False)
                return
            out.write_text(text, encoding="utf-8")
        elif out is not None and out.suffix.lower() in (".png", ".pdf"):
            out.write_bytes(render_figure(summary, fmt=out.suffix.lower()[1:]))
        elif out is not None and out.suffix.lower() == ".html":
            out.write_text(render_html(summary), encoding="utf-8")
        elif out is not None:
            out.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {out}: {error}")
    if as_json:
        print_json(summary)
    elif out is not None:
        typer.echo(f"wrote {out}" + (f" ({len(groups)} groups of unanswered questions)" if unanswered else ""))
    else:
        _print_text(summary)


def _print_text(summary: dict[str, Any]) -> None:
    t = summary["totals"]
    typer.echo(
        f"{t['conversations']} conversations, {t['turns']} messages, 👍 {t['up']} 👎 {t['down']}, "
        f"{summary['tickets']['open']} open tickets"
    )
    for move in summary["moves"]:
        typer.echo(f"  {move['move']:<9} {move['turns']:>7}  {100 * (move['share'] or 0):5.1f} %")
    for stage in summary["latency_ms"]:
        typer.echo(f"  {stage['stage']:<10} p50 {stage['p50']} ms  p95 {stage['p95']} ms")
    for group in summary["unanswered"]["groups"][:10]:
        typer.echo(f"  {group['count']:>5} × {group['question']}")


@bench_app.command("insights")
def bench_insights(
    sizes: Annotated[str, typer.Option(help="Turn counts, comma-separated, grown in one store.")] = DEFAULT_SIZES,
    as_json: JsonOption = False,
) -> None:
    """Time the dashboard's summary (rollups) against the same figures scanned from the turns, as the store grows."""
    from bot.cli.insights_bench import run_bench

    try:
        counts = sorted({int(size) for size in sizes.split(",") if size.strip()})
    except ValueError:
        fail_usage(f"--sizes {sizes!r}: whole numbers, comma-separated")
    if not counts or counts[0] <= 0:
        fail_usage("--sizes needs positive numbers")
    results = asyncio.run(run_bench(counts))
    if as_json:
        print_json(results)
        return
    for row in results:
        typer.echo(
            f"{row['turns']:>9} turns: summary {row['summary_ms']:8.1f} ms   "
            f"scan of the turns {row['scan_ms']:8.1f} ms   (rollup rows {row['rollup_rows']})"
        )
