"""parse_mode=HTML as Telegram reads it: the supported tags become entities, anything else is a 400."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from adapters.testing.telegram.entities.builder import Builder
from adapters.testing.telegram.payloads import BadRequest

_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}

_BARE_LT = re.compile(r"<(?![A-Za-z/])")


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    bare = _BARE_LT.search(text)
    if bare is not None:  # "All <, > and & that are not part of a tag or an entity must be escaped"
        raise BadRequest(
            f'can\'t parse entities: Unsupported start tag "" at byte offset {len(text[: bare.start()].encode())}'
        )
    parser = _Parser(text)
    parser.feed(text)
    parser.close()
    if parser.out.stack:
        raise BadRequest(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{parser.out.stack[-1].tag}\""
        )
    return parser.out.finish({})


class _Parser(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.out = Builder()
        self.line_starts = [0] + [i + 1 for i, c in enumerate(source) if c == "\n"]

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        return len(self.source[: self.line_starts[line - 1] + column].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        offset = self._byte_offset()
        if tag in _SIMPLE:
            kind = _SIMPLE[tag]
            if tag == "code" and self.out.stack and self.out.stack[-1].type == "pre":
                language = values.get("class", "").removeprefix("language-")
                if language:
                    self.out.stack[-1].extra["language"] = language
            self.out.open(kind, offset, tag=tag)
        elif tag == "span" and values.get("class") == "tg-spoiler":
            self.out.open("spoiler", offset, tag=tag)
        elif tag == "a":
            href = values.get("href", "")
            if href.startswith("tg://user?id="):
                self.out.open(
                    "text_mention",
                    offset,
                    tag=tag,
                    user={"id": int(href.split("=", 1)[1] or 0), "is_bot": False, "first_name": ""},
                )
            else:
                self.out.open("text_link", offset, tag=tag, url=href)
        elif tag == "blockquote":
            kind = "expandable_blockquote" if "expandable" in values else "blockquote"
            self.out.open(kind, offset, tag=tag)
        elif tag == "tg-emoji":
            self.out.open("custom_emoji", offset, tag=tag, custom_emoji_id=values.get("emoji-id", ""))
        else:
            raise BadRequest(f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset {offset}')

    def handle_endtag(self, tag: str) -> None:
        offset = self._byte_offset()
        if not self.out.stack:
            raise BadRequest(f"can't parse entities: Unexpected end tag at byte offset {offset}")
        if self.out.stack[-1].tag != tag:
            raise BadRequest(
                f"can't parse entities: Unmatched end tag at byte offset {offset}, expected "
                f'"</{self.out.stack[-1].tag}>", found "</{tag}>"'
            )
        if tag == "code" and len(self.out.stack) > 1 and self.out.stack[-2].type == "pre":
            self.out.stack.pop()  # <pre><code class="language-x"> is one pre entity with a language
            return
        self.out.close()

    def handle_data(self, data: str) -> None:
        self.out.add(data)
