"""Markdown and plain-text sources: one chunk per heading section, long sections split at paragraphs."""

from __future__ import annotations

import re
from pathlib import Path

from kb.chunks import Chunk, detect_language

MAX_SECTION_CHARS = 1500
"""A section longer than this is split at paragraph breaks (the encoder averages over its input)."""

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SLUG_DROP = re.compile(r"[^\w\u3400-\u9fff]+")


def slugify(text: str) -> str:
    """Lower-case words joined by hyphens; Han characters are kept, so Chinese headings give readable ids."""
    return _SLUG_DROP.sub("-", text.lower()).strip("-_") or "section"


def load_markdown(path: Path, text: str, *, max_chars: int = MAX_SECTION_CHARS) -> list[Chunk]:
    """Chunks of a Markdown or text file, one per section under a heading (text without headings: by paragraphs).

    A chunk's title is its heading, prefixed by the parent headings below the document title, and its id
    is ``<file stem>#<heading slug>``; the n-th extra part of a long section gets ``~n``.
    """
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for trail, body in _sections(text):
        below_top = [heading for level, heading in trail if level > 1]
        title = " › ".join(below_top) or (trail[-1][1] if trail else path.stem)
        slug = slugify(title)
        seen[slug] = seen.get(slug, 0) + 1
        if seen[slug] > 1:
            slug = f"{slug}-{seen[slug]}"
        for n, part in enumerate(_split(body, max_chars), start=1):
            chunk_id = f"{path.stem}#{slug}" + (f"~{n}" if n > 1 else "")
            chunks.append(
                Chunk(
                    id=chunk_id,
                    title=title,
                    text=part,
                    source=path.name,
                    language=detect_language(f"{title} {part}"),
                    kind="document",
                    tags=tuple(heading for _, heading in trail[:-1]),
                )
            )
    return chunks


def _sections(text: str) -> list[tuple[list[tuple[int, str]], str]]:
    """(heading trail, body) for every section with a non-empty body, in document order."""
    sections: list[tuple[list[tuple[int, str]], str]] = []
    trail: list[tuple[int, str]] = []
    body: list[str] = []
    fenced = False

    def flush() -> None:
        content = "\n".join(body).strip()
        if content:
            sections.append((list(trail), content))
        body.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match is None:
            body.append(line)
            continue
        flush()
        level = len(match.group(1))
        trail = [(lvl, title) for lvl, title in trail if lvl < level] + [(level, match.group(2).strip())]
    flush()
    return sections


def _split(body: str, max_chars: int) -> list[str]:
    """``body`` in parts of at most about ``max_chars``, cut between paragraphs (a paragraph is never cut)."""
    if len(body) <= max_chars:
        return [body]
    parts: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", body):
        paragraph = paragraph.strip()
        if current and len(current) + len(paragraph) + 2 > max_chars:
            parts.append(current)
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        parts.append(current)
    return parts
