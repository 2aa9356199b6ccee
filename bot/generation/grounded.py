"""The offline default generator: answers only with the retrieved passages' own words, citing them."""

from __future__ import annotations

from bot.generation.base import Generation, GenerationRequest
from bot.generation.templates import say


class GroundedGenerator:
    """Extractive answers: the best passage's text, plus the titles of close runners-up as "see also".

    It never writes a fact of its own, so it cannot invent one; the policy decides beforehand whether
    the passages are good enough to answer at all.
    """

    name = "grounded"

    def __init__(self, *, see_also_ratio: float = 0.9, max_see_also: int = 2) -> None:
        self.see_also_ratio = see_also_ratio
        self.max_see_also = max_see_also

    async def generate(self, request: GenerationRequest) -> Generation:
        if not request.passages:
            raise ValueError("the grounded generator needs at least one passage")
        best, *rest = request.passages
        related = [
            hit
            for hit in rest
            if hit.score >= best.score * self.see_also_ratio and hit.title != best.title
        ][: self.max_see_also]
        text = best.text.strip()
        if related:
            titles = "; ".join(hit.title for hit in related)
            text = f"{text}\n\n{say('see_also', request.language, titles=titles)}"
        return Generation(text=text, source_ids=(best.id, *(hit.id for hit in related)), backend=self.name)
