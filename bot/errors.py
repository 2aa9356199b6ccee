"""Errors the core raises and turns into a clear answer for the user and a line in the log."""

from __future__ import annotations


class KefuError(Exception):
    """Base of kefu's own errors."""


class ConfigError(KefuError):
    """The configuration is invalid or names something that cannot be loaded."""


class StoreUnavailable(KefuError):
    """The configured store (a Redis server) does not answer; the command or the start fails with this message."""


class BadInput(KefuError):
    """The user's input cannot be processed; ``str(error)`` is safe to show to the user."""


class InputTooLarge(BadInput):
    """An attachment or text is over a configured limit."""


class Overloaded(KefuError):
    """A bounded queue is full: the caller should back off and retry."""


class DeliveryDeferred(KefuError):
    """A channel cannot deliver a reply yet (no recipient connected); the runtime's outbox tries again later.

    Raised by ``Adapter.send`` when waiting is right (a browser that is reconnecting), unlike a failure.
    """


class StageTimeout(KefuError):
    """A pipeline stage did not finish within its deadline."""

    def __init__(self, stage: str, seconds: float) -> None:
        super().__init__(f"stage {stage!r} took longer than {seconds:g} s")
        self.stage = stage
        self.seconds = seconds


def user_message(error: BaseException) -> str | None:
    """The text an error says it may show to a user, or None when it is internal.

    Engines cannot import this module (docs/architecture.md §3), so they mark user-safe errors with a ``user_message``
    attribute or by subclassing ``ValueError`` with a plain message; kefu's own use ``BadInput``.
    """
    if isinstance(error, BadInput):
        return str(error)
    message = getattr(error, "user_message", None)
    return message if isinstance(message, str) and message else None
