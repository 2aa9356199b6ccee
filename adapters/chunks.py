"""Long texts in chunks a platform accepts: split at sentence, then word, then character boundaries.

Pieces are escaped as they are packed (``&``, ``<``, ``>``: Telegram's HTML and Slack's mrkdwn escape the same
three), so a chunk's length is counted as the platform receives it.
"""

from __future__ import annotations

import html
import re

_SENTENCE_END = re.compile(r"(?<=[.!?…])(?=\s)|(?<=[。！？；\n])")
_WORD_END = re.compile(r"(?<=\s)")


def utf16_len(value: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); never below ``len``, so a safe bound for Slack too."""
    return len(value.encode("utf-16-le")) // 2


def split_escaped(value: str, *, limit: int) -> list[str]:
    """Split ``value`` into HTML-escaped chunks of at most ``limit``, at sentence, then word, then any boundary."""
    if limit < 8:
        raise ValueError(f"chunk limit {limit} is too small")
    pieces = _pack(_SENTENCE_END.split(value), limit, level=0)
    return [chunk for chunk in (c.strip() for c in pieces) if chunk]


def _pack(pieces: list[str], limit: int, *, level: int) -> list[str]:
    """Greedily join escaped pieces up to ``limit``; a piece too long alone is split at the next finer level."""
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        escaped = html.escape(piece, quote=False)
        if utf16_len(current) + utf16_len(escaped) <= limit:
            current += escaped
            continue
        if current:
            chunks.append(current)
            current = ""
        if utf16_len(escaped) <= limit:
            current = escaped
            continue
        finer = _WORD_END.split(piece) if level == 0 else list(piece)
        if level >= 1 and len(finer) == 1:
            raise ValueError("a single character does not fit in a chunk")
        parts = _pack(finer, limit, level=level + 1)
        chunks.extend(parts[:-1])
        current = parts[-1]
    if current:
        chunks.append(current)
    return chunks
