"""Captions from a vision-language model behind an OpenAI-compatible server (vLLM or Ollama serving Qwen2.5-VL…).

Each photo goes as a JPEG data URL (re-encoded: no EXIF, no location) in one chat message. A timeout, a refused
connection or an error status leaves that photo without a caption and logs why: the offline labels and text still
describe it, so the shopper gets an answer either way.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PIL import Image

log = logging.getLogger(__name__)

PROMPT = (
    "Describe this photo from a shopper in one short sentence for a shop assistant: the product, its colour and "
    "anything wrong with it. Do not guess brand names you cannot read."
)


class ServerCaptioner:
    """``caption_batch`` over ``base_url`` (``…/v1``), ``parallel`` requests at a time, each within ``timeout_s``."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 20.0,
        max_tokens: int = 80,
        parallel: int = 4,
        prompt: str = PROMPT,
    ) -> None:
        from openai import OpenAI

        self.model = model
        self.max_tokens = max_tokens
        self.prompt = prompt
        self._client: Any = OpenAI(base_url=base_url, api_key=api_key or "none", timeout=timeout_s, max_retries=0)
        self._pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="vlm")

    def caption_batch(self, images: Sequence[Image.Image]) -> list[str]:
        """One caption per image; an empty string where the server failed (the reason is logged)."""
        return list(self._pool.map(self._caption, images))

    def _caption(self, image: Image.Image) -> str:
        from openai import OpenAIError

        url = "data:image/jpeg;base64," + base64.b64encode(_jpeg(image)).decode("ascii")
        content = [{"type": "text", "text": self.prompt}, {"type": "image_url", "image_url": {"url": url}}]
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                max_tokens=self.max_tokens,
                messages=[{"role": "user", "content": content}],
            )
        except OpenAIError as error:
            log.warning("the vision model did not answer (%s): the photo is described offline", type(error).__name__)
            return ""
        choices = getattr(response, "choices", None) or []
        return str(choices[0].message.content or "").strip() if choices else ""


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()
