"""Captions from any transformers image-to-text model (BLIP, GIT, ViT-GPT2…) from a path or the hub; fp16 on CUDA."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from PIL import Image


class TransformersCaptioner:
    """An ``AutoModelForImageTextToText`` model with its image processor and tokenizer, loaded on first use.

    ``model``: a local folder or a hub name; ``device``: ``cpu`` or ``cuda`` (half precision there);
    ``max_new_tokens`` bounds each caption.
    """

    def __init__(self, model: str, *, device: str = "cpu", max_new_tokens: int = 30) -> None:
        self.model = model
        self.device = device
        self.max_new_tokens = max_new_tokens
        self._loaded: tuple[Any, Any, Any] | None = None
        self._loading = threading.Lock()

    def caption_batch(self, images: Sequence[Image.Image]) -> list[str]:
        """One caption per image, the whole batch in one ``generate`` call."""
        import torch

        if not images:
            return []
        model, processor, tokenizer = self._load()
        pixels = processor(images=list(images), return_tensors="pt")["pixel_values"]
        pixels = pixels.to(self.device, dtype=model.dtype)
        with torch.inference_mode():
            tokens = model.generate(pixel_values=pixels, max_new_tokens=self.max_new_tokens)
        return [text.strip() for text in tokenizer.batch_decode(tokens, skip_special_tokens=True)]

    def _load(self) -> tuple[Any, Any, Any]:
        with self._loading:
            if self._loaded is None:
                import torch
                from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoTokenizer

                dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
                model: Any = AutoModelForImageTextToText.from_pretrained(self.model, dtype=dtype)
                model = model.to(self.device).eval()
                processor = AutoImageProcessor.from_pretrained(self.model)
                tokenizer = AutoTokenizer.from_pretrained(self.model)
                self._loaded = (model, processor, tokenizer)
        return self._loaded
