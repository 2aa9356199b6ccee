"""The pipeline of DESIGN §2: understand → embed → intent + retrieve → decide → generate, traced per stage.

``Pipeline.handle`` turns one ``Message`` into one ``Reply``. It holds no per-conversation state and may
run many turns at once; ordering within a conversation is the runtime's job (``bot.runtime``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from bot.engines import Engines
from bot.errors import StageTimeout, user_message
from bot.generation.base import GenerationRequest, Generator
from bot.generation.templates import kind_name, say
from bot.language import clean_text, detect_language
from bot.messages import HUMAN_PAYLOAD, Attachment, Message, QuickReply, Reply, Source
from bot.policy import Action, Policy, TurnFacts
from bot.protocols import Hit

log = logging.getLogger(__name__)

StageObserver = Callable[[str, float], None]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PipelineLimits:
    max_text_chars: int = 4000
    max_audio_bytes: int = 20 * 1024 * 1024
    max_image_bytes: int = 20 * 1024 * 1024
    stage_timeout_s: float = 30.0


@dataclass(frozen=True, slots=True)
class Shop:
    name: str = "Lumen & Loom"
    hours: str = "Mon-Fri 9:00-18:00 (UTC+8)"


@dataclass(slots=True)
class Understanding:
    """The shopper's turn in words, whatever its modality."""

    text: str
    language: str
    quote: str | None = None
    notices: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Trace:
    """Per-stage timings of one turn, in milliseconds, in the order the stages ran."""

    timings_ms: dict[str, float] = field(default_factory=dict)
    observer: StageObserver | None = None

    @asynccontextmanager
    async def stage(self, name: str, timeout_s: float) -> AsyncIterator[None]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout_s):
                yield
        except TimeoutError:
            raise StageTimeout(name, timeout_s) from None
        finally:
            elapsed = time.perf_counter() - started
            self.timings_ms[name] = self.timings_ms.get(name, 0.0) + elapsed * 1000
            if self.observer is not None:
                self.observer(name, elapsed)

    async def timed(self, name: str, timeout_s: float, work: Awaitable[T]) -> T:
        """Await ``work`` as stage ``name`` (so stages can run concurrently under ``asyncio.gather``)."""
        async with self.stage(name, timeout_s):
            return await work


