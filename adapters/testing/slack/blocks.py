"""Slack's checks on messages (lengths, Block Kit limits) and how mrkdwn looks to a reader."""

from __future__ import annotations

import re
from typing import Any

MAX_TEXT_CHARS = 40_000
"""``chat.postMessage`` refuses a longer ``text`` (``msg_too_long``)."""
MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTION_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255

_LINK = re.compile(r"<([^>|]+)(?:\|([^>]*))?>")


class InvalidBlocks(ValueError):
    """Blocks Slack would refuse with ``invalid_blocks``; the message says which rule."""


def visible_text(mrkdwn: str) -> str:
    """``mrkdwn`` as a reader sees it: ``<url|label>`` as the label, ``<url>`` as the url, entities unescaped
    (``*bold*`` keeps its stars, so tests can check the emphasis)."""
    shown = _LINK.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(1), mrkdwn)
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def check_blocks(blocks: Any) -> None:
    """Raise ``InvalidBlocks`` for what Slack refuses: too many blocks, long sections, bad buttons."""
    if not isinstance(blocks, list):
        raise InvalidBlocks("blocks must be a list")
    if len(blocks) > MAX_BLOCKS:
        raise InvalidBlocks(f"more than {MAX_BLOCKS} blocks")
    action_ids: set[str] = set()
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "section":
            _check_text(block.get("text"), MAX_SECTION_CHARS, "section text")
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
                raise InvalidBlocks(f"a context block has 1 to {MAX_CONTEXT_ELEMENTS} elements")
            for element in elements:
                _check_text(element, MAX_SECTION_CHARS, "context element")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > MAX_ACTION_ELEMENTS:
                raise InvalidBlocks(f"an actions block has 1 to {MAX_ACTION_ELEMENTS} elements")
            for element in elements:
                _check_button(element, action_ids)
        elif kind not in ("divider", "header", "image", "rich_text", "input"):
            raise InvalidBlocks(f"unknown block type {kind!r}")


def _check_text(text: Any, limit: int, where: str) -> None:
    if not isinstance(text, dict) or text.get("type") not in ("mrkdwn", "plain_text"):
        raise InvalidBlocks(f"{where} must be a mrkdwn or plain_text object")
    value = text.get("text")
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InvalidBlocks(f"{where} must have 1 to {limit} characters")


def _check_button(element: Any, action_ids: set[str]) -> None:
    if not isinstance(element, dict) or element.get("type") != "button":
        raise InvalidBlocks("the fake's actions blocks take buttons only")
    label = element.get("text") or {}
    if label.get("type") != "plain_text" or not 1 <= len(label.get("text") or "") <= MAX_BUTTON_TEXT:
        raise InvalidBlocks(f"a button label is plain_text of 1 to {MAX_BUTTON_TEXT} characters")
    if len(element.get("value") or "") > MAX_BUTTON_VALUE:
        raise InvalidBlocks(f"a button value has at most {MAX_BUTTON_VALUE} characters")
    action_id = element.get("action_id") or ""
    if not action_id or len(action_id) > MAX_ACTION_ID or action_id in action_ids:
        raise InvalidBlocks("every button needs its own action_id of at most 255 characters")
    action_ids.add(action_id)
