"""Prompts for LLM backends that restrict the answer to retrieved passages, and the check of their citations."""

from __future__ import annotations

import re

from bot.generation.base import Generation, GenerationRequest
from bot.generation.product_answers import ordered_passages, product_answer, product_data
from bot.language import written_in
from bot.protocols import Hit

_CITATION = re.compile(r"\[([A-Za-z0-9][\w.:#/-]{0,120})\]")
_LANGUAGE_NAMES = {"en": "English", "zh": "Simplified Chinese"}

SYSTEM_PROMPT = (
    "You are a customer-service assistant for the shop {shop}. Answer the customer's question using ONLY the "
    "numbered passages below. After each sentence, cite the passage it comes from by its id in square brackets, "
    "e.g. [faq-en-returns-window]. Product data and the sentences selected for the question come from the shop's "
    "catalogue: prefer them for prices, stock, sizes and colours, and cite the ids they give. If the passages do "
    "not contain the answer, reply exactly NO_ANSWER. Never invent prices, dates, policies or order details. "
    "Answer in {language}, in at most four short sentences."
)


def build_messages(request: GenerationRequest, *, shop: str) -> list[dict[str, str]]:
    """Chat messages (system, earlier turns, user) for an OpenAI-style chat model: the passages in the order the
    grounded answer weighs them, the product passages' fields (price with currency, stock per size, colours in the
    reply's language), and the sentences selected from the catalogue's structure for this question, with the ids
    to cite (a size chart's among them)."""
    language = _LANGUAGE_NAMES.get(request.language, request.language)
    ordered = ordered_passages(request)
    selected = product_answer(
        request.question, ordered, request.language, request.catalogue, intent=request.intent, role=request.role
    )
    charts = [c for c in request.catalogue.charts if selected is not None and c.id in selected.source_ids]
    passages = "\n\n".join(f"[{hit.id}] {hit.title}\n{hit.text.strip()}" for hit in (*ordered, *charts))
    content = f"Passages:\n{passages}"
    products = [product_data(hit, request.language, request.catalogue) for hit in ordered if _is_product(hit)]
    if products:
        content += "\n\nProduct data:\n" + "\n".join(products)
    if selected is not None:
        cite = " ".join(f"[{i}]" for i in selected.source_ids)
        content += f"\n\nSelected for this question {cite}:\n{selected.text}"
    messages = [{"role": "system", "content": SYSTEM_PROMPT.format(shop=shop, language=language)}]
    for turn in request.history:
        messages.append({"role": "user", "content": turn.user})
        messages.append({"role": "assistant", "content": turn.bot})
    messages.append({"role": "user", "content": f"{content}\n\nQuestion: {request.question}"})
    return messages


def _is_product(hit: Hit) -> bool:
    return hit.metadata.get("kind") == "product"


def cited_ids(text: str) -> list[str]:
    """The ids cited as ``[id]`` in ``text``, in order, without repeats."""
    return list(dict.fromkeys(_CITATION.findall(text)))


def check_answer(text: str, request: GenerationRequest, *, backend: str) -> tuple[Generation | None, str]:
    """The model's answer as a ``Generation`` when it is acceptable, else None and why it was rejected.

    Acceptable: not a refusal, at least one citation, every cited id one of the request's passages, and
    written in the shopper's language. The citation marks are removed from the text the shopper reads.
    """
    answer = text.strip()
    if not answer or "NO_ANSWER" in answer:
        return None, "the model found no answer in the passages"
    ids = cited_ids(answer)
    known = {hit.id for hit in (*request.passages, *request.catalogue.charts)}
    if not ids:
        return None, "the answer cites no passage"
    unknown = [i for i in ids if i not in known]
    if unknown:
        return None, f"the answer cites unknown passages {unknown}"
    clean = re.sub(r"\s*\[(?:" + "|".join(re.escape(i) for i in ids) + r")\]", "", answer).strip()
    if not written_in(clean, request.language):
        return None, f"the answer is not in {request.language}"
    return Generation(text=clean, source_ids=tuple(ids), backend=backend), "ok"
