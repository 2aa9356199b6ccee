"""Small pure functions: encoder windows, timestamp segments, loop detection, word error rate."""

from __future__ import annotations

from dataclasses import dataclass

from speech.transcriber import window_frames
from speech.transcript import compression_ratio, split_segments
from speech.wer import corpus_wer, normalize, word_error_rate


def test_window_is_the_note_plus_margin_even_and_capped() -> None:
    assert window_frames(6.0, 2.0) == 800
    assert window_frames(6.005, 2.0) % 2 == 0 and window_frames(6.005, 2.0) >= 801
    assert window_frames(29.0, 5.0) == 3000
    assert window_frames(3.0, None) == 3000


@dataclass
class _Tokens:
    """A stand-in vocabulary: ids below 100 are words, 100 is end of text, 200 on are timestamps."""

    eot: int = 100
    timestamp_begin: int = 200

    def decode(self, tokens: list[int]) -> str:
        return " ".join(f"w{t}" for t in tokens if t < self.eot)


def test_segments_follow_timestamp_tokens() -> None:
    text, segments = split_segments([200, 1, 2, 300, 300, 3, 450], _Tokens(), duration_s=4.0)
    assert text == "w1 w2 w3"
    assert [(s.start, s.end, s.text) for s in segments] == [(0.0, 2.0, "w1 w2"), (2.0, 4.0, "w3")]  # 5.0 s clamped


def test_unclosed_segment_ends_at_the_note_end() -> None:
    _, segments = split_segments([210, 5, 6], _Tokens(), duration_s=3.0)
    assert [(s.start, s.end) for s in segments] == [(0.2, 3.0)]


def test_compression_ratio_flags_loops() -> None:
    assert compression_ratio("Where is my parcel? I ordered it last week.") < 2.4
    assert compression_ratio("Can you tell me how long it takes? " * 8) > 2.4


def test_word_error_rate() -> None:
    assert normalize("Hello, I'm FINE—thanks! 你好") == ["hello", "im", "fine", "thanks", "你", "好"]
    assert word_error_rate("where is my parcel", "where is the parcel") == 0.25
    assert word_error_rate("a b", "a b c d") == 1.0
    assert corpus_wer([("a b", "a c"), ("x y z", "x y z")]) == 0.2
