"""kefu's logging set-up: one stderr handler whose records cannot forge lines or leak personal data.

    configure_logging("INFO")     # what every ``kefu`` command does first (again with the configured level)

Values that clients supply (chat ids, callback ids, paths, texts) reach log records as arguments. A newline,
a carriage return or an ANSI escape among them could write a fake record (``CRITICAL bot.security: …``)
or repaint the terminal, so ``LogSanitiser`` writes every control character of every formatted argument
as an escape (``\\n``, ``\\x1b``, ``\\u2028``), then masks phone numbers, cards and e-mail addresses in
the whole message. Message templates are kefu's own and keep their newlines; in a traceback only the
exception messages (which often quote client values) are escaped.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from collections.abc import Mapping
from typing import Any, TextIO

from bot.pii import PiiFilter, mask_pii

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """``text`` with C0 and C1 control characters, DEL and U+2028/2029 written as backslash escapes."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return _SHORT.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


class _Escaped:
    """An argument whose ``%s`` and ``%r`` forms have their control characters escaped."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __str__(self) -> str:
        return escape_controls(str(self.value))

    def __repr__(self) -> str:
        return escape_controls(repr(self.value))


def _safe(value: object) -> object:
    """``value`` itself when neither its ``str`` nor its ``repr`` holds a control character (numbers stay
    numbers for ``%d``), else wrapped so that both are escaped."""
    if isinstance(value, _Escaped):
        return value
    try:
        clean = not (_CONTROL.search(str(value)) or _CONTROL.search(repr(value)))
    except Exception:  # noqa: BLE001 - a broken __str__ fails later, where logging reports it
        return value
    return value if clean else _Escaped(value)


class LogSanitiser(PiiFilter):
    """Escapes control characters in each record's arguments (and in a message that is not a string), then
    masks personal data in the message; the record is changed for every handler that comes after."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str):
            record.msg = escape_controls(str(record.msg))
        if isinstance(record.args, Mapping):
            record.args = {key: _safe(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_safe(value) for value in record.args)
        return super().filter(record)


class SafeFormatter(logging.Formatter):
    """Formats tracebacks with each exception's message escaped and personal data masked."""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = None  # another handler's formatter may have cached the raw traceback
        return super().format(record)

    def formatException(self, ei: Any) -> str:  # logging's name
        text = super().formatException(ei)
        for only in _exception_messages(ei[1]):
            if _CONTROL.search(only):
                text = text.replace(only, escape_controls(only))
        return mask_pii(text)


def _exception_messages(error: BaseException | None) -> list[str]:
    """``Type: message`` of ``error`` and of each exception chained to it, as a traceback prints them."""
    found: list[str] = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        found.append("".join(traceback.format_exception_only(type(error), error)).rstrip("\n"))
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return found


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time (a test runner or a CLI runner may swap it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def configure_logging(level: int | str = logging.WARNING) -> logging.Handler:
    """Install (once) kefu's stderr handler on the root logger, put a ``LogSanitiser`` first on the root
    logger and on each of its handlers, and set the root level.

    First, because a filter that formats a record (a plain ``PiiFilter``) leaves no arguments to escape.
    Idempotent: a second call only changes the level, so a command can call it again once its settings
    are known.
    """
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.setFormatter(SafeFormatter(FORMAT))
        root.addHandler(handler)
    sanitiser = LogSanitiser()
    for filterer in (root, *root.handlers):
        if not any(isinstance(f, LogSanitiser) for f in filterer.filters):
            filterer.filters.insert(0, sanitiser)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    _quiet_libraries(root.level)
    return handler


NOISY_LIBRARIES = ("bm25s", "faiss", "faiss.loader", "jieba", "transformers", "sentence_transformers", "httpx")
"""Libraries whose own informational lines (index building, CPU feature probing, model loading) are not kefu's
news to a user: kept at WARNING unless kefu's own level is DEBUG."""


def _quiet_libraries(level: int) -> None:
    """Keep library chatter and loading bars out of a user's terminal unless kefu logs at DEBUG."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, _StderrHandler))
    for chatter in [f for f in handler.filters if isinstance(f, _LibraryChatter)]:
        handler.removeFilter(chatter)
    if level <= logging.DEBUG:
        return
    handler.addFilter(_LibraryChatter())
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # read when transformers is imported
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


class _LibraryChatter(logging.Filter):
    """Drops a noisy library's records below WARNING (some set their own loggers to DEBUG when imported)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not any(record.name == name or record.name.startswith(f"{name}.") for name in NOISY_LIBRARIES)
