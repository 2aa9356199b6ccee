"""Text in photos (labels, receipts, SKUs) with RapidOCR (PP-OCR, ONNX; Chinese and English).

The detector runs on a copy of the image downscaled to ``det_side`` (and sees exactly that copy: RapidOCR's
own default would scale it back up to 736 pixels on the shorter side); the boxes it finds are cut from the
working image (finer) and only those are recognised, all boxes of a batch of images together, split into
``lanes`` groups of similar width that run side by side (one thread each: no idle spinning on a busy CPU,
less padding in each group). Reading a 12-megapixel photo this way costs a fraction of RapidOCR's own pass
over the full image.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

MIN_CHARS = 2
"""Shorter lines are mostly texture read as a letter or a digit."""
DET_SIDE = 960
"""Longest side the detector sees (larger images are scaled down to it, smaller ones up): small print on a phone
photo of a label is still found at this size."""


@dataclass(frozen=True, slots=True)
class TextLine:
    text: str
    score: float


class TextReader:
    """RapidOCR's detector, orientation classifier and recogniser, loaded on first use.

    ``min_score``: recognised lines below this confidence are dropped; ``threads``: onnxruntime's intra-op
    threads per model (None: onnxruntime's default, every core); ``lanes``: groups of boxes recognised side by
    side (None: as many as the cores hold at ``threads`` each, so one when onnxruntime takes every core).
    """

    def __init__(
        self,
        *,
        det_side: int = DET_SIDE,
        min_score: float = 0.5,
        threads: int | None = None,
        lanes: int | None = None,
    ) -> None:
        self.det_side = det_side
        self.min_score = min_score
        self.threads = threads
        cores = os.cpu_count() or 1
        self.lanes = max(1, lanes if lanes is not None else cores // (threads or cores))
        self._engine: Any = None
        self._direct: Any = None
        self._loading = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=self.lanes, thread_name_prefix="ocr-rec")

    def read_batch(self, images: Sequence[Image.Image]) -> list[list[TextLine]]:
        """The lines of text found in each image, in reading order (top to bottom, left to right)."""
        from rapidocr.utils.process_img import get_rotate_crop_image

        engine = self._loaded()
        detect = engine._load_det_model()  # RapidOCR's own parts, called directly: it has no public per-step calls
        crops: list[np.ndarray] = []
        owners: list[int] = []
        for n, image in enumerate(images):
            scale = self.det_side / max(image.size)  # small images up, as RapidOCR itself would, large ones down
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
        for owner, (text, score) in zip(owners, self._recognise(upright), strict=True):
            if len(text.strip()) >= MIN_CHARS and score >= self.min_score:
                lines[owner].append(TextLine(text.strip(), score))
        return lines

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """Text and confidence of each crop, in order; groups of similar width run side by side."""
        from rapidocr.ch_ppocr_rec import TextRecInput

        recognise = self._loaded()._load_rec_model()
        by_width = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / max(1, crops[i].shape[0]))
        size = -(-len(crops) // self.lanes)
        groups = [by_width[start : start + size] for start in range(0, len(crops), size)]
        reads = self._pool.map(lambda group: recognise(TextRecInput(img=[crops[i] for i in group])), groups)
        found: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        for group, read in zip(groups, reads, strict=True):
            for i, text, score in zip(group, read.txts or (), read.scores or (), strict=False):
                found[i] = (str(text), float(score))
        return found

    def read_full(self, data: bytes) -> list[TextLine]:
        """RapidOCR called directly on the file's bytes with its own settings: its pass over the full-resolution
        image (the baseline ``kefu bench vision`` compares against; a second engine, loaded on first use)."""
        with self._loading:
            if self._direct is None:
                self._direct = _rapidocr(self._threads_params())
        result = self._direct(data, use_det=True, use_cls=True, use_rec=True)
        return [TextLine(str(t), float(s)) for t, s in zip(result.txts or (), result.scores or (), strict=False)]

    def _loaded(self) -> Any:
        with self._loading:
            if self._engine is None:
                self._engine = _rapidocr(
                    {
                        **self._threads_params(),
                        "Global.text_score": self.min_score,
                        "Det.limit_type": "max",  # the detector sees the det_side copy as it is, not scaled back up
                        "Det.limit_side_len": self.det_side,
                    }
                )
        return self._engine

    def _threads_params(self) -> dict[str, Any]:
        if self.threads is None:
            return {}
        return {
            "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }


def _rapidocr(params: dict[str, Any]) -> Any:
    from rapidocr import RapidOCR

    return RapidOCR(params={"Global.log_level": "warning", **params})


def _bgr(image: Image.Image) -> np.ndarray:
    """The channel order PP-OCR was trained on."""
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
