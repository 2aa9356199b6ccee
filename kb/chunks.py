"""The unit kb indexes and returns: a chunk of a source (FAQ pair, product, document section) and a hit."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str:
    """``"zh"`` when CJK characters make up at least a fifth of the letters, else ``"en"``.

    One Han character carries about as much as a short English word, hence the low ratio: a Chinese
    sentence quoting an English product name is still Chinese.
    """
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk == 0:
        return "en"
    return "zh" if cjk * 5 >= latin else "en"


def stable_id(*parts: str, length: int = 10) -> str:
    """A short id derived from content, so the same entry gets the same id on every build."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


@dataclass(frozen=True, slots=True)
class Chunk:
    """One indexed passage. For a FAQ entry ``title`` is the question and ``text`` the answer."""

    id: str
    """Stable across builds: given by the source, or derived from its file name and content."""
    title: str
    text: str
    source: str
    """The source file's name (not its full path, so an index can move)."""
    language: str
    kind: str
    """``faq``, ``product`` or ``document``."""
    tags: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Kind-specific fields (a product's sku, price, stock…), kept in hit metadata."""

    @property
    def search_text(self) -> str:
        """What the encoder and BM25 see: title and text together, so a FAQ pair is matched as one."""
        return f"{self.title}\n{self.text}" if self.title else self.text

    @property
    def title_text(self) -> str:
        """The title alone, embedded as a second vector (kb.multivector); empty when there is none or it is the
        whole text."""
        title = self.title.strip()
        return title if title and title != self.text.strip() else ""

    @property
    def lexical_text(self) -> str:
        """What BM25 sees: the title counted twice (a BM25F-style field boost, chosen on the dev split)."""
        return f"{self.title}\n{self.title}\n{self.text}" if self.title else self.text

    @property
    def metadata(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "language": self.language,
            "kind": self.kind,
            "tags": list(self.tags),
            **dict(self.extra),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "source": self.source,
            "language": self.language,
            "kind": self.kind,
            "tags": list(self.tags),
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Chunk:
        return cls(
            id=data["id"],
            title=data["title"],
            text=data["text"],
            source=data["source"],
            language=data["language"],
            kind=data["kind"],
            tags=tuple(data.get("tags", ())),
            extra=dict(data.get("extra", {})),
        )


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result; satisfies ``bot.protocols.Hit``.

    ``score`` is the fused score in [0, 1] (or the single retriever's score in dense/BM25-only mode);
    ``metadata["dense_score"]`` is the query's cosine similarity to the chunk, the signal to threshold on for
    "nothing relevant found" (see docs/kb.md).
    """

    id: str
    title: str
    text: str
    score: float
    metadata: Mapping[str, Any]
