"""An OpenAI-compatible chat backend (vLLM, Ollama, llama.cpp server, OpenAI), checked and with a safe fallback.

    generator = OpenAICompatibleGenerator(base_url="http://127.0.0.1:8000/v1", model="qwen2.5-7b-instruct",
                                          fallback=GroundedGenerator())

The answer must cite only retrieved passages (``bot.generation.prompting.check_answer``). A rejected answer,
a timeout, a 5xx or an unreachable server fall back to the grounded answer, so the shopper always gets one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp

from bot.generation.base import Generation, GenerationRequest, Generator
from bot.generation.prompting import build_messages, check_answer

log = logging.getLogger(__name__)


class LLMUnavailable(Exception):
    """The server failed, timed out or answered something that is not a chat completion."""


class OpenAICompatibleGenerator:
    """``POST {base_url}/chat/completions``, streamed (SSE) or not, with a timeout and retries on 5xx/timeouts.

    The HTTP session is created on first use and owned by the generator: call ``close``.
    """

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        fallback: Generator,
        api_key: str | None = None,
        timeout_s: float = 20.0,
        retries: int = 1,
        stream: bool = False,
        max_tokens: int = 300,
        temperature: float = 0.0,
        shop: str = "our shop",
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.fallback = fallback
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout_s = timeout_s
        self.retries = retries
        self.stream = stream
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.shop = shop
        self._session: aiohttp.ClientSession | None = None

    async def generate(self, request: GenerationRequest) -> Generation:
        body = {
            "model": self.model,
            "messages": build_messages(request, shop=self.shop),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stream": self.stream,
        }
        try:
            text = await self._complete(body)
        except LLMUnavailable as error:
            log.warning("LLM at %s unavailable (%s); falling back to %s", self.url, error, self._fallback_name)
            return await self._fall_back(request, f"llm unavailable: {error}")
        generation, why = check_answer(text, request, backend=self.name)
        if generation is None:
            log.warning("LLM answer rejected (%s); falling back to %s", why, self._fallback_name)
            return await self._fall_back(request, f"llm answer rejected: {why}")
        return generation

    @property
    def _fallback_name(self) -> str:
        return getattr(self.fallback, "name", type(self.fallback).__name__)

    async def _fall_back(self, request: GenerationRequest, why: str) -> Generation:
        generation = await self.fallback.generate(request)
        return Generation(generation.text, generation.source_ids, f"{generation.backend} ({why})")

    async def _complete(self, body: dict[str, Any]) -> str:
        """The completion's text; retries timeouts, connection errors and 5xx, ``LLMUnavailable`` when out of tries."""
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self.headers)
        error: str = ""
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(min(0.25 * 2**attempt, 2.0))
            try:
                async with asyncio.timeout(self.timeout_s):
                    async with self._session.post(self.url, json=body) as response:
                        if response.status >= 500:
                            error = f"HTTP {response.status}"
                            continue
                        if response.status != 200:
                            raise LLMUnavailable(f"HTTP {response.status}: {(await response.text())[:200]}")
                        return await (self._read_stream(response) if body["stream"] else self._read_json(response))
            except TimeoutError:
                error = f"no answer within {self.timeout_s:g} s"
            except aiohttp.ClientError as failure:
                error = f"{type(failure).__name__}: {failure}"
        raise LLMUnavailable(f"{error} after {self.retries + 1} tries")

    @staticmethod
    async def _read_json(response: aiohttp.ClientResponse) -> str:
        try:
            data = await response.json(content_type=None)
            return str(data["choices"][0]["message"]["content"] or "")
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise LLMUnavailable(f"not a chat completion: {error!r}") from error

    @staticmethod
    async def _read_stream(response: aiohttp.ClientResponse) -> str:
        """Concatenate the ``delta.content`` of each ``data:`` event until ``[DONE]``."""
        parts: list[str] = []
        async for raw in response.content:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                delta = json.loads(data)["choices"][0].get("delta", {})
            except (ValueError, KeyError, IndexError, TypeError) as error:
                raise LLMUnavailable(f"bad stream event {data[:80]!r}: {error!r}") from error
            parts.append(delta.get("content") or "")
        return "".join(parts)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
