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
    """The recording is longer than the configured duration limit."""

    def __init__(self, reason: str, *, duration_s: float, limit_s: float, name: str | None = None) -> None:
        super().__init__(reason, name=name)
        self.duration_s = duration_s
        self.limit_s = limit_s
        minutes = limit_s / 60
        limit = f"{minutes:g} minutes" if minutes >= 1 else f"{limit_s:g} seconds"
        self.user_message = f"That voice message is too long; please keep it under {limit} or type your question."


class SilentAudio(AudioError):
    """The recording holds only silence (a muted or disconnected microphone)."""

    user_message = "I couldn't hear anything in that voice message; the microphone may be muted. " + _RETRY


class NoSpeech(AudioError):
    """The recording has sound but no words the model could make out."""

    user_message = f"Sorry, I couldn't make out any words in that voice message. {_RETRY}"
