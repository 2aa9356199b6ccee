"""Text in photos (labels, receipts, SKUs) with RapidOCR (PP-OCR, ONNX; Chinese and English).

The detector runs on a copy of the image downscaled to ``det_side``; the boxes it finds are cut from the
working image (finer) and only those are recognised, all boxes of a batch of images in one recognition
call. Reading a 12-megapixel photo this way costs a fraction of RapidOCR's own pass over the full image.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

MIN_CHARS = 2
"""Shorter lines are mostly texture read as a letter or a digit."""
DET_SIDE = 960
"""Longest side the detector sees: small print on a phone photo of a label is still found at this size."""


@dataclass(frozen=True, slots=True)
class TextLine:
    text: str
    score: float


class TextReader:
    """RapidOCR's detector, orientation classifier and recogniser, loaded on first use.

    ``min_score``: recognised lines below this confidence are dropped; ``threads``: onnxruntime's intra-op
    threads per model (None: onnxruntime's default, every core).
    """

    def __init__(self, *, det_side: int = DET_SIDE, min_score: float = 0.5, threads: int | None = None) -> None:
        self.det_side = det_side
        self.min_score = min_score
        self.threads = threads
        self._engine: Any = None
        self._loading = threading.Lock()

    def read_batch(self, images: Sequence[Image.Image]) -> list[list[TextLine]]:
        """The lines of text found in each image, in reading order (top to bottom, left to right)."""
        from rapidocr.ch_ppocr_rec import TextRecInput
        from rapidocr.utils.process_img import get_rotate_crop_image

        engine = self._loaded()
        detect = engine._load_det_model()  # RapidOCR's own parts, called directly: it has no public per-step calls
        crops: list[np.ndarray] = []
        owners: list[int] = []
        for n, image in enumerate(images):
            scale = min(1.0, self.det_side / max(image.size))
            small = (
                image
                if scale == 1.0
                else image.resize(
                    (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BILINEAR
                )
            )
            boxes = detect(_bgr(small)).boxes
            if boxes is None or len(boxes) == 0:
                continue
            full = _bgr(image)
            for box in boxes:
                crops.append(get_rotate_crop_image(full, np.asarray(box, dtype=np.float32) / scale))
                owners.append(n)
        lines: list[list[TextLine]] = [[] for _ in images]
        if not crops:
            return lines
        upright = engine._load_cls_model()(crops).img_list  # turns lines printed upside down
        read = engine._load_rec_model()(TextRecInput(img=upright))
        for owner, text, score in zip(owners, read.txts or (), read.scores or (), strict=False):
            if len(text.strip()) >= MIN_CHARS and score >= self.min_score:
                lines[owner].append(TextLine(text.strip(), float(score)))
        return lines

    def read_full(self, data: bytes) -> list[TextLine]:
        """RapidOCR called directly on the file's bytes: its own pass over the full-resolution image (the baseline
        ``kefu bench vision`` compares against)."""
        result = self._loaded()(data, use_det=True, use_cls=True, use_rec=True)
        return [TextLine(str(t), float(s)) for t, s in zip(result.txts or (), result.scores or (), strict=False)]

    def _loaded(self) -> Any:
        with self._loading:
            if self._engine is None:
                from rapidocr import RapidOCR

                params: dict[str, Any] = {"Global.log_level": "warning", "Global.text_score": self.min_score}
                if self.threads is not None:
                    params["EngineConfig.onnxruntime.intra_op_num_threads"] = self.threads
                    params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
                self._engine = RapidOCR(params=params)
        return self._engine


def _bgr(image: Image.Image) -> np.ndarray:
    """The channel order PP-OCR was trained on."""
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
