"""Speech commands: ``kefu transcribe FILE`` and ``kefu bench speech``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.groups import app, bench_app
from bot.cli.kit import ConfigOption, JsonOption, fail, fail_usage, print_json, read_input, setup

BackendOption = Annotated[
    str | None, typer.Option("--backend", help="faster-whisper or openai-whisper (default: from the configuration).")
]
ModelOption = Annotated[
    str | None, typer.Option("--model", help="A model path, base or tiny.en (packaged), or a download name.")
]
DeviceOption = Annotated[
    str | None, typer.Option("--device", help="auto, cpu or cuda (default: from the configuration).")
]
BeamOption = Annotated[
    int | None, typer.Option("--beam-size", min=1, max=16, help="Beam width (default: from the configuration).")
]


@app.command()
def transcribe(
    file: Annotated[Path, typer.Argument(help="A voice note: OGG/Opus, WebM, M4A, MP3 or WAV.")],
    backend: BackendOption = None,
    model: ModelOption = None,
    device: DeviceOption = None,
    beam_size: BeamOption = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Transcribe a voice note with Whisper; prints the text (or text, language, duration and timings)."""
    from rich.console import Console

    import speech
    from speech.errors import AudioError

    settings = setup(config, log_level="WARNING")
    data = read_input(file)
    options = settings.speech
    try:
        with Console(stderr=True).status("loading the Whisper model…"):
            transcriber = speech.load_transcriber(
                backend=backend or options.backend,
                model=model or options.model,
                device=device or options.device,
                max_bytes=options.max_bytes,
                max_duration_s=options.max_duration_s,
                languages=options.languages or None,
                beam_size=beam_size or options.beam_size,
            )
        result = transcriber.transcribe(data, name=str(file))
    except AudioError as error:
        fail(f"{error}\n{error.user_message}")
    except ValueError as error:
        fail_usage(str(error))
    if json_output:
        payload = {
            "text": result.text,
            "language": result.language,
            "duration_s": result.duration_s,
            "timings_ms": result.timings_ms,
        }
        print_json(payload)
    else:
        typer.echo(result.text)


@bench_app.command("speech")
def bench_speech(
    backend: Annotated[
        list[str] | None,
        typer.Option(
            "--backend", help="Backends to measure (repeatable; default: faster-whisper, plus openai-whisper on CUDA)."
        ),
    ] = None,
    model: Annotated[str, typer.Option("--model", help="Model for every backend.")] = "base",
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")] = "auto",
    beam_size: Annotated[
        int, typer.Option("--beam-size", min=1, max=16, help="Beam width, for kefu and the library alike.")
    ] = 5,
    notes: Annotated[
        int, typer.Option("--notes", help="Synthetic notes (1-30 s) for the WER-vs-window table; 0 skips it.")
    ] = 36,
    repeats: Annotated[int, typer.Option("--repeats", help="Timed repeats per latency measurement (median).")] = 3,
    json_output: JsonOption = False,
) -> None:
    """Latency and real-time factor of 3/6/15/30 s notes vs the library's own transcribe(), batching, WER by window."""
    from rich.console import Console

    import speech
    from speech import benchmark
    from speech.testing import espeak_available

    if not espeak_available():
        fail_usage("espeak-ng is not installed (Debian package espeak-ng); it synthesises the benchmark's notes")
    names = backend or ["faster-whisper"]
    if backend is None and speech.resolve_device(device, backend="openai-whisper") == "cuda":
        names.append("openai-whisper")
    console = Console(stderr=True)
    try:
        transcribers = [
            speech.load_transcriber(backend=name, model=model, device=device, beam_size=beam_size) for name in names
        ]
    except ValueError as error:
        fail_usage(str(error))
    report = benchmark.run(transcribers, notes=notes, repeats=repeats, progress=lambda line: console.log(line))
    if json_output:
        print_json(report)
    else:
        _render(report)


def _render(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for entry in report["backends"]:
        title = (
            f"{entry['backend']} · {entry['model']} · {entry['device']} · beam {entry['beam_size']}"
            f" · margin {entry['margin_s']} s"
        )
        table = Table(title=f"{title}\nshort window vs the library's own transcribe(), same weights, audio, beam")
        for column in ("note", "latency", "RTF", "library transcribe()", "library RTF", "speed-up", "same text"):
            table.add_column(column, justify="right")
        for row in entry["latency"]:
            table.add_row(
                f"{row['note_s']:g} s",
                f"{row['latency_s']:.3f} s",
                f"{row['rtf']:.3f}",
                f"{row['library_latency_s']:.3f} s",
                f"{row['library_rtf']:.3f}",
                f"{row['speedup']:.2f}×",
                "yes" if row["same_text"] else "no",
            )
        console.print(table)
        batch = entry["batching"]
        console.print(
            f"batching {batch['notes']} notes in one call: {batch['batched_s']:.3f} s"
            f" vs {batch['one_at_a_time_s']:.3f} s one at a time → {batch['speedup']:.2f}×"
            f" (batching_pays={batch['batching_pays']}); side by side on {batch['parallel_calls']} threads:"
            f" {batch['side_by_side_s']:.3f} s → {batch['side_by_side_speedup']:.2f}×"
        )
        if entry.get("margins"):
            margins = Table(
                title=f"WER vs encoder window over {report['notes']} notes ({report['audio_s']} s of audio)"
            )
            for column in ("window", "WER", "mean latency", "RTF"):
                margins.add_column(column, justify="right")
            for row in entry["margins"]:
                margins.add_row(
                    row["window"], f"{row['wer']:.2%}", f"{row['mean_latency_s']:.3f} s", f"{row['rtf']:.3f}"
                )
            console.print(margins)