class Pipeline:
    """Stateless turn handling over batched engines, a policy and a generator."""

    def __init__(
        self,
        *,
        engines: Engines,
        policy: Policy,
        generator: Generator,
        limits: PipelineLimits | None = None,
        shop: Shop | None = None,
        observer: StageObserver | None = None,
    ) -> None:
        self.engines = engines
        self.policy = policy
        self.generator = generator
        self.limits = limits or PipelineLimits()
        self.shop = shop or Shop()
        self.observer = observer

    async def handle(self, message: Message) -> Reply:
        """Answer one message. Bad input becomes a clear reply; only internal failures raise."""
        trace = Trace(observer=self.observer)
        timeout = self.limits.stage_timeout_s
        started = time.perf_counter()
        async with trace.stage("understand", timeout):
            seen = await self._understand(message)
        if not seen.text and message.payload != HUMAN_PAYLOAD:
            text = "\n".join(seen.notices) or say("empty", seen.language)
            return self._reply(text, seen, trace, started, reason="nothing to answer")
        query = seen.text or message.payload or ""
        async with trace.stage("embed", timeout):
            vector = await self.engines.encode(query)
        prediction, hits = await asyncio.gather(
            trace.timed("intent", timeout, self.engines.intent(query, vector)),
            trace.timed("retrieve", timeout, self._retrieve(query, vector, seen.language)),
        )
        facts = TurnFacts(
            text=query,
            language=seen.language,
            intent=prediction.label,
            confidence=float(prediction.confidence),
            out_of_scope=bool(prediction.out_of_scope),
            hits=hits,
            payload=message.payload,
        )
        async with trace.stage("decide", timeout):
            decision = self.policy.decide(facts)
        log.info("turn %s: %s (%s)", message.conversation, decision.action.value, decision.reason)
        async with trace.stage("generate", timeout):
            text, sources = await self._compose(decision.action, facts)
        if seen.notices:
            text = "\n".join([*seen.notices, text])
        return self._reply(
            text,
            seen,
            trace,
            started,
            reason=f"{decision.action.value}: {decision.reason}",
            intent=prediction.label,
            confidence=float(prediction.confidence),
            sources=sources,
            escalated=decision.action is Action.ESCALATE,
        )

    async def _understand(self, message: Message) -> Understanding:
        typed = clean_text(message.text)
        notices: list[str] = []
        language = message.language or detect_language(typed, hint=message.language_hint)
        if len(typed) > self.limits.max_text_chars:
            typed = typed[: self.limits.max_text_chars]
            notices.append(say("truncated", language, limit=self.limits.max_text_chars))
        parts = [typed] if typed else []
        quotes: list[str] = []
        for attachment in message.attachments:
            heard = await self._understand_attachment(attachment, language, notices)
            if heard is None:
                continue
            words, quote, heard_language = heard
            parts.append(words)
            quotes.append(quote)
            if not typed and heard_language and not message.language:
                language = heard_language
        return Understanding(" ".join(parts).strip(), language, "\n".join(quotes) or None, notices)

    async def _understand_attachment(
        self, attachment: Attachment, language: str, notices: list[str]
    ) -> tuple[str, str, str | None] | None:
        """Words, a quote and maybe a language from one attachment; a notice instead when it cannot be used."""
        is_audio = attachment.kind in ("voice", "audio")
        is_image = attachment.kind == "photo" or (attachment.mime_type or "").startswith("image/")
        kind = kind_name(attachment.kind, language)
        if not (is_audio or is_image):
            notices.append(say("attachment_disabled", language, kind=kind))
            return None
        if (is_audio and self.engines.transcriber is None) or (is_image and self.engines.describer is None):
            notices.append(say("attachment_disabled", language, kind=kind))
            return None
        try:
            if is_audio:
                clip = await attachment.read(max_bytes=self.limits.max_audio_bytes)
                transcript = await self.engines.transcribe(clip)
                return transcript.text, f"🎤 {transcript.text}", transcript.language
            image = await attachment.read(max_bytes=self.limits.max_image_bytes)
            description = await self.engines.describe(image)
            words = " ".join([description.caption, *(label.label for label in description.labels), *description.text])
            return words.strip(), f"📷 {description.caption}", None
        except Exception as error:  # noqa: BLE001 - each bad attachment becomes a notice, the turn goes on
            reason = user_message(error)
            if reason is None:
                log.exception("could not process a %s", attachment.kind)
                reason = say("internal_error", language)
            else:
                log.warning("rejected a %s: %s", attachment.kind, error)
            notices.append(say("attachment_failed", language, kind=kind, reason=reason))
            return None

    async def _retrieve(self, query: str, vector: object, language: str) -> list[Hit]:
        """Passages in the shopper's language first; any language when none match."""
        hits = await self.engines.retrieve(query, vector, {"language": language})  # type: ignore[arg-type]
        if not hits:
            hits = await self.engines.retrieve(query, vector, None)  # type: ignore[arg-type]
        return hits

    async def _compose(self, action: Action, facts: TurnFacts) -> tuple[str, tuple[Source, ...]]:
        language = facts.language
        if action is Action.ANSWER:
            request = GenerationRequest(
                question=facts.text, language=language, passages=facts.hits, intent=facts.intent
            )
            generation = await self.generator.generate(request)
            by_id = {hit.id: hit for hit in facts.hits}
            sources = tuple(
                Source(id=i, title=by_id[i].title, score=float(by_id[i].score), url=by_id[i].metadata.get("url"))
                for i in generation.source_ids
                if i in by_id
            )
            return generation.text, sources
        key = {
            Action.GREET: "greeting",
            Action.GOODBYE: "goodbye",
            Action.ESCALATE: "escalated",
            Action.DECLINE: "out_of_scope",
            Action.CLARIFY: "clarify",
        }[action]
        return say(key, language, shop=self.shop.name, hours=self.shop.hours), ()

    def _reply(
        self,
        text: str,
        seen: Understanding,
        trace: Trace,
        started: float,
        *,
        reason: str,
        intent: str | None = None,
        confidence: float | None = None,
        sources: tuple[Source, ...] = (),
        escalated: bool = False,
    ) -> Reply:
        trace.timings_ms["total"] = (time.perf_counter() - started) * 1000
        buttons = () if escalated else (QuickReply(say("human_button", seen.language), HUMAN_PAYLOAD),)
        return Reply(
            text=text,
            language=seen.language,
            intent=intent,
            confidence=confidence,
            sources=sources,
            quick_replies=buttons,
            escalated=escalated,
            quote=seen.quote,
            timings_ms=dict(trace.timings_ms),
            reason=reason,
        )
