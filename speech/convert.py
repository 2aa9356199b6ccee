"""Turn CTranslate2 Whisper weights into an openai-whisper (torch) model in memory, so the torch path runs offline.

    model = to_openai_whisper(resolve_model("base"), device="cuda")    # whisper.model.Whisper

No package ships openai-whisper ``.pt`` files, but the CTranslate2 variables map one to one onto
openai-whisper's parameters; only the fused attention projections are split (query/key/value in
self-attention, key/value in cross-attention) and int8 weights, if any, are scaled back.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from speech.models import ModelSource

if TYPE_CHECKING:
    import whisper.model

_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16)  # CTranslate2's DataType order (bfloat16 unsupported)


class ModelFormatError(ValueError):
    """The bytes are not a CTranslate2 Whisper model this converter understands."""


def read_ct2_variables(blob: bytes) -> dict[str, np.ndarray]:
    """The named arrays of a CTranslate2 ``model.bin`` (format version 6), as views on ``blob``."""
    offset = 0

    def take(fmt: str) -> int:
        nonlocal offset
        (value,) = struct.unpack_from(fmt, blob, offset)
        offset += struct.calcsize(fmt)
        return value

    def text() -> str:
        nonlocal offset
        length = take("H")
        value = blob[offset : offset + length - 1].decode("utf-8")
        offset += length
        return value

    version = take("I")
    if version < 5:
        raise ModelFormatError(f"CTranslate2 model format version {version} is too old (need 5 or later)")
    spec, _revision = text(), take("I")
    if spec != "WhisperSpec":
        raise ModelFormatError(f"not a Whisper model: the CTranslate2 spec is {spec!r}")
    variables: dict[str, np.ndarray] = {}
    for _ in range(take("I")):
        name = text()
        shape = [take("I") for _ in range(take("B"))]
        dtype_id, size = take("B"), take("I")
        if dtype_id >= len(_DTYPES):
            raise ModelFormatError(f"variable {name} has an unsupported data type (id {dtype_id})")
        variables[name] = np.frombuffer(
            blob, dtype=_DTYPES[dtype_id], count=size // np.dtype(_DTYPES[dtype_id]).itemsize, offset=offset
        ).reshape(shape)
        offset += size
    for _ in range(take("I")):
        alias, target = text(), text()
        variables[alias] = variables[target]
    return variables


def to_openai_whisper(source: ModelSource, *, device: str = "cpu") -> whisper.model.Whisper:
    """An openai-whisper model with ``source``'s CTranslate2 weights (fp32 parameters, on ``device``)."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    blob = source.ct2_file("model.bin")
    if blob is None:
        raise ModelFormatError(f"{source.name}: no CTranslate2 model.bin to convert")
    variables = read_ct2_variables(blob)
    state = _state_dict(variables)
    n_audio_layer = _count_layers(variables, "encoder")
    n_text_layer = _count_layers(variables, "decoder")
    dims = ModelDimensions(
        n_mels=state["encoder.conv1.weight"].shape[1],
        n_audio_ctx=state["encoder.positional_embedding"].shape[0],
        n_audio_state=state["encoder.conv1.weight"].shape[0],
        n_audio_head=int(variables["encoder/num_heads"]),
        n_audio_layer=n_audio_layer,
        n_vocab=state["decoder.token_embedding.weight"].shape[0],
        n_text_ctx=state["decoder.positional_embedding"].shape[0],
        n_text_state=state["decoder.token_embedding.weight"].shape[1],
        n_text_head=int(variables["decoder/num_heads"]),
        n_text_layer=n_text_layer,
    )
    model = Whisper(dims)
    model.load_state_dict({name: torch.from_numpy(array) for name, array in state.items()}, strict=True, assign=True)
    mask = torch.zeros(n_text_layer, dims.n_text_head, dtype=torch.bool)
    heads = source.config.get("alignment_heads")
    if heads:
        for layer, head in heads:
            mask[layer, head] = True
    else:  # openai-whisper's default: every head of the upper half of the decoder
        mask[n_text_layer // 2 :] = True
    model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model.requires_grad_(False).to(device).eval()


def _count_layers(variables: dict[str, np.ndarray], part: str) -> int:
    return len({name.split("/")[1] for name in variables if re.match(rf"{part}/layer_\d+/", name)})


def _weight(variables: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A float32 copy of a variable, undoing CTranslate2's per-row int8 quantization where present."""
    array = variables[name]
    scale = variables.get(name.removesuffix("weight") + "weight_scale")
    if array.dtype == np.int8 and scale is not None:
        return array.astype(np.float32) / scale.astype(np.float32).reshape(-1, *([1] * (array.ndim - 1)))
    return array.astype(np.float32)


def _state_dict(variables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:

    def get(name: str) -> np.ndarray:
        return _weight(variables, name)

    state = {
        "encoder.conv1.weight": get("encoder/conv1/weight"),
        "encoder.conv1.bias": get("encoder/conv1/bias"),
        "encoder.conv2.weight": get("encoder/conv2/weight"),
        "encoder.conv2.bias": get("encoder/conv2/bias"),
        "encoder.positional_embedding": get("encoder/position_encodings/encodings"),
        "encoder.ln_post.weight": get("encoder/layer_norm/gamma"),
        "encoder.ln_post.bias": get("encoder/layer_norm/beta"),
        "decoder.token_embedding.weight": get("decoder/embeddings/weight"),
        "decoder.positional_embedding": get("decoder/position_encodings/encodings"),
        "decoder.ln.weight": get("decoder/layer_norm/gamma"),
        "decoder.ln.bias": get("decoder/layer_norm/beta"),
    }
    for part in ("encoder", "decoder"):
        for i in range(_count_layers(variables, part)):
            src, dst = f"{part}/layer_{i}", f"{part}.blocks.{i}"
            _attention(state, get, f"{src}/self_attention", f"{dst}.attn", fused=3)
            if part == "decoder":
                _attention(state, get, f"{src}/attention", f"{dst}.cross_attn", fused=2)
            state[f"{dst}.mlp_ln.weight"] = get(f"{src}/ffn/layer_norm/gamma")
            state[f"{dst}.mlp_ln.bias"] = get(f"{src}/ffn/layer_norm/beta")
            for j, k in ((0, 0), (1, 2)):
                state[f"{dst}.mlp.{k}.weight"] = get(f"{src}/ffn/linear_{j}/weight")
                state[f"{dst}.mlp.{k}.bias"] = get(f"{src}/ffn/linear_{j}/bias")
    return state


def _attention(
    state: dict[str, np.ndarray], get: Callable[[str], np.ndarray], src: str, dst: str, *, fused: int
) -> None:
    """Split CTranslate2's fused projections: self-attention [q;k;v] in linear_0; cross-attention q, then [k;v]."""
    ln = "attn_ln" if dst.endswith(".attn") else "cross_attn_ln"
    prefix = dst.rsplit(".", 1)[0]
    state[f"{prefix}.{ln}.weight"] = get(f"{src}/layer_norm/gamma")
    state[f"{prefix}.{ln}.bias"] = get(f"{src}/layer_norm/beta")
    names: tuple[str, ...]
    if fused == 3:
        names, weights, biases = ("query", "key", "value"), get(f"{src}/linear_0/weight"), get(f"{src}/linear_0/bias")
        out = 1
    else:
        state[f"{dst}.query.weight"] = get(f"{src}/linear_0/weight")
        state[f"{dst}.query.bias"] = get(f"{src}/linear_0/bias")
        names, weights, biases = ("key", "value"), get(f"{src}/linear_1/weight"), get(f"{src}/linear_1/bias")
        out = 2
    for name, weight, bias in zip(names, np.split(weights, fused), np.split(biases, fused), strict=True):
        state[f"{dst}.{name}.weight"] = weight
        if name != "key":  # Whisper's key projection has no bias (CTranslate2 stores zeros there)
            state[f"{dst}.{name}.bias"] = bias
    state[f"{dst}.out.weight"] = get(f"{src}/linear_{out}/weight")
    state[f"{dst}.out.bias"] = get(f"{src}/linear_{out}/bias")
