"""Persistence: manifest, encoder checks, incremental re-encoding, atomic swaps, open_or_build."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb import tokenize
from kb.build import build_index, load_index, open_or_build, read_manifest
from kb.encoders import UseEncoder
from kb.errors import (
    BadSourceFormat,
    CorruptIndex,
    EncoderMismatch,
    IndexNotFound,
    StaleIndex,
)
from tests.kb.conftest import CountingEncoder


class OtherEncoder:
    """A second, genuinely different encoder: USE vectors through a fixed random rotation to 256 dims."""

    name = "rotated-use-256"
    dim = 256

    def __init__(self, inner: UseEncoder) -> None:
        self.inner = inner
        rotation = np.linalg.qr(np.random.default_rng(0).standard_normal((512, 512)))[0]
        self.projection = rotation[:, :256].astype(np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.inner.encode(texts) @ self.projection
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_build_writes_manifest_and_loads_back_identically(
    small_sources: list[Path], tmp_path: Path, use_encoder: UseEncoder
) -> None:
    out = tmp_path / "index"
    built = build_index(small_sources, out=out, encoder=use_encoder, progress=False)
    manifest = read_manifest(out)
    assert manifest["encoder"] == "use-multilingual" and manifest["dim"] == 512 and manifest["chunks"] == len(built)
    assert {Path(d["path"]).name for d in manifest["documents"]} == {"faq.json", "products.csv", "policy.md"}
    assert all(len(d["sha256"]) == 64 for d in manifest["documents"])
    loaded = load_index(out, encoder=use_encoder)
    for query in ("rain boots", "包邮", "gift card"):
        assert [(h.id, round(h.score, 5)) for h in loaded.search_text(query)] == [
            (h.id, round(h.score, 5)) for h in built.search_text(query)
        ]


def test_loading_with_another_encoder_is_refused(
    small_sources: list[Path], tmp_path: Path, use_encoder: UseEncoder
) -> None:
    out = tmp_path / "index"
    build_index(small_sources, out=out, encoder=use_encoder, progress=False)
    with pytest.raises(EncoderMismatch) as error:
        load_index(out, encoder=OtherEncoder(use_encoder))
    assert (
        str(out) in str(error.value)
        and "use-multilingual" in str(error.value)
        and "rotated-use-256" in str(error.value)
    )


def test_another_encoder_rebuilds_the_cache_instead(
    small_sources: list[Path], tmp_path: Path, use_encoder: UseEncoder
) -> None:
    out = tmp_path / "cache"
    open_or_build(small_sources, cache_dir=out, encoder=use_encoder)
    other = open_or_build(small_sources, cache_dir=out, encoder=OtherEncoder(use_encoder))
    assert other.dim == 256 and read_manifest(out)["encoder"] == "rotated-use-256"


def test_incremental_rebuild_encodes_only_changed_chunks(
    small_sources: list[Path], tmp_path: Path, counting_encoder: CountingEncoder
) -> None:
    out = tmp_path / "index"
    first = build_index(small_sources, out=out, encoder=counting_encoder, progress=False)
    titles = [c.title_text for c in first.chunks if c.title_text]
    assert len(titles) == len(first.titles) == len(first)
    assert sorted(counting_encoder.encoded) == sorted([c.search_text for c in first.chunks] + titles)
    counting_encoder.encoded.clear()
    build_index(small_sources, out=out, encoder=counting_encoder, progress=False)
    assert counting_encoder.encoded == []
    policy = small_sources[2]
    policy.write_text(policy.read_text(encoding="utf-8") + "\n## Pickup\n\nCollect in Shanghai.\n", encoding="utf-8")
    rebuilt = build_index(small_sources, out=out, encoder=counting_encoder, progress=False)
    assert counting_encoder.encoded == ["Pickup\nCollect in Shanghai.", "Pickup"]
    assert len(rebuilt) == len(first) + 1
    assert rebuilt.search_text("pick up my order in Shanghai", k=1)[0].id == "policy#pickup"
    counting_encoder.encoded.clear()
    small_sources[0].write_text(
        small_sources[0].read_text(encoding="utf-8").replace("2-4 days", "3-5 days"), encoding="utf-8"
    )
    edited = build_index(small_sources, out=out, encoder=counting_encoder, progress=False)
    assert counting_encoder.encoded == ["How long does delivery take?\nParcels arrive in 3-5 days."]
    np.testing.assert_array_equal(edited.titles.vectors, rebuilt.titles.vectors)


def test_open_or_build_loads_unchanged_sources_without_encoding(
    small_sources: list[Path], tmp_path: Path, counting_encoder: CountingEncoder
) -> None:
    cache = tmp_path / "cache"
    open_or_build(small_sources, cache_dir=cache, encoder=counting_encoder)
    first_version = (cache / "CURRENT").read_text()
    counting_encoder.encoded.clear()
    reopened = open_or_build(small_sources, cache_dir=cache, encoder=counting_encoder)
    assert counting_encoder.encoded == [] and (cache / "CURRENT").read_text() == first_version
    assert reopened.search_text("退货运费", k=1)[0].title == "退货运费谁出？"
    small_sources[0].write_text(json.dumps([{"question": "Opening hours?", "answer": "9 to 6."}]), encoding="utf-8")
    changed = open_or_build(small_sources, cache_dir=cache, encoder=counting_encoder)
    assert (cache / "CURRENT").read_text() != first_version
    titles = {c.title for c in changed.chunks}
    assert "Opening hours?" in titles and "退货运费谁出？" not in titles
    assert len(list(cache.glob("v-*"))) == 1


def test_failed_build_leaves_the_old_index_usable(
    small_sources: list[Path], tmp_path: Path, use_encoder: UseEncoder
) -> None:
    out = tmp_path / "index"
    build_index(small_sources, out=out, encoder=use_encoder, progress=False)
    before = (out / "CURRENT").read_text()
    broken = small_sources[1]
    broken.write_text('sku,name\n"RB-2,Boot\n', encoding="utf-8")
    with pytest.raises(BadSourceFormat, match=r"products\.csv"):
        build_index(small_sources, out=out, encoder=use_encoder, progress=False)
    assert (out / "CURRENT").read_text() == before and len(list(out.glob("v-*"))) == 1
    assert load_index(out, encoder=use_encoder).search_text("rain boot", k=1)[0].id == "RB-1#en"


def test_duplicate_chunk_ids_across_files_are_refused(
    small_sources: list[Path], tmp_path: Path, use_encoder: UseEncoder
) -> None:
    twin = tmp_path / "more.json"
    twin.write_text(json.dumps([{"id": "ship-time", "question": "Delivery?", "answer": "Fast."}]), encoding="utf-8")
    with pytest.raises(BadSourceFormat, match=r"ship-time.*faq\.json.*more\.json"):
        build_index([*small_sources, twin], out=tmp_path / "index", encoder=use_encoder, progress=False)


def test_missing_corrupt_and_stale_indexes(
    small_sources: list[Path], tmp_path: Path, use_encoder: UseEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(IndexNotFound, match="no knowledge-base index"):
        load_index(tmp_path / "nothing", encoder=use_encoder)
    out = tmp_path / "index"
    build_index(small_sources, out=out, encoder=use_encoder, progress=False)
    monkeypatch.setattr(tokenize, "TOKENIZER_VERSION", tokenize.TOKENIZER_VERSION + 1)
    tokenize.fingerprint.cache_clear()
    try:
        with pytest.raises(StaleIndex, match="rebuild"):
            load_index(out, encoder=use_encoder)
        assert open_or_build(small_sources, cache_dir=out, encoder=use_encoder).chunks
        live = out / (out / "CURRENT").read_text()
        (live / "dense.faiss").unlink()
        with pytest.raises(CorruptIndex, match=r"dense\.faiss"):
            load_index(out, encoder=use_encoder)
    finally:
        monkeypatch.undo()
        tokenize.fingerprint.cache_clear()
