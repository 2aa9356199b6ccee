"""Building, saving and loading a knowledge-base index directory, with incremental re-encoding.

Layout of ``out``: ``CURRENT`` names the live version folder (``v-<id>/``) holding ``manifest.json``,
``chunks.jsonl``, ``vectors.npy`` and ``dense.faiss`` (full text), ``title_vectors.npy`` and ``titles.faiss``
(one row per chunk with a title, kb.multivector), ``bm25/`` and, when the index has a second stage (kb.rerank),
``rerank_vectors.npy`` (one row per chunk, by the second stage's encoder). A build writes a new version folder and
then replaces ``CURRENT`` atomically, so a failed build leaves the previous index in place and readable.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kb.chunks import Chunk
from kb.dense import DenseIndex, Kind
from kb.encoders import Encoder
from kb.errors import (
    BadSourceFormat,
    CorruptIndex,
    EncoderMismatch,
    IndexNotFound,
    StaleIndex,
)
from kb.lexical import LexicalIndex
from kb.multivector import MultiVectorDense
from kb.progress import encode_with_progress
from kb.rerank import Reranker
from kb.search import KnowledgeBase, title_rows
from kb.sources import load_source
from kb.textio import DEFAULT_MAX_BYTES, read_text
from kb.tokenize import fingerprint as tokenizer_fingerprint

FORMAT = 2
"""2 added the title vectors; an index of another format is rebuilt by ``open_or_build``."""
_FILES = ("manifest.json", "chunks.jsonl", "vectors.npy", "dense.faiss", "title_vectors.npy", "titles.faiss", "bm25")


def fingerprint(sources: Sequence[Path], *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, str]:
    """SHA-256 of each source's text, keyed by its resolved path (what decides whether to rebuild)."""
    return {
        str(Path(path).resolve()): hashlib.sha256(read_text(Path(path), max_bytes=max_bytes).encode()).hexdigest()
        for path in sources
    }


def build_index(
    sources: Sequence[Path],
    *,
    out: Path,
    encoder: Encoder,
    kind: Kind = "auto",
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: bool = True,
    rerank_encoder: Encoder | None = None,
) -> KnowledgeBase:
    """Load ``sources``, encode what is new, index it and publish it at ``out``; returns the knowledge base.

    With ``rerank_encoder`` the passages are also encoded by it, for the second stage (kb.rerank).
    Chunks whose text is unchanged since the index at ``out`` (same encoder) reuse their stored vectors.
    Raises a ``SourceError`` naming the file at fault; ``out`` then still serves the previous index.
    """
    out = Path(out)
    hashes = fingerprint(sources, max_bytes=max_bytes)
    chunks: list[Chunk] = []
    owner: dict[str, Path] = {}
    for path in sources:
        for chunk in load_source(Path(path), max_bytes=max_bytes):
            if chunk.id in owner:
                raise BadSourceFormat(f"chunk id {chunk.id!r} appears in both {owner[chunk.id]} and {path}", path=path)
            owner[chunk.id] = Path(path)
            chunks.append(chunk)
    rows = title_rows(chunks)
    texts = [chunk.search_text for chunk in chunks] + [chunks[n].title_text for n in rows]
    encoded = _vectors(texts, encoder, _previous_vectors(out, encoder), progress=progress)
    vectors, title_vectors = encoded[: len(chunks)], encoded[len(chunks) :]
    knowledge = KnowledgeBase.from_chunks(chunks, encoder, vectors=vectors, title_vectors=title_vectors, kind=kind)
    if rerank_encoder is not None:
        previous = _previous_vectors(out, rerank_encoder, field="rerank", files=("rerank_vectors.npy",))
        second = _vectors([chunk.search_text for chunk in chunks], rerank_encoder, previous, progress=progress)
        knowledge.reranker = Reranker(rerank_encoder, dict(zip((chunk.id for chunk in chunks), second, strict=True)))
    manifest = {
        "format": FORMAT,
        "encoder": encoder.name,
        "dim": int(encoder.dim),
        "index": knowledge.dense.kind,
        "tokenizer": tokenizer_fingerprint(),
        "chunks": len(chunks),
        "rerank": rerank_encoder.name if rerank_encoder is not None else None,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "documents": [{"path": path, "sha256": digest} for path, digest in hashes.items()],
    }
    _publish(out, knowledge, manifest)
    return knowledge


