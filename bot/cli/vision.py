"""Vision commands: ``kefu describe FILE``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.core import ConfigOption, JsonOption, setup
from bot.cli.groups import app


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg="red", err=True)
    return typer.Exit(code)


@app.command()
def describe(
    file: Annotated[Path, typer.Argument(help="A photo: JPEG, PNG, WebP or GIF (first frame).")],
    backend: Annotated[
        str | None, typer.Option("--backend", help="classifier or captioner (default: from the configuration).")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="The captioner's model folder or hub name.")] = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Say what is in a photo: a caption (with a captioner), ImageNet labels with scores, and the text on it."""
    from rich.console import Console

    import vision
    from bot.app import resolve_device

    settings = setup(config, log_level="WARNING")
    try:
        data = file.read_bytes()
    except OSError as error:
        raise _fail(f"cannot read {file}: {error.strerror or error}", 2) from None
    options = settings.vision
    try:
        describer = vision.load_describer(
            backend=backend or (options.backend if options.backend != "off" else "classifier"),
            model=model or options.model,
            device=resolve_device(settings, options.device),
            labels=options.labels,
            ocr=options.ocr,
            limits=vision.ImageLimits(
                max_bytes=options.max_bytes, max_pixels=options.max_pixels, max_side=options.max_side
            ),
        )
        with Console(stderr=True).status("loading the vision models…"):
            [result] = describer.describe_batch([data])
    except (ValueError, ImportError) as error:
        raise _fail(str(error), 2) from None
    if isinstance(result, vision.ImageError):
        raise _fail(f"{file}: {result}\n{result.user_message}") from None
    if isinstance(result, BaseException):
        raise result
    if json_output:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return
    if result.caption:
        typer.echo(result.caption)
    for label in result.labels:
        typer.echo(f"{label.score:6.1%}  {label.label}")
    for line in result.text:
        typer.echo(f"text: {line}")
    if not (result.caption or result.labels or result.text):
        typer.echo("nothing recognised")
