"""Typed errors for audio the engine cannot turn into text; ``user_message`` is safe to show the shopper."""

from __future__ import annotations

_RETRY = "Please record it again or type your question."


class AudioError(ValueError):
    """A voice note that cannot be transcribed; ``str()`` gives the reason, ``user_message`` a polite reply."""

    user_message = f"Sorry, I couldn't process that voice message. {_RETRY}"

    def __init__(self, reason: str, *, name: str | None = None) -> None:
        super().__init__(f"{name}: {reason}" if name else reason)
        self.reason = reason
        self.name = name


class CorruptAudio(AudioError):
    """The bytes are not a readable audio file (damaged, truncated, or not audio at all)."""

    user_message = f"Sorry, that voice message seems to be damaged and I couldn't play it. {_RETRY}"


class EmptyAudio(AudioError):
    """The file is empty or its audio stream holds no samples."""

    user_message = f"That voice message is empty. {_RETRY}"


class NoAudioStream(AudioError):
    """The file has no audio track (an image, a video without sound, a text file...)."""

    user_message = f"I couldn't find any sound in that file; I can only listen to voice messages. {_RETRY}"


class NotAudio(NoAudioStream):
    """The file is a video or an image; only voice notes and audio files are transcribed."""

    user_message = (
        "That looks like a video or a picture rather than a voice message. "
        "Please send a voice message or type your question."
    )


class AudioTooLarge(AudioError):
    """The file is bigger than the configured byte limit."""

    def __init__(self, reason: str, *, size: int, limit: int, name: str | None = None) -> None:
        super().__init__(reason, name=name)
        self.size = size
        self.limit = limit
        self.user_message = f"That voice message is too large (the limit is {limit / 1e6:g} MB). {_RETRY}"


class AudioTooLong(AudioError):
    """The recording is longer than the configured duration limit.

    ``complete``: ``duration_s`` is the whole recording's length (from the container's header); when False,
    decoding stopped at the limit and the recording lasts at least ``duration_s``.
    """

    def __init__(
        self, reason: str, *, duration_s: float, limit_s: float, complete: bool = True, name: str | None = None
    ) -> None:
        super().__init__(reason, name=name)
        self.duration_s = duration_s
        self.limit_s = limit_s
        self.complete = complete
        limit = spoken_duration(limit_s)
        if complete:
            self.user_message = f"Your voice note is {spoken_duration(duration_s)} long; the limit is {limit}."
        else:
            self.user_message = f"Your voice note is over the {limit} limit."
        self.user_message += " Please send a shorter one."


class SilentAudio(AudioError):
    """The recording holds only silence (a muted or disconnected microphone)."""

    user_message = "I couldn't hear anything in that voice message; the microphone may be muted. " + _RETRY


class NoSpeech(AudioError):
    """The recording has sound but no words the model could make out."""

    user_message = f"Sorry, I couldn't make out any words in that voice message. {_RETRY}"


class TranscriptionCancelled(RuntimeError):
    """Transcription stopped early because its caller gave up (a turn timed out) or the bot is stopping.

    Not the shopper's fault, so it carries no ``user_message``; ``done_s`` says how far into the note it got.
    """

    def __init__(self, *, done_s: float, duration_s: float) -> None:
        super().__init__(f"transcription cancelled after {done_s:.1f} s of a {duration_s:.1f} s note")
        self.done_s = done_s
        self.duration_s = duration_s


def spoken_duration(seconds: float) -> str:
    """A duration as a person says it: ``4 min 37 s``, ``2 min``, ``1 h 5 min``, ``45 s``, ``2.5 s``."""
    if seconds < 60:
        return f"{round(seconds, 1):g} s"
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    if secs and not hours:
        parts.append(f"{secs} s")
    return " ".join(part for part in parts if part)