def _text_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _previous_vectors(
    out: Path,
    encoder: Encoder,
    *,
    field: str = "encoder",
    files: tuple[str, ...] = ("vectors.npy", "title_vectors.npy"),
) -> dict[str, np.ndarray]:
    """Stored vectors (full texts, then titles when ``files`` names them) of the live index at ``out`` by text
    hash, when its manifest's ``field`` names ``encoder``."""
    try:
        folder = _live_folder(out)
        manifest = _read_manifest(folder)
        if (
            manifest.get(field) != encoder.name
            or int(np.load(folder / files[0], mmap_mode="r").shape[1]) != encoder.dim
        ):
            return {}
        vectors = np.load(folder / files[0], mmap_mode="r")
        title_vectors = np.load(folder / files[1], mmap_mode="r") if len(files) > 1 else np.zeros((0, encoder.dim))
        chunks = _read_chunks(folder)
    except (IndexNotFound, CorruptIndex, OSError, ValueError):
        return {}
    stored = {
        _text_hash(chunk.search_text): np.asarray(vectors[n]) for n, chunk in enumerate(chunks) if n < len(vectors)
    }
    for slot, n in enumerate(title_rows(chunks)[: len(title_vectors)]):
        stored[_text_hash(chunks[n].title_text)] = np.asarray(title_vectors[slot])
    return stored


def _vectors(texts: list[str], encoder: Encoder, previous: dict[str, np.ndarray], *, progress: bool) -> np.ndarray:
    """One vector per text: stored ones reused by text hash, the rest (each distinct text once) encoded in one batch."""
    vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    missing: dict[str, list[int]] = {}
    for n, text in enumerate(texts):
        stored = previous.get(_text_hash(text))
        if stored is None:
            missing.setdefault(text, []).append(n)
        else:
            vectors[n] = stored
    if missing:
        encode = getattr(encoder, "encode_documents", encoder.encode)
        fresh = encode_with_progress(encode, list(missing), show=progress)
        for vector, positions in zip(fresh, missing.values(), strict=True):
            vectors[positions] = vector
    return vectors


