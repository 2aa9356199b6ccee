"""The duration cap: an over-long note is refused before any model work, from its header or while decoding."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.errors import user_message
from speech.audio import DEFAULT_MAX_DURATION_S, decode_audio
from speech.errors import AudioTooLong
from speech.testing import restamp_ogg


def test_the_engine_and_the_settings_share_a_two_minute_cap() -> None:
    assert DEFAULT_MAX_DURATION_S == Settings().speech.max_duration_s == 120


def test_a_277_s_note_is_refused_from_its_header(rambling_note: bytes) -> None:
    with pytest.raises(AudioTooLong) as caught:
        decode_audio(rambling_note, name="voice.ogg")
    refused = caught.value
    assert refused.complete and refused.duration_s == pytest.approx(277, abs=0.1)  # the header's length, not decoded
    assert user_message(refused) == "Your voice note is 4 min 37 s long; the limit is 2 min. Please send a shorter one."


def test_a_header_that_understates_the_length_is_caught_at_the_cap(rambling_note: bytes) -> None:
    lying = restamp_ogg(rambling_note, duration_s=60)  # says 1 min, holds 277 s
    with pytest.raises(AudioTooLong) as caught:
        decode_audio(lying, name="voice.ogg")
    refused = caught.value
    assert not refused.complete
    assert 120 < refused.duration_s < 120.1  # decoding stopped one frame past the cap: never the whole note
    assert user_message(refused) == "Your voice note is over the 2 min limit. Please send a shorter one."


def test_durations_read_as_people_say_them() -> None:
    from speech.errors import spoken_duration

    said = [spoken_duration(s) for s in (2.05, 45, 60, 120, 277, 3900, 7200)]
    assert said == ["2 s", "45 s", "1 min", "2 min", "4 min 37 s", "1 h 5 min", "2 h"]
