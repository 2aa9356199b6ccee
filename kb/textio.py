"""Reading source files safely: size cap before reading, encoding detection, clear errors naming the file."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from kb.errors import (
    EmptySource,
    SourceNotFound,
    SourceTooLarge,
    UnknownEncoding,
    UnreadableSource,
)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
"""Largest source file kb reads; a shop's FAQ or catalogue is far smaller, a bigger file is a mistake."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_HAN_OR_PUNCT = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u2018-\u201d\u2026\u00b7]")


def read_text(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text of ``path``: UTF-8 (BOM optional), UTF-16/32 with a BOM, or GB18030 Chinese.

    The size cap is checked with ``stat`` before a byte is read. Raises a ``SourceError`` subclass that
    names the file for a missing, unreadable, empty, oversized or undecodable file.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SourceNotFound(f"knowledge-base source {path} does not exist", path=path) from None
    except OSError as error:
        raise UnreadableSource(f"cannot read knowledge-base source {path}: {error.strerror}", path=path) from error
    if path.is_dir():
        raise UnreadableSource(f"knowledge-base source {path} is a directory, not a file", path=path)
    if size > max_bytes:
        raise SourceTooLarge(
            f"knowledge-base source {path} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit",
            path=path,
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableSource(f"cannot read knowledge-base source {path}: {error.strerror}", path=path) from error
    text = _decode(data, path)
    if not text.strip():
        raise EmptySource(f"knowledge-base source {path} is empty", path=path)
    return text


def _decode(data: bytes, path: Path) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _strict(data, encoding, path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        guess = _gb18030(data)
        if guess is None:
            raise UnknownEncoding(
                f"knowledge-base source {path} is not UTF-8, UTF-16/32 with a BOM, or GB18030 text; save it as UTF-8",
                path=path,
            ) from None
        text = guess
    if _CONTROL.search(text):
        raise UnknownEncoding(f"knowledge-base source {path} looks binary, not text", path=path)
    return text


def _strict(data: bytes, encoding: str, path: Path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise UnknownEncoding(
            f"knowledge-base source {path} is not valid {encoding}: {error.reason}", path=path
        ) from error


def _gb18030(data: bytes) -> str | None:
    """GB18030 text, or None: GB18030 decodes most byte soups, so the non-ASCII must be mostly Han/punctuation."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    non_ascii = [c for c in text if ord(c) > 127]
    if not non_ascii:
        return None
    han = sum(1 for c in non_ascii if _HAN_OR_PUNCT.match(c))
    return text if han / len(non_ascii) >= 0.9 else None
