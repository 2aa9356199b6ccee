"""Typed errors of the kb engine; each names the file or index and carries a user-safe ``user_message``."""

from __future__ import annotations

from pathlib import Path


class KbError(Exception):
    """Base of kb errors; ``user_message`` is safe to show to a user and ``path`` names the file at fault."""

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None
        self.user_message = message


class SourceError(KbError):
    """A knowledge-base source file cannot be used."""


class SourceNotFound(SourceError):
    """A source path does not exist."""


class EmptySource(SourceError):
    """A source file is empty or holds no usable entries."""


class UnreadableSource(SourceError):
    """A source file exists but cannot be read (permissions, a directory, an I/O error)."""


class SourceTooLarge(SourceError):
    """A source file is over the configured size cap (checked before reading)."""


class UnknownEncoding(SourceError):
    """A source file is not in a text encoding kb recognises (UTF-8/16/32, GB18030 Chinese)."""


class BadSourceFormat(SourceError):
    """A source file is malformed: broken CSV/JSON/YAML, or records without the fields kb needs."""


class UnsupportedSource(SourceError):
    """A source file's type (extension or record shape) is not one kb loads."""


class IndexLoadError(KbError):
    """A built index cannot be loaded."""


class IndexNotFound(IndexLoadError):
    """No built index (manifest) at the given path."""


class CorruptIndex(IndexLoadError):
    """A built index is incomplete or inconsistent with its manifest."""


class EncoderMismatch(IndexLoadError):
    """An index was built with a different encoder than the one configured."""


class StaleIndex(IndexLoadError):
    """An index was built by a kb whose tokenisation differs from this one's."""


class EncoderError(KbError):
    """An encoder cannot be loaded or used."""
