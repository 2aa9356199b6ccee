"""Finding and loading knowledge-base sources: Markdown/text documents, FAQ and product-catalogue files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from kb.chunks import Chunk
from kb.documents import load_markdown
from kb.errors import EmptySource, SourceNotFound, UnsupportedSource
from kb.records import load_records, sniff_kind
from kb.textio import DEFAULT_MAX_BYTES, read_text

DOCUMENT_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
RECORD_SUFFIXES = frozenset({".json", ".yaml", ".yml", ".csv"})
SUPPORTED_SUFFIXES = DOCUMENT_SUFFIXES | RECORD_SUFFIXES


def collect(paths: Iterable[Path | str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Path]:
    """The source files named by ``paths``, directories expanded (recursively, sorted).

    A file named explicitly is always kept (loading reports what is wrong with it). Inside a directory
    kb keeps files with a supported suffix, and leaves out hidden files, READMEs, and JSON/YAML/CSV files
    whose records are neither FAQ entries nor products (an orders table, say).
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if _wanted(p, max_bytes=max_bytes))
        elif path.exists():
            found.append(path)
        else:
            raise SourceNotFound(f"knowledge-base source {path} does not exist", path=path)
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        raise EmptySource(f"no knowledge-base sources in {', '.join(str(p) for p in paths)}")
    return unique


def _wanted(path: Path, *, max_bytes: int) -> bool:
    if not path.is_file() or path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return False
    if path.name.startswith((".", "_")) or path.stem.lower() == "readme":
        return False
    if path.suffix.lower() in DOCUMENT_SUFFIXES:
        return True
    return sniff_kind(path, read_text(path, max_bytes=max_bytes)) is not None


def load_source(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Chunk]:
    """The chunks of one source file; raises a ``SourceError`` naming the file when it cannot be used."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedSource(
            f"{path}: kb loads {', '.join(sorted(SUPPORTED_SUFFIXES))} files, not {suffix or 'files without a suffix'}",
            path=path,
        )
    text = read_text(path, max_bytes=max_bytes)
    chunks = load_markdown(path, text) if suffix in DOCUMENT_SUFFIXES else load_records(path, text)
    if not chunks:
        raise EmptySource(f"knowledge-base source {path} holds no text to index", path=path)
    return chunks
