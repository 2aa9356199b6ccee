"""Telegram's formatting: text with HTML, Markdown or MarkdownV2 markup becomes the text the user sees plus
``MessageEntity`` dicts (offsets and lengths in UTF-16 code units), or a 400 "can't parse entities: ..."."""

from __future__ import annotations

from typing import Any

from adapters.testing.telegram.entities.builder import utf16_len
from adapters.testing.telegram.entities.detect import detect
from adapters.testing.telegram.entities.html import parse_html
from adapters.testing.telegram.entities.markdown import parse_markdown, parse_markdown_v2

__all__ = ["detect", "parse", "utf16_len"]


def parse(text: str, parse_mode: str | None, entities: Any = None) -> tuple[str, list[dict[str, Any]]]:
    """The visible text and its entities (with those Telegram detects itself); explicit ``entities`` (no parse
    mode) are checked and kept as given."""
    mode = (parse_mode or "").lower()
    if entities and not mode:
        return text, _checked(text, entities)
    parsers = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}
    if mode and mode not in parsers:
        from adapters.testing.telegram.payloads import BadRequest

        raise BadRequest("unsupported parse_mode")
    visible, found = parsers[mode](text) if mode else (text, [])
    return visible, detect(visible, found)


def _checked(text: str, entities: Any) -> list[dict[str, Any]]:
    from adapters.testing.telegram.payloads import BadRequest

    if not entities:
        return []
    if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
        raise BadRequest("can't parse entities JSON object")
    size = utf16_len(text)
    for entity in entities:
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or not entity.get("type"):
            raise BadRequest("can't parse entities: entity must have type, offset and length")
        if offset < 0 or length <= 0 or offset + length > size:
            raise BadRequest("can't parse entities: entity is out of the text")
    return [dict(e) for e in entities]