def _publish(out: Path, knowledge: KnowledgeBase, manifest: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="v-", dir=out))
    try:
        with (folder / "chunks.jsonl").open("w", encoding="utf-8") as handle:
            for chunk in knowledge.chunks:
                handle.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
        np.save(folder / "vectors.npy", knowledge.dense.vectors)
        knowledge.dense.save(folder / "dense.faiss")
        np.save(folder / "title_vectors.npy", knowledge.titles.vectors)
        knowledge.titles.save(folder / "titles.faiss")
        knowledge.lexical.save(folder / "bm25")
        if knowledge.reranker is not None:
            by_id = knowledge.reranker.vectors
            np.save(folder / "rerank_vectors.npy", np.stack([by_id[chunk.id] for chunk in knowledge.chunks]))
        (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        pointer = out / f".CURRENT.{os.getpid()}"
        pointer.write_text(folder.name, encoding="utf-8")
        os.replace(pointer, out / "CURRENT")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    for stale in out.glob("v-*"):
        if stale.name != folder.name:
            shutil.rmtree(stale, ignore_errors=True)


def is_index(path: Path) -> bool:
    """Whether ``path`` is an index folder (a ``CURRENT`` pointer or a version's manifest) rather than sources."""
    return (Path(path) / "CURRENT").is_file() or (Path(path) / "manifest.json").is_file()


def _current_name(out: Path) -> str | None:
    try:
        return (out / "CURRENT").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _live_folder(path: Path) -> Path:
    """The version folder an index path points at (``path`` itself if it holds a manifest)."""
    if (path / "manifest.json").is_file():
        return path
    name = _current_name(path)
    if name is None or not (path / name / "manifest.json").is_file():
        raise IndexNotFound(f"no knowledge-base index at {path}: build one with `kefu kb build`", path=path)
    return path / name


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CorruptIndex(f"knowledge-base index {folder} has an unreadable manifest: {error}", path=folder) from error
    if manifest.get("format") != FORMAT:
        raise CorruptIndex(
            f"knowledge-base index {folder} has format {manifest.get('format')}, expected {FORMAT}", path=folder
        )
    return manifest


def _read_chunks(folder: Path) -> list[Chunk]:
    with (folder / "chunks.jsonl").open(encoding="utf-8") as handle:
        return [Chunk.from_dict(json.loads(line)) for line in handle if line.strip()]


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the index at ``path`` (for ``kefu kb stats`` without loading an encoder)."""
    return _read_manifest(_live_folder(Path(path)))


def load_index(
    path: Path, *, encoder: Encoder | None, device: str = "auto", rerank_encoder: Encoder | None = None
) -> KnowledgeBase:
    """The knowledge base saved at ``path``; refuses one built with an encoder other than ``encoder``, or without
    the passage vectors ``rerank_encoder`` (a second stage) needs.

    ``encoder=None`` skips the check (statistics only; ``search_text`` then cannot encode).
    """
    folder = _live_folder(Path(path))
    manifest = _read_manifest(folder)
    if encoder is not None and (manifest.get("encoder") != encoder.name or manifest.get("dim") != encoder.dim):
        raise EncoderMismatch(
            f"knowledge-base index {path} was built with encoder {manifest.get('encoder')!r} "
            f"(dim {manifest.get('dim')}), but the configured encoder is {encoder.name!r} (dim {encoder.dim}); "
            "rebuild it with `kefu kb build`",
            path=path,
        )
    if manifest.get("tokenizer") != tokenizer_fingerprint():
        raise StaleIndex(
            f"knowledge-base index {path} was built by another version of kb's tokeniser; "
            "rebuild it with `kefu kb build`",
            path=path,
        )
    if rerank_encoder is not None and manifest.get("rerank") != rerank_encoder.name:
        raise EncoderMismatch(
            f"knowledge-base index {path} has no passage vectors for the second stage {rerank_encoder.name!r} "
            f"(it has {manifest.get('rerank')!r}); rebuild it with `kefu kb build`, or set KEFU_KB__RERANK=none",
            path=path,
        )
    missing = [name for name in _FILES if not (folder / name).exists()]
    if missing:
        raise CorruptIndex(f"knowledge-base index {folder} is missing {', '.join(missing)}", path=folder)
    try:
        chunks = _read_chunks(folder)
        vectors = np.load(folder / "vectors.npy")
        dense = DenseIndex.load(folder / "dense.faiss", vectors, device=device)
        titles = DenseIndex.load(folder / "titles.faiss", np.load(folder / "title_vectors.npy"), device=device)
        lexical = LexicalIndex.load(folder / "bm25", len(chunks))
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise CorruptIndex(f"knowledge-base index {folder} cannot be read: {error}", path=folder) from error
    rows = title_rows(chunks)
    if (
        len(chunks) != len(vectors)
        or len(chunks) != manifest.get("chunks")
        or len(rows) != len(titles)
        or len(titles) != titles.index.ntotal
    ):
        raise CorruptIndex(
            f"knowledge-base index {folder} is inconsistent: chunk and vector counts differ", path=folder
        )
    multivector = MultiVectorDense(dense, titles, rows)
    reranker = _load_reranker(folder, chunks, rerank_encoder) if rerank_encoder is not None else None
    return KnowledgeBase(
        chunks, multivector, lexical, encoder_name=manifest["encoder"], encoder=encoder, reranker=reranker
    )


def _load_reranker(folder: Path, chunks: Sequence[Chunk], encoder: Encoder) -> Reranker:
    """The second stage from the index's stored passage vectors."""
    try:
        vectors = np.load(folder / "rerank_vectors.npy")
    except (OSError, ValueError) as error:
        raise CorruptIndex(
            f"knowledge-base index {folder} cannot read its rerank vectors: {error}", path=folder
        ) from error
    if vectors.shape != (len(chunks), encoder.dim):
        raise CorruptIndex(
            f"knowledge-base index {folder} has rerank vectors of shape {vectors.shape}, "
            f"expected ({len(chunks)}, {encoder.dim})",
            path=folder,
        )
    return Reranker(encoder, dict(zip((chunk.id for chunk in chunks), vectors, strict=True)))


def open_or_build(
    sources: Sequence[Path],
    *,
    cache_dir: Path,
    encoder: Encoder,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: bool = False,
    rerank_encoder: Encoder | None = None,
) -> KnowledgeBase:
    """The index of ``sources`` cached in ``cache_dir``: loaded when sources and encoders are unchanged, else
    rebuilt."""
    cache_dir = Path(cache_dir)
    manifest = _current_manifest(sources, cache_dir, max_bytes=max_bytes)
    rerank = rerank_encoder.name if rerank_encoder is not None else None
    if (
        manifest is not None
        and manifest.get("encoder") == encoder.name
        and manifest.get("dim") == encoder.dim
        and manifest.get("rerank") == rerank
    ):
        try:
            return load_index(cache_dir, encoder=encoder, rerank_encoder=rerank_encoder)
        except CorruptIndex:
            pass
    return build_index(
        sources, out=cache_dir, encoder=encoder, max_bytes=max_bytes, progress=progress, rerank_encoder=rerank_encoder
    )


def index_is_current(sources: Sequence[Path], cache_dir: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bool:
    """Whether ``cache_dir`` holds an index of exactly ``sources`` as they are now (so opening it builds nothing,
    unless the encoder changed)."""
    return _current_manifest(sources, Path(cache_dir), max_bytes=max_bytes) is not None


def _current_manifest(sources: Sequence[Path], cache_dir: Path, *, max_bytes: int) -> dict[str, Any] | None:
    try:
        manifest = read_manifest(cache_dir)
    except (IndexNotFound, CorruptIndex):
        return None
    if manifest.get("tokenizer") != tokenizer_fingerprint():
        return None
    cached = {doc["path"]: doc["sha256"] for doc in manifest.get("documents", [])}
    return manifest if cached == fingerprint(sources, max_bytes=max_bytes) else None
