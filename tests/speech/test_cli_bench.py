"""``kefu transcribe`` and the benchmark's measurements, on the quick tiny.en model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from speech import benchmark
from speech.corpus import Note, build_notes
from speech.transcriber import WhisperTranscriber
from speech.wer import word_error_rate
from tests.speech.conftest import Clip


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def test_transcribe_json(runner: CliRunner, english: list[Clip], tmp_path: Path) -> None:
    note = tmp_path / "voice.ogg"
    note.write_bytes(english[1].ogg)
    result = runner.invoke(app, ["transcribe", str(note), "--json", "--model", "tiny.en", "--beam-size", "1"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"text", "language", "duration_s", "timings_ms"}
    assert payload["language"] == "en" and payload["duration_s"] == pytest.approx(3.1, abs=0.2)
    assert word_error_rate(english[1].text, payload["text"]) <= 0.3
    assert payload["timings_ms"]["total"] >= payload["timings_ms"]["model"] > 0


def test_transcribe_bad_input_exits_non_zero(runner: CliRunner, tmp_path: Path) -> None:
    photo = tmp_path / "photo.ogg"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    result = runner.invoke(app, ["transcribe", str(photo), "--model", "tiny.en"])
    assert result.exit_code == 1
    assert "photo.ogg" in result.stderr and "type your question" in result.stderr
    missing = runner.invoke(app, ["transcribe", str(tmp_path / "nope.ogg")])
    assert missing.exit_code == 2 and "cannot read" in missing.stderr


def test_corpus_notes_span_the_lengths_asked() -> None:
    notes = build_notes(3, min_s=4, max_s=12)
    assert [round(n.duration_s) for n in notes] == pytest.approx([4, 8, 12], abs=2.5)
    assert all(n.text and n.audio.dtype.name == "float32" for n in notes)


@pytest.mark.slow  # a benchmark run: the library's transcribe() against ours
def test_benchmark_measures_against_the_library_in_the_same_run(tiny: WhisperTranscriber) -> None:
    (row,) = benchmark.latency(tiny, lengths=(3.0,), repeats=1)
    assert row["latency_s"] > 0 and row["library_latency_s"] > 0
    assert row["speedup"] == pytest.approx(row["library_latency_s"] / row["latency_s"], rel=0.02)
    notes = [Note(n.text, n.audio) for n in build_notes(2, min_s=3, max_s=6)]
    table = benchmark.margin_table(tiny, notes, (1.0, None))
    assert [r["window"] for r in table] == ["note + 1 s", "30 s (full)"]
    assert all(0 <= r["wer"] <= 0.5 for r in table)
    assert tiny.audio_ctx_margin_s == 2.0  # restored
    batch = benchmark.batching(tiny, notes, repeats=1)
    assert batch["notes"] == 2 and batch["speedup"] > 0 and tiny.batch_size == 1
    assert batch["parallel_calls"] == tiny.parallel_calls and batch["side_by_side_s"] > 0
