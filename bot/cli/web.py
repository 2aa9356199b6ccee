"""``kefu bench isolation``: one web chat shopper's answer times while another floods the chat."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from bot.cli.groups import bench_app
from bot.cli.kit import ConfigOption, JsonOption, load, setup

TextSizes = Annotated[
    list[float] | None,
    typer.Option("--text-mb", metavar="MIB", help="A size of the flood's text frames (repeat; default 2, 10, 30)."),
]


@bench_app.command("isolation")
def bench_isolation(
    samples: Annotated[int, typer.Option("--samples", "-n", min=2, help="Questions timed alone, then flooded.")] = 40,
    text_mb: TextSizes = None,
    upload_mb: Annotated[float, typer.Option("--upload-mb", help="Size of the flood's junk voice upload.")] = 15.0,
    voice_s: Annotated[float, typer.Option("--voice-s", help="Length of the flood's voice note (0: none).")] = 120.0,
    config: ConfigOption = None,
    json_output: JsonOption = False,
) -> None:
    """p50/p95 of one shopper's answers alone, then while another sends 2-30 MiB frames and a long voice note."""
    from bot.cli.isolation import bench_isolation as measure

    settings = setup(config, log_level="WARNING")
    components = load(settings)
    report = asyncio.run(
        measure(
            settings,
            components,
            samples=samples,
            text_mb=text_mb or [2.0, 10.0, 30.0],
            upload_mb=upload_mb,
            voice_s=voice_s,
        )
    )
    if json_output:
        typer.echo(json.dumps(report, indent=2))
        return
    for phase in ("idle", "flooded"):
        row = report[phase]
        typer.echo(
            f"{phase:8s}: {row['answered']} answered, {row['unanswered']} refused; p50 {row['p50_ms']} ms, "
            f"p95 {row['p95_ms']} ms, max {row['max_ms']} ms"
        )
    flood = report["flooder"]
    typer.echo(
        f"flooder : sent {flood.get('sent', {})} (voice note {report['voice_s']} s), got {flood.get('answers', {})}"
    )
    typer.echo(f"p95 flooded / idle: {report['p95_ratio']}x")
