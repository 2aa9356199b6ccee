"""Collects visible text and entities while a markup parser walks its source."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.testing.telegram.payloads import BadRequest


def utf16_len(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


@dataclass(slots=True)
class Open:
    """An entity whose end has not been seen yet."""

    type: str
    start: int
    """UTF-16 offset in the visible text."""
    byte_offset: int
    """UTF-8 offset in the source, for error messages like Telegram's."""
    extra: dict[str, Any] = field(default_factory=dict)
    tag: str = ""


@dataclass(slots=True)
class Builder:
    """Visible text so far, the open entities (innermost last) and the finished ones."""

    parts: list[str] = field(default_factory=list)
    size: int = 0
    stack: list[Open] = field(default_factory=list)
    done: list[dict[str, Any]] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += utf16_len(text)

    def open(self, kind: str, byte_offset: int, *, tag: str = "", **extra: Any) -> None:
        self.stack.append(Open(kind, self.size, byte_offset, extra, tag))

    def close(self) -> Open:
        entity = self.stack.pop()
        if self.size > entity.start:
            self.done.append(
                {"type": entity.type, "offset": entity.start, "length": self.size - entity.start, **entity.extra}
            )
        return entity

    def in_code(self) -> bool:
        return any(e.type in ("code", "pre") for e in self.stack)

    def finish(self, name_of: dict[str, str]) -> tuple[str, list[dict[str, Any]]]:
        if self.stack:
            entity = self.stack[-1]
            raise BadRequest(
                f"can't parse entities: Can't find end of {name_of.get(entity.type, entity.type)} "
                f"entity at byte offset {entity.byte_offset}"
            )
        self.done.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.done
