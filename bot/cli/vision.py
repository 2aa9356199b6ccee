"""Vision commands: ``kefu describe FILE`` and ``kefu bench vision``."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.groups import app, bench_app
from bot.cli.kit import ConfigOption, JsonOption, fail, fail_usage, load, print_json, read_input, setup

if TYPE_CHECKING:
    from bot.app import Components
    from bot.config import Settings


@app.command()
def describe(
    file: Annotated[Path, typer.Argument(help="A photo: JPEG, PNG, WebP or GIF (first frame).")],
    backend: Annotated[
        str | None, typer.Option("--backend", help="classifier, captioner or server (default: from the configuration).")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="The captioner's model folder or hub name.")] = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Say what is in a photo: a caption (with a captioner), ImageNet labels with scores, and the text on it."""
    from rich.console import Console

    import vision
    from bot.app import load_describer

    settings = setup(config, log_level="WARNING")
    data = read_input(file)
    try:
        describer = load_describer(settings, backend=backend, model=model)
        with Console(stderr=True).status("loading the vision models…"):
            [result] = describer.describe_batch([data])
    except (ValueError, ImportError) as error:
        fail_usage(str(error))
    if isinstance(result, vision.ImageError):
        fail(f"{file}: {result}\n{result.user_message}")
    if isinstance(result, BaseException):
        raise result
    if json_output:
        print_json(result.as_json())
        return
    if result.caption:
        typer.echo(result.caption)
    for label in result.labels:
        typer.echo(f"{label.score:6.1%}  {label.label}")
    for line in result.text:
        typer.echo(f"text: {line}")
    if not (result.caption or result.labels or result.text):
        typer.echo("nothing recognised")


@bench_app.command("vision")
def bench_vision(
    images: Annotated[int, typer.Option("--images", min=2, help="Label photos for batched vs one at a time.")] = 8,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Timed repeats per latency (median).")] = 5,
    turn: Annotated[
        bool, typer.Option("--turn/--no-turn", help="Also time a whole photo turn on the demo store.")
    ] = True,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Images/s batched vs one at a time; a 12-megapixel photo (labels and OCR side by side, then one after the other)
    vs RapidOCR on the full image; a photo turn's latency."""
    from rich.console import Console

    import vision
    from vision import benchmark

    settings = setup(config, log_level="WARNING")
    console = Console(stderr=True)
    components = load(settings, speech=False)
    describer = components.describer
    if not isinstance(describer, vision.PhotoDescriber):
        fail_usage("no describer is configured or installed (kefu doctor says why)")
    report = benchmark.run(describer, images=images, repeats=repeats, progress=lambda line: console.log(line))
    if turn:
        console.log("a photo turn on the demo store: the 12-megapixel label photo, no words")
        report["photo_turn"] = asyncio.run(_photo_turn(settings, components, benchmark.phone_photo(), repeats))
    if json_output:
        print_json(report)
    else:
        _render(report)


async def _photo_turn(settings: Settings, components: Components, photo: bytes, repeats: int) -> dict[str, Any]:
    """Wall time of whole turns (understand, match, intent, retrieve, decide, reply) with ``photo`` attached."""
    from bot.app import build_pipeline
    from bot.messages import Attachment, ConversationRef, Message

    pipeline = build_pipeline(settings, components)
    times, reply = [], None
    try:
        for n in range(repeats + 1):
            attachment = Attachment.from_bytes("photo", photo, mime_type="image/jpeg")
            message = Message(ConversationRef("bench", f"photo-{n}"), user_id="bench", attachments=(attachment,))
            started = time.perf_counter()
            reply = await pipeline.handle(message)
            if n:  # the first turn warms the encoder and the batchers' threads
                times.append(time.perf_counter() - started)
    finally:
        await pipeline.engines.aclose()
    assert reply is not None
    return {
        "p50_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "stages_ms": {name: round(ms, 1) for name, ms in reply.timings_ms.items()},
        "reply": reply.text,
    }


def _render(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    rate = report["throughput"]
    console.print(
        f"{rate['images']} label photos: batched {rate['batched_images_per_s']} images/s, one at a time "
        f"{rate['one_at_a_time_images_per_s']} images/s ({rate['speedup']}×)"
    )
    phone = report["phone_photo"]
    table = Table(title=f"a {phone['megapixels']}-megapixel JPEG, median of {report['repeats']}")
    other = "one_after_the_other_p50_s" if "one_after_the_other_p50_s" in phone else "side_by_side_p50_s"
    other_name = "one after the other" if other == "one_after_the_other_p50_s" else "side by side"
    for column in ("kefu describe", f"kefu, {other_name}", "RapidOCR direct", "speed-up", "same text"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{phone['kefu_p50_s']:.3f} s",
        f"{phone[other]:.3f} s",
        f"{phone['rapidocr_direct_p50_s']:.3f} s",
        f"{phone['speedup']:.2f}×",
        "yes" if phone["same_text"] else "no",
    )
    console.print(table)
    if "photo_turn" in report:
        turn = report["photo_turn"]
        console.print(f"photo turn: p50 {turn['p50_s']:.3f} s, max {turn['max_s']:.3f} s; stages {turn['stages_ms']}")
        console.print(f"reply: {turn['reply']}")
