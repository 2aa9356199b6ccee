"""``kefu bench speech``: short-window transcription against the library's own ``transcribe()``, same run.

Three measurements per backend, each beside its baseline:
- ``margins``: word error rate and speed for each encoder window (note length + margin, or the full
  30 s) over synthetic notes of 1-30 s; the data the default margin is chosen from.
- ``latency``: 3, 6, 15 and 30 s notes, the short-window path vs the library's own ``transcribe()`` on
  the same weights, audio and beam size; real-time factor and speed-up ratio.
- ``batching``: 8 notes of different conversations in one call, and side by side on
  ``parallel_calls`` threads, vs one at a time.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from speech.corpus import Note, build_notes, note_of_length
from speech.transcriber import WhisperTranscriber
from speech.transcript import Transcript
from speech.wer import corpus_wer

LENGTHS_S = (3.0, 6.0, 15.0, 30.0)
MARGINS_S: tuple[float | None, ...] = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, None)


def _timed(fns: Sequence[Callable[[], Any]], repeats: int) -> list[tuple[float, Any]]:
    """Median seconds of each function over ``repeats`` rounds of calls in turn, after one warm-up call of each.

    Taking turns keeps a change in the machine's load from favouring any side. Returns each median with
    the function's last result.
    """
    results = [fn() for fn in fns]
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for side, fn in enumerate(fns):
            started = time.perf_counter()
            results[side] = fn()
            times[side].append(time.perf_counter() - started)
    return [(statistics.median(spent), result) for spent, result in zip(times, results, strict=True)]


def _text(result: Transcript | Exception) -> str:
    return result.text if isinstance(result, Transcript) else ""


def margin_table(
    transcriber: WhisperTranscriber, notes: Sequence[Note], margins: Sequence[float | None]
) -> list[dict[str, Any]]:
    """WER, mean latency and real-time factor of each encoder window over ``notes``, one note at a time."""
    saved = transcriber.audio_ctx_margin_s
    rows = []
    audio_s = sum(n.duration_s for n in notes)
    try:
        transcriber.transcribe_arrays([notes[0].audio])  # warm-up
        for margin in margins:
            transcriber.audio_ctx_margin_s = margin
            started = time.perf_counter()
            texts = [_text(transcriber.transcribe_arrays([n.audio])[0]) for n in notes]
            elapsed = time.perf_counter() - started
            rows.append(
                {
                    "window": "30 s (full)" if margin is None else f"note + {margin:g} s",
                    "margin_s": margin,
                    "wer": round(corpus_wer(zip((n.text for n in notes), texts, strict=True)), 4),
                    "mean_latency_s": round(elapsed / len(notes), 3),
                    "rtf": round(elapsed / audio_s, 4),
                }
            )
    finally:
        transcriber.audio_ctx_margin_s = saved
    return rows


def latency(
    transcriber: WhisperTranscriber, *, lengths: Sequence[float] = LENGTHS_S, repeats: int = 3
) -> list[dict[str, Any]]:
    """Per note length: the short-window path vs the library's ``transcribe()``, same audio and beam size."""
    rows = []
    for index, seconds in enumerate(lengths):
        note = note_of_length(seconds, index=index + 3)
        audio = note.audio
        (ours, results), (library, library_text) = _timed(
            [partial(transcriber.transcribe_arrays, [audio]), partial(transcriber.library_transcribe, audio)], repeats
        )
        rows.append(
            {
                "note_s": seconds,
                "latency_s": round(ours, 3),
                "rtf": round(ours / seconds, 4),
                "library_latency_s": round(library, 3),
                "library_rtf": round(library / seconds, 4),
                "speedup": round(library / ours, 2),
                "same_text": corpus_wer([(library_text, _text(results[0]))]) == 0.0,
            }
        )
    return rows


def batching(transcriber: WhisperTranscriber, notes: Sequence[Note], *, repeats: int = 2) -> dict[str, Any]:
    """Several notes in one model call, and one call per note on ``parallel_calls`` threads, vs one call
    per note in turn (the micro-batcher's three choices)."""
    audios = [n.audio for n in notes]
    saved = transcriber.batch_size

    def one_at_a_time() -> list[Any]:
        transcriber.batch_size = 1
        return [transcriber.transcribe_arrays([a]) for a in audios]

    def in_one_call() -> list[Any]:
        transcriber.batch_size = len(audios)
        return transcriber.transcribe_arrays(audios)

    def side_by_side() -> list[Any]:
        transcriber.batch_size = 1
        with ThreadPoolExecutor(transcriber.parallel_calls) as pool:
            return list(pool.map(lambda audio: transcriber.transcribe_arrays([audio]), audios))

    try:
        (alone, _), (batched, _), (parallel, _) = _timed([one_at_a_time, in_one_call, side_by_side], repeats)
    finally:
        transcriber.batch_size = saved
    return {
        "notes": len(audios),
        "one_at_a_time_s": round(alone, 3),
        "batched_s": round(batched, 3),
        "speedup": round(alone / batched, 2),
        "batching_pays": transcriber.batching_pays,
        "parallel_calls": transcriber.parallel_calls,
        "side_by_side_s": round(parallel, 3),
        "side_by_side_speedup": round(alone / parallel, 2),
    }


def run(
    transcribers: Sequence[WhisperTranscriber],
    *,
    notes: int = 36,
    margins: Sequence[float | None] = MARGINS_S,
    repeats: int = 3,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """The whole benchmark for each transcriber; a JSON-ready dict."""
    progress(f"synthesising {notes} notes with espeak-ng")
    corpus = build_notes(notes) if notes else []
    batch_notes = [note_of_length(s, index=i) for i, s in enumerate((3, 4, 5, 6, 8, 10, 12, 15))]
    report: dict[str, Any] = {
        "notes": len(corpus),
        "audio_s": round(sum(n.duration_s for n in corpus), 1),
        "backends": [],
    }
    for transcriber in transcribers:
        name = f"{transcriber.backend} ({transcriber.model_name}, {transcriber.device})"
        entry: dict[str, Any] = {
            "backend": transcriber.backend,
            "model": transcriber.model_name,
            "device": transcriber.device,
            "beam_size": transcriber.beam_size,
            "margin_s": transcriber.audio_ctx_margin_s,
        }
        progress(f"{name}: latency vs the library's transcribe()")
        entry["latency"] = latency(transcriber, repeats=repeats)
        progress(f"{name}: cross-conversation batching")
        entry["batching"] = batching(transcriber, batch_notes, repeats=max(1, repeats - 1))
        if corpus:
            progress(f"{name}: WER vs encoder window over {len(corpus)} notes")
            entry["margins"] = margin_table(transcriber, corpus, margins)
        report["backends"].append(entry)
    return report
