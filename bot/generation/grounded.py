"""The offline default generator: answers only with the retrieved passages' own words, citing them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.generation.base import Generation, GenerationRequest
from bot.generation.product_answers import ordered_passages, product_answer
from bot.generation.templates import say
from bot.policy import passage_relevance
from bot.protocols import Hit

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")
_BARE_VERDICT = re.compile(
    r"^\s*(?:(?:yes|no|sure|yep)[.,!]|(?:可以|支持|是的|有的?|不可以|不支持|不能|没有)[。，！,])\s*", re.I
)
"""A passage's opening "Yes." / "可以。": it answers the passage's own question, not necessarily the shopper's."""


def without_verdict(text: str) -> str:
    """``text`` without a leading bare yes/no, so a condition that turns the answer into "no" is not contradicted."""
    rest = _BARE_VERDICT.sub("", text, count=1)
    if rest == text or not rest:
        return text
    return rest[0].upper() + rest[1:]


def passage_title_match(hit: Hit) -> float:
    """Cosine between the shopper's question and the passage's title (its FAQ question), when the kb reports it."""
    return float(hit.metadata.get("dense_title_score", 0.0))


def _language(hit: Hit) -> str | None:
    return hit.metadata.get("language")


def clip(text: str, max_chars: int) -> str:
    """``text`` cut at the last sentence end before ``max_chars`` (or at ``max_chars`` with "…")."""
    text = text.strip()
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    ends = [m.end() for m in _SENTENCE_END.finditer(cut) if m.end() > max_chars // 3]
    return cut[: ends[-1]].strip() if ends else cut.rstrip() + "…"


class GroundedGenerator:
    """Extractive answers: the best passage in the shopper's language, plus close runners-up as "see also".

    A passage's opening "Yes."/"可以。" is dropped unless the shopper asked the passage's own question (title
    cosine at least ``same_question``): the sentences after it carry the conditions. A runner-up is close when
    its relevance (``bot.policy.passage_relevance``) is at least ``see_also_ratio`` of the best passage's.

    It never writes a fact of its own, so it cannot invent one; the policy decides beforehand whether the
    passages are good enough to answer at all. Product and policy passages are introduced by their title.
    """

    name = "grounded"

    def __init__(
        self, *, see_also_ratio: float = 0.9, max_see_also: int = 2, max_chars: int = 700, same_question: float = 0.9
    ) -> None:
        self.same_question = same_question
        self.see_also_ratio = see_also_ratio
        self.max_see_also = max_see_also
        self.max_chars = max_chars

    async def close(self) -> None:
        """Nothing to release."""

    async def generate(self, request: GenerationRequest) -> Generation:
        if not request.passages:
            raise ValueError("the grounded generator needs at least one passage")
        if request.parts:
            return self._several(request)
        ranked = ordered_passages(request)
        best, *rest = ranked
        special = product_answer(
            request.question, ranked, request.language, request.catalogue, intent=request.intent, role=request.role
        )
        if special is not None:
            return Generation(text=special.text, source_ids=special.source_ids, backend=self.name)
        related = [
            hit
            for hit in rest
            if passage_relevance(hit) >= passage_relevance(best) * self.see_also_ratio
            and hit.title != best.title
            and _language(hit) in (None, request.language)
        ][: self.max_see_also]
        body = self._passage(best, request.language, self.max_chars)
        if related:
            titles = ("；" if request.language == "zh" else "; ").join(hit.title for hit in related)
            body = f"{body}\n\n{say('see_also', request.language, titles=titles)}"
        return Generation(text=body, source_ids=(best.id, *(hit.id for hit in related)), backend=self.name)

    def _several(self, request: GenerationRequest) -> Generation:
        """One passage per question of the message, in its order (a passage answering two of them once)."""
        chosen: dict[str, Hit] = {}
        for hits in request.parts:
            if hits:
                best = self._in_language(hits, request.language)[0]
                chosen.setdefault(best.id, best)
        share = self.max_chars // max(1, len(chosen))
        body = "\n\n".join(self._passage(hit, request.language, share) for hit in chosen.values())
        return Generation(text=body, source_ids=tuple(chosen), backend=self.name)

    @staticmethod
    def _in_language(hits: Sequence[Hit], language: str) -> list[Hit]:
        """``hits`` with those in ``language`` first, keeping the retriever's order within each group."""
        return sorted(hits, key=lambda hit: _language(hit) not in (None, language))

    def _passage(self, hit: Hit, language: str, max_chars: int) -> str:
        """One passage as said to the shopper: its opening yes/no dropped unless it was asked, clipped, products
        and policy sections introduced by their title."""
        text = hit.text if passage_title_match(hit) >= self.same_question else without_verdict(hit.text)
        body = clip(text, max_chars)
        if hit.metadata.get("kind") in ("product", "document") and hit.title:
            body = f"{hit.title}: {body}" if language != "zh" else f"{hit.title}：{body}"
        return body
