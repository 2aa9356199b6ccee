"""The pipeline (docs/architecture.md §2): understand → embed → intent + retrieve → decide → act/generate, traced.

``Pipeline.run`` turns one ``Message`` and the conversation's ``Session`` into a ``TurnOutcome`` and updates the
session in memory (slots, counters); keeping it is the caller's job (``bot.dialogue.Conversations``).
``Pipeline.handle`` is the stateless single turn of ``kefu ask``. Ordering within a conversation is the
runtime's job (``bot.runtime``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from bot.actions.base import Action as Task
from bot.actions.base import ActionError
from bot.actions.slots import PENDING, heard, run_action
from bot.catalogue import Catalogue
from bot.engines import Engines, StageObserver
from bot.errors import StageTimeout
from bot.generation.base import GenerationRequest, Generator
from bot.generation.products import asks_product_facts, catalogue_product
from bot.generation.templates import say
from bot.intents.roles import IntentRoles, Role
from bot.language import detect_language
from bot.memory import follow_up_query, generation_history
from bot.messages import HUMAN_PAYLOAD, Message, QuickReply, Reply, Source
from bot.photos import ProductMatch, ask_reply, match_products, product_reply
from bot.policy import Decision, Move, Policy, TurnFacts, asks_if_sold, passage_rules_out
from bot.protocols import Hit
from bot.questions import split_question
from bot.sessions.base import Session
from bot.understanding import Understanding, understand

log = logging.getLogger(__name__)

T = TypeVar("T")
UNSURE = "unsure"
"""Session counter: unsure turns in a row."""


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
    hours_zh: str = "周一至周五 9:00-18:00（北京时间）"

    def hours_in(self, language: str) -> str:
        """The opening hours as told in ``language``."""
        return self.hours_zh if language == "zh" and self.hours_zh else self.hours


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


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """One handled turn: the reply, what the shopper said (in words), and the decision behind the reply."""

    reply: Reply
    text: str
    decision: Decision | None = None
    query: str | None = None
    """What was embedded and searched (the message, or the follow-up rewritten with the previous turn)."""


class Pipeline:
    """Turn handling over batched engines, a policy, a generator and (optionally) actions such as order lookup."""

    def __init__(
        self,
        *,
        engines: Engines,
        policy: Policy,
        generator: Generator,
        limits: PipelineLimits | None = None,
        shop: Shop | None = None,
        observer: StageObserver | None = None,
        actions: Mapping[str, Task] | None = None,
        catalogue: Catalogue | None = None,
        roles: IntentRoles | None = None,
    ) -> None:
        self.engines = engines
        self.policy = policy
        self.generator = generator
        self.limits = limits or PipelineLimits()
        self.shop = shop or Shop()
        self.observer = observer
        self.actions = dict(actions or {})
        self.catalogue = catalogue or Catalogue()
        self.roles = roles or IntentRoles()
        """Each intent's role, from the intents file (none given: intents named after a role have it)."""

    async def handle(self, message: Message) -> Reply:
        """Answer one message with no memory of earlier turns (``kefu ask``)."""
        return (await self.run(message, Session(conversation=str(message.conversation)))).reply

    async def run(self, message: Message, session: Session) -> TurnOutcome:
        """Handle one turn of ``session``'s conversation. Bad input becomes a clear reply; internal failures raise.

        A message the channel answered itself (``Message.answer``) gets that answer, unexamined.
        """
        if message.answer is not None:
            return TurnOutcome(message.answer, message.text)
        trace = Trace(observer=self.observer)
        timeout = self.limits.stage_timeout_s
        started = time.perf_counter()
        async with trace.stage("understand", timeout):
            seen = await understand(
                message,
                self.engines,
                max_text_chars=self.limits.max_text_chars,
                max_audio_bytes=self.limits.max_audio_bytes,
                max_image_bytes=self.limits.max_image_bytes,
                language_hint=session.language,
            )
        if not seen.text and message.payload != HUMAN_PAYLOAD:
            if seen.photos:
                return await self._photo_only(seen, trace, started)
            text = "\n".join(seen.notices) or say("empty", seen.language)
            return TurnOutcome(self._reply(text, seen, trace, started, reason="nothing to answer"), seen.text)
        rewritten = follow_up_query(seen.text, seen.language, session) if seen.text else None
        query = rewritten or seen.text or message.payload or ""
        async with trace.stage("embed", timeout):
            vector = await self.engines.encode(query)
        matches: list[ProductMatch] = []
        if seen.photos:
            async with trace.stage("match", timeout):
                matches = await match_products(seen.photos, seen.language, self.engines, query=query, vector=vector)
        prediction, hits = await asyncio.gather(
            trace.timed("intent", timeout, self.engines.intent(query, vector)),
            trace.timed("retrieve", timeout, self._retrieve(query, vector, seen.language, message.knowledge_base)),
        )
        named = catalogue_product(seen.text, self.catalogue.products, seen.language) if seen.text else None
        pending = session.slots.get(PENDING)
        facts = TurnFacts(
            text=seen.text,
            language=seen.language,
            intent=prediction.label,
            confidence=float(prediction.confidence),
            out_of_scope=bool(prediction.out_of_scope),
            hits=hits,
            role=self.roles.of(prediction.label),
            payload=message.payload,
            slots=heard(self.actions, seen.text, pending=pending),
            pending=pending,
            low_confidence_streak=session.counters.get(UNSURE, 0),
            photo_product=bool(matches),
            named_product=named,
        )
        async with trace.stage("decide", timeout):
            decision = self.policy.decide(facts, tasks=self.actions.keys())
        session.counters[UNSURE] = session.counters.get(UNSURE, 0) + 1 if decision.unsure else 0
        if decision.action is Move.ESCALATE:
            session.counters[UNSURE] = 0
        reason = f"{decision.action.value}: {decision.reason}"
        if rewritten:
            reason += "; follow-up: query rewritten with the previous turn"
        async with trace.stage("act" if decision.action is Move.ACT else "generate", timeout):
            if _answers_photo(seen, decision, matches):
                text, sources, note = self._photo_answer(seen, matches)
            else:
                text, sources, note = await self._compose(decision, facts, session, message.knowledge_base)
        if note:
            reason += f"; {note}"
        log.info("turn %s: %s", message.conversation, reason)
        if seen.notices:
            text = "\n".join([*seen.notices, text])
        reply = self._reply(
            text,
            seen,
            trace,
            started,
            reason=reason,
            intent=prediction.label,
            confidence=float(prediction.confidence),
            sources=sources,
            escalated=decision.action is Move.ESCALATE,
        )
        return TurnOutcome(reply, seen.text, decision, query)

    async def _photo_only(self, seen: Understanding, trace: Trace, started: float) -> TurnOutcome:
        """A photo with no words on it and none from the shopper: a catalogue photo it clearly is, else a question."""
        matches: list[ProductMatch] = []
        looks_like = [d.similar[0][0] for d in seen.photos if getattr(d, "similar", ())]
        if looks_like:
            async with trace.stage("match", self.limits.stage_timeout_s):
                vector = await self.engines.encode(" ".join(looks_like))
                matches = await match_products(seen.photos, seen.language, self.engines, query="", vector=vector)
        text, sources, note = self._photo_answer(seen, matches)
        text = "\n".join([*seen.notices, text])
        return TurnOutcome(self._reply(text, seen, trace, started, reason=note or "photo", sources=sources), "")

    def _photo_answer(
        self, seen: Understanding, matches: list[ProductMatch]
    ) -> tuple[str, tuple[Source, ...], str | None]:
        """The products the photo names, else a question; never a product it did not name."""
        if matches:
            sources = tuple(
                Source(id=m.hit.id, title=m.hit.title, score=float(m.hit.score), url=m.hit.metadata.get("url"))
                for m in matches
            )
            skus = ", ".join(str(m.hit.metadata.get("sku")) for m in matches)
            note = f"photo: matched {skus} by {matches[0].evidence}"
            return product_reply(matches, seen.said, seen.language), sources, note
        return ask_reply(seen.language), (), "photo: no catalogue product named on it"

    async def hear(self, message: Message, *, language_hint: str | None = None) -> Understanding:
        """``message`` in words (voice notes transcribed, photos described), without answering it: what an operator
        reads while they own the conversation."""
        return await understand(
            message,
            self.engines,
            max_text_chars=self.limits.max_text_chars,
            max_audio_bytes=self.limits.max_audio_bytes,
            max_image_bytes=self.limits.max_image_bytes,
            language_hint=language_hint,
        )

    async def suggest(self, text: str, *, language_hint: str | None = None) -> Reply | None:
        """A reply an operator may send to ``text`` (agent assist): the knowledge base's grounded answer in the
        shopper's language (``text``'s, else ``language_hint``), with its sources; None when no passage is relevant
        enough to answer from. No policy, actions or memory."""
        language = detect_language(text, hint=language_hint)
        timeout = self.limits.stage_timeout_s
        async with asyncio.timeout(timeout):
            vector = await self.engines.encode(text)
            relevant = await self._retrieve(text, vector, language)
            if not self.policy.is_relevant(relevant):
                return None
            generation = await self.generator.generate(
                GenerationRequest(question=text, language=language, passages=relevant, catalogue=self.catalogue)
            )
        by_id = {hit.id: hit for hit in (*relevant, *self.catalogue.charts)}
        sources = tuple(
            Source(id=i, title=by_id[i].title, score=float(by_id[i].score), url=by_id[i].metadata.get("url"))
            for i in generation.source_ids
            if i in by_id
        )
        return Reply(
            text=generation.text, language=language, sources=sources, reason=f"suggested by {generation.backend}"
        )

    async def _retrieve(
        self, query: str, vector: object, language: str, knowledge_base: str | None = None
    ) -> list[Hit]:
        """Passages in the shopper's language first; any language when none match; from the knowledge base the
        message's channel chose (``knowledge_base``), else the default one."""
        kb = knowledge_base
        hits = await self.engines.retrieve(query, vector, {"language": language}, knowledge_base=kb)  # type: ignore[arg-type]
        if not hits:
            hits = await self.engines.retrieve(query, vector, None, knowledge_base=kb)  # type: ignore[arg-type]
        return hits

    async def _compose(
        self, decision: Decision, facts: TurnFacts, session: Session, knowledge_base: str | None = None
    ) -> tuple[str, tuple[Source, ...], str | None]:
        """The reply's text, its sources and a note for the trace (the generator used, an action's outcome)."""
        language = facts.language
        if decision.action is Move.ACT and decision.task is not None:
            return await self._act(decision.task, facts, session, knowledge_base)
        session.slots.pop(PENDING, None)
        if decision.action is Move.ANSWER:
            return await self._generate(facts, session, knowledge_base)
        if decision.action is Move.ESCALATE and decision.order_id:
            text = say("escalated_order", language, order=decision.order_id, hours=self.shop.hours_in(language))
            return text, (), None
        if decision.template == "not_sold" and self.catalogue.categories:
            sep = "、" if language == "zh" else ", "
            categories = sep.join(self.catalogue.category_names(language))
            return say("not_sold", language, shop=self.shop.name, categories=categories), (), None
        key = {
            Move.GREET: "greeting",
            Move.GOODBYE: "goodbye",
            Move.ESCALATE: "escalated",
            Move.DECLINE: "out_of_scope",
            Move.CLARIFY: "clarify",
        }[decision.action]
        return say(key, language, shop=self.shop.name, hours=self.shop.hours_in(language)), (), None

    async def _parts(self, text: str, language: str, knowledge_base: str | None) -> list[list[Hit]]:
        """Each question's own good-enough passages when ``text`` asks several things (none for one question)."""
        questions = split_question(text)
        if len(questions) < 2:
            return []
        vectors = await asyncio.gather(*(self.engines.encode(q) for q in questions))
        found = await asyncio.gather(
            *(self._retrieve(q, v, language, knowledge_base) for q, v in zip(questions, vectors, strict=True))
        )
        return [hits for hits in found if self.policy.is_relevant(hits[:1])]

    async def _generate(
        self, facts: TurnFacts, session: Session, knowledge_base: str | None
    ) -> tuple[str, tuple[Source, ...], str]:
        """A grounded answer from the turn's passages (and each question's, when the message asks several), with
        the sources it cites."""
        parts = await self._parts(facts.text, facts.language, knowledge_base)
        passages = list(facts.hits)
        named = facts.named_product
        product = None
        product_role = facts.role in (Role.PRODUCT_INFO, None)
        if named is not None and product_role and (asks_product_facts(facts.text) or asks_if_sold(facts.text)):
            product = next((hit for hit in passages if hit.id == named.id), named)  # its fields answer: it goes first
            passages = [product, *(hit for hit in passages if hit.id != named.id)]
        seen = {hit.id for hit in passages}
        for hit in (hit for hits in parts for hit in hits):
            if hit.id not in seen:
                seen.add(hit.id)
                passages.append(hit)
        request = GenerationRequest(
            question=facts.text,
            language=facts.language,
            passages=passages,
            intent=facts.intent,
            role=facts.role,
            history=generation_history(session),
            parts=parts if len(parts) > 1 else (),
            catalogue=self.catalogue,
            product=product,
        )
        generation = await self.generator.generate(request)
        by_id = {hit.id: hit for hit in (*passages, *self.catalogue.charts)}
        sources = tuple(
            Source(id=i, title=by_id[i].title, score=float(by_id[i].score), url=by_id[i].metadata.get("url"))
            for i in generation.source_ids
            if i in by_id
        )
        return generation.text, sources, f"generated by {generation.backend}"

    async def _act(
        self, name: str, facts: TurnFacts, session: Session, knowledge_base: str | None
    ) -> tuple[str, tuple[Source, ...], str]:
        """Run action ``name`` (slot filling: ``bot.actions.slots``); the first time it asks for a value, the shop's
        policy on it comes first when it has one."""
        action = self.actions[name]
        first_ask = session.slots.get(PENDING) != name
        try:
            result = await run_action(action, text=facts.text, language=facts.language, session=session)
        except ActionError as error:
            log.warning("action %s failed: %s", name, error)
            return say("action_failed", facts.language), (), f"action {name} failed"
        if not result.missing:
            return result.text, (), f"action {name} done"
        note = f"action {name} asks for {result.missing}"
        if first_ask and action.explains_policy and self.policy.is_relevant(facts.hits):
            # "I want to return this": the policy that applies, then the question that starts the return.
            text, sources, generated = await self._generate(facts, session, knowledge_base)
            if passage_rules_out(facts.text, text):
                session.slots.pop(PENDING, None)  # the passage says no: offering to start it would contradict it
                return text, sources, f"action {name} not offered: the passage rules it out; {generated}"
            return f"{text}\n\n{result.text}", sources, f"{note}; {generated}"
        return result.text, (), note

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


def _answers_photo(seen: Understanding, decision: Decision, matches: list[ProductMatch]) -> bool:
    """Whether the photo decides the reply: it names a product, or nothing else was asked that the knowledge base
    answers. Order actions and hand-offs keep their course (the photo is quoted above them)."""
    if not seen.photos or decision.action in (Move.ACT, Move.ESCALATE):
        return False
    return bool(matches) or not (decision.action is Move.ANSWER and seen.said)
