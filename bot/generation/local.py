"""A local transformers causal LM (GPU when present), with the same citation check and grounded fallback.

    generator = TransformersGenerator("/models/qwen2.5-1.5b-instruct", fallback=GroundedGenerator(), device="auto")

The model loads on first use, in a worker thread, and generation runs there too, so the event loop never
blocks. One generation runs at a time (a lock), which is what a single local model can serve anyway.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.generation.base import Generation, GenerationRequest, Generator
from bot.generation.prompting import build_messages, check_answer

log = logging.getLogger(__name__)


class TransformersGenerator:
    """Greedy decoding with ``transformers``; the chat template when the tokenizer has one, a plain prompt otherwise."""

    name = "transformers"

    def __init__(
        self,
        model: str | Path,
        *,
        fallback: Generator,
        device: str = "auto",
        max_new_tokens: int = 200,
        shop: str = "our shop",
        model_object: Any = None,
        tokenizer: Any = None,
    ) -> None:
        self.model_path = str(model)
        self.fallback = fallback
        self.device = device
        self.max_new_tokens = max_new_tokens
        self.shop = shop
        self._model = model_object
        self._tokenizer = tokenizer
        self._lock = asyncio.Lock()

    def _load(self) -> None:
        if self._model is not None and self._tokenizer is not None:
            return
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as error:
            raise ConfigError("the transformers generator needs the llm extra: pip install 'kefu[llm]'") from error
        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(self.model_path)
            dtype = torch.float16 if device == "cuda" else torch.float32
            model = AutoModelForCausalLM.from_pretrained(self.model_path, dtype=dtype)
            self._model = model.to(device).eval()  # type: ignore[arg-type]  # transformers types .to as unbound
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot load the generation model {self.model_path}: {error}") from error

    def _prompt(self, request: GenerationRequest) -> str:
        messages = build_messages(request, shop=self.shop)
        if getattr(self._tokenizer, "chat_template", None):
            return str(self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
        lines = [f"{m['role'].upper()}: {m['content']}" for m in messages]
        return "\n\n".join([*lines, "ASSISTANT:"])

    def _generate_sync(self, request: GenerationRequest) -> str:
        import torch

        self._load()
        tokenizer, model = self._tokenizer, self._model
        inputs = tokenizer(self._prompt(request), return_tensors="pt").to(model.device)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        with torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False, pad_token_id=pad)
        return str(tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True))

    async def close(self) -> None:
        """Nothing to release."""

    async def generate(self, request: GenerationRequest) -> Generation:
        async with self._lock:
            text = await asyncio.to_thread(self._generate_sync, request)
        generation, why = check_answer(text, request, backend=self.name)
        if generation is not None:
            return generation
        log.warning("local LM answer rejected (%s); falling back", why)
        fallback = await self.fallback.generate(request)
        return Generation(fallback.text, fallback.source_ids, f"{fallback.backend} (local answer rejected: {why})")
