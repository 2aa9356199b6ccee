"""parse_mode=MarkdownV2 and the legacy Markdown, scanned the way Telegram's server scans them."""

from __future__ import annotations

from itertools import accumulate
from typing import Any

from adapters.testing.telegram.entities.builder import Builder
from adapters.testing.telegram.payloads import BadRequest

_RESERVED = set("_*[]()~`>#+-=|{}.!")
_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
}
_TOGGLES: dict[str, str] = {"__": "underline", "||": "spoiler", "*": "bold", "_": "italic", "~": "strikethrough"}


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    out, i, n = Builder(), 0, len(text)
    byte_at = _byte_offsets(text)
    while i < n:
        _end_quote(text, i, out)
        c, at = text[i], byte_at[i]
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
        elif out.in_code():
            i = _code_char(text, i, out)
        elif c == "`":
            i = _open_code(text, i, out, at)
        elif text.startswith(("__", "||"), i) or c in "*_~":
            marker = text[i : i + 2] if text.startswith(("__", "||"), i) else c
            kind = _TOGGLES[marker]
            _toggle(out, kind, at)
            i += len(marker)
        elif c == "[":
            out.open("text_link", at)
            i += 1
        elif c == "]" and out.stack and out.stack[-1].type == "text_link":
            i = _close_link(text, i, out)
        elif c == ">" and (i == 0 or text[i - 1] == "\n"):
            i = _blockquote(text, i, out)
        elif c in _RESERVED:
            raise BadRequest(
                f"can't parse entities: Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.add(c)
            i += 1
    _end_quote(text, n, out)
    return out.finish(_NAMES)


def parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); ``\\`` escapes ``_*`[``; no nesting."""
    out, i, n = Builder(), 0, len(text)
    kinds = {"*": "bold", "_": "italic"}
    byte_at = _byte_offsets(text)
    while i < n:
        c, at = text[i], byte_at[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
        elif c in kinds or c == "`" or c == "[":
            end_marker = "```" if text.startswith("```", i) else ("]" if c == "[" else c)
            start = i + len(end_marker if end_marker != "]" else "[")
            end = text.find(end_marker, start)
            if end < 0:
                raise BadRequest(f"can't parse entities: Can't find end of the entity starting at byte offset {at}")
            inner = text[start:end]
            i = end + len(end_marker)
            if end_marker == "```":
                language, newline, body = inner.partition("\n")
                extra = {"language": language} if newline and language.strip() else {}
                out.open("pre", at, **extra)
                out.add(body if newline and language.strip() else inner)
            elif c == "[":
                url, i = _link_target(text, i, at, escapes="")
                out.open("text_link", at, url=url)
                out.add(inner)
            else:
                out.open(kinds.get(c, "code"), at)
                out.add(inner)
            out.close()
        else:
            out.add(c)
            i += 1
    return out.finish(_NAMES)


def _byte_offsets(text: str) -> list[int]:
    """The UTF-8 offset of each character (Telegram's errors count bytes)."""
    return list(accumulate((len(ch.encode()) for ch in text), initial=0))


def _toggle(out: Builder, kind: str, at: int) -> None:
    if out.stack and out.stack[-1].type == kind:
        out.close()
    elif any(e.type == kind for e in out.stack):
        inner = out.stack[-1]
        raise BadRequest(
            f"can't parse entities: Can't find end of {_NAMES[inner.type]} entity at byte offset {inner.byte_offset}"
        )
    else:
        out.open(kind, at)


def _open_code(text: str, i: int, out: Builder, at: int) -> int:
    if text.startswith("```", i):
        line_end = text.find("\n", i + 3)
        language = text[i + 3 : line_end].strip() if line_end >= 0 else ""
        if language and not any(ch in language for ch in "`"):
            out.open("pre", at, language=language)
            return line_end + 1
        out.open("pre", at)
        return i + 3
    out.open("code", at)
    return i + 1


def _code_char(text: str, i: int, out: Builder) -> int:
    top = out.stack[-1]
    if top.type == "pre" and text.startswith("```", i):
        out.close()
        return i + 3
    if top.type == "code" and text[i] == "`":
        out.close()
        return i + 1
    out.add(text[i])
    return i + 1


def _close_link(text: str, i: int, out: Builder) -> int:
    url, end = _link_target(text, i + 1, out.stack[-1].byte_offset, escapes=")\\")
    out.stack[-1].extra["url"] = url
    out.close()
    return end


def _link_target(text: str, i: int, at: int, *, escapes: str) -> tuple[str, int]:
    """The ``(url)`` after a link's text at ``i``; returns the url and the index after ``)``."""
    if not text.startswith("(", i):
        raise BadRequest(f"can't parse entities: Can't find end of the entity starting at byte offset {at}")
    url: list[str] = []
    j = i + 1
    while j < len(text) and text[j] != ")":
        if escapes and text[j] == "\\" and j + 1 < len(text) and text[j + 1] in escapes:
            j += 1
        url.append(text[j])
        j += 1
    if j >= len(text):
        raise BadRequest(f"can't parse entities: Can't find end of a url at byte offset {len(text[:i].encode())}")
    return "".join(url), j + 1


def _blockquote(text: str, i: int, out: Builder) -> int:
    """A ``>`` line: consecutive ones make one blockquote entity, closed at the end of the last line."""
    at = len(text[:i].encode())
    if not (out.stack and out.stack[-1].type == "blockquote"):
        out.open("blockquote", at)
    return i + 1


def _end_quote(text: str, i: int, out: Builder) -> None:
    """Close an open blockquote at a newline not followed by ``>``, or at the end of the text."""
    if not (out.stack and out.stack[-1].type == "blockquote"):
        return
    if i >= len(text) or (text[i] == "\n" and not text.startswith(">", i + 1)):
        out.close()
