"""The captioner backend on a tiny random VisionEncoderDecoder (ViT encoder, GPT-2 decoder) built in the test: no
captioning model ships weights on PyPI, so this checks the loading, batching and decoding path, not the words."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.vision.conftest import encode, render_label, sample_photo
from vision import Description, UnsupportedImage, load_describer

pytestmark = pytest.mark.slow

WORDS = ["a", "photo", "of", "shoe", "label", "cup", "cat", "red", "black", "on", "table"]


@pytest.fixture(scope="module")
def tiny_captioner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        GPT2Config,
        GPT2LMHeadModel,
        PreTrainedTokenizerFast,
        VisionEncoderDecoderModel,
        ViTConfig,
        ViTImageProcessor,
        ViTModel,
    )

    folder = tmp_path_factory.mktemp("tiny-captioner")
    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    vocab = {token: n for n, token in enumerate(specials + WORDS)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    torch.manual_seed(0)
    encoder = ViTModel(
        ViTConfig(
            image_size=32,
            patch_size=8,
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=64,
        )
    )
    decoder = GPT2LMHeadModel(
        GPT2Config(
            vocab_size=len(vocab),
            n_positions=64,
            n_embd=32,
            n_layer=1,
            n_head=2,
            add_cross_attention=True,
            is_decoder=True,
            bos_token_id=1,
            eos_token_id=2,
            pad_token_id=0,
        )
    )
    model = VisionEncoderDecoderModel(encoder=encoder, decoder=decoder)
    model.config.decoder_start_token_id = 1
    model.config.pad_token_id = 0
    model.config.eos_token_id = 2
    model.generation_config.decoder_start_token_id = 1
    model.generation_config.pad_token_id = 0
    model.generation_config.eos_token_id = 2
    model.generation_config.suppress_tokens = [0, 1, 3]  # an untrained decoder: let it say words, not specials
    model.generation_config.min_new_tokens = 3
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def test_a_transformers_captioner_from_a_path_captions_a_batch_like_one_at_a_time(tiny_captioner: Path) -> None:
    describer = load_describer(backend="captioner", model=str(tiny_captioner), labels=False, ocr=False)
    red = encode(Image.new("RGB", (64, 48), "red"), "PNG")
    photos = [sample_photo("coffee.png"), render_label(["LL-SH-001"]), red]
    batch = describer.describe_batch([*photos, b"not an image"])
    assert isinstance(batch[3], UnsupportedImage)
    alone = [describer.describe_batch([photo])[0] for photo in photos]
    for together, single in zip(batch[:3], alone, strict=True):
        assert isinstance(together, Description) and isinstance(single, Description)
        assert together.caption and set(together.caption.split()) <= set(WORDS)
        assert together.caption == single.caption
        assert together.labels == () and together.text == () and "caption" in together.timings_ms
    describer.close()


def test_the_captioner_and_the_offline_parts_together(tiny_captioner: Path) -> None:
    describer = load_describer(backend="captioner", model=str(tiny_captioner))
    [result] = describer.describe_batch([render_label(["SKU LL-SH-003"])])
    assert isinstance(result, Description)
    assert result.caption and result.labels and "LL-SH-003" in " ".join(result.text)
    assert {"caption", "labels", "ocr"} <= set(result.timings_ms)
    describer.close()


def test_the_captioner_backend_needs_a_model() -> None:
    with pytest.raises(ValueError, match="needs a model"):
        load_describer(backend="captioner")
    with pytest.raises(ValueError, match="unknown vision backend"):
        load_describer(backend="clip")
