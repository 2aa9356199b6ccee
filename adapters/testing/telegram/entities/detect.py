"""Entities Telegram's server finds in any text by itself: commands, mentions, hashtags, URLs, e-mails."""

from __future__ import annotations

import re
from typing import Any

from adapters.testing.telegram.entities.builder import utf16_len

_PATTERNS = (
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    (
        "url",
        re.compile(
            r"(?<![\w@/.])(?:https?://[^\s<>\"]+|(?:www\.)?(?:[A-Za-z0-9-]+\.)+"
            r"(?:com|org|net|io|dev|app|me|co|ru|cn|uk|de|info|shop|store)\b(?:/[^\s<>\"]*)?)"
        ),
    ),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?(?![\w/])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)
_TRAILING = ".,;:!?)]'\""
_BLOCKING = frozenset(
    {"code", "pre", "text_link", "text_mention", "url", "email", "mention", "hashtag", "bot_command", "custom_emoji"}
)


def detect(text: str, given: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``given`` plus what Telegram detects outside code, pre and links, sorted by offset."""
    taken = [(e["offset"], e["offset"] + e["length"]) for e in given if e["type"] in _BLOCKING]
    found: list[dict[str, Any]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            value = match.group()
            if kind == "url":
                value = value.rstrip(_TRAILING)
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(value)
            if any(start < stop and begin < end for begin, stop in taken):
                continue
            taken.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    return sorted([*given, *found], key=lambda e: (e["offset"], -e["length"]))
