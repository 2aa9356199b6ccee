"""The policy: given what was understood, retrieved and remembered, answer, clarify, act or escalate.

Every decision carries its reason, which goes into the turn's trace (``Reply.reason``) and the log. The
bot never makes an answer up: with no good enough passage it declines, asks, or hands over to a person.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.actions.orders import ORDER_ID, extract_order_number
from bot.generation.products import named_product
from bot.intents.roles import Role
from bot.messages import HUMAN_PAYLOAD
from bot.protocols import Hit


class Move(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    ACT = "act"
    ESCALATE = "escalate"
    GREET = "greet"
    GOODBYE = "goodbye"
    DECLINE = "decline"


ORDER_STATUS = "order_status"
ORDER_ROLES = frozenset({Role.ORDER_STATUS, Role.SHIPPING, Role.RETURN_REFUND})
"""Roles under which a lone 5-12 digit number in the message is read as an order number."""
START_RETURN = "start_return"
CANCEL_ORDER = "cancel_order"
ORDER_TASKS = (ORDER_STATUS, START_RETURN, CANCEL_ORDER)
"""The built-in order actions."""

_STRONG_NEGATIVE = re.compile(
    r"\b(?:terrible|awful|horrible|worst|unacceptable|ridiculous|disgusting|scam|scammers?|fraud|furious|outraged"
    r"|pathetic|useless|incompetent|rip-?off|fed up|never again|sue you|lawyer|disgrace|appalling|joke of a)\b"
    r"|垃圾|骗子|骗人|太差|差劲|气死|恶心|坑人|无语|离谱|忍无可忍|什么破|欺诈|起诉|律师|曝光|12315|愤怒|再也不买"
    r"|[!！]{3,}",
    re.IGNORECASE,
)
_RETURN_REQUEST = re.compile(
    r"\b(?:i(?:'d| would)? (?:want|like|need|wish) to return|i'd like to return|start(?:ing)? a return"
    r"|return (?:my|this|these|the) (?:order|item|items|parcel|package|shoes|dress|purchase)"
    r"|send (?:it|this|them) back)\b"
    r"|(?:我要|我想|想要|申请|帮我|怎么申请)(?:退货|退掉|退回|退款)|退货申请",
    re.IGNORECASE,
)
_CANCEL_REQUEST = re.compile(
    r"\bcancel(?:l?ing)?\b(?! ?(?:fee|policy|polic|charge)s?\b)[^.?!]{0,30}\b(?:order|purchase|it|this|that)\b"
    r"|\b(?:order|purchase)\b[^.?!]{0,20}\bcancel\b"
    r"|取消(?:订单|这个订单|这单|该订单|一下|掉)|(?:订单|这单)[^。？！?]{0,8}取消(?!了)|(?:我要|我想|请|申请)取消|帮我[^。？！?]{0,12}取消",
    re.IGNORECASE,
)
"""Asking about cancelling an order ("cancel my order", "please cancel 100258", "帮我取消订单"); "why was my order
cancelled?" and cancellation fees are not requests."""

_ASKS_WHETHER_ALLOWED = re.compile(
    r"\b(?:can|could|may) (?:i|we) (?:still |even )?(?:cancel|return|send|change|exchange|swap|get|use|ask)\b"
    r"|\bis it (?:still )?(?:possible|too late|ok|okay)\b|\b(?:am i|are we) (?:still )?(?:able|allowed)\b"
    r"|还能|能不能|可不可以|(?:可以|能)(?!帮)(?!查)[^。？！?]{0,10}[吗么嘛]",
    re.IGNORECASE,
)

_CONTACT_DETAILS = re.compile(
    r"\b(?:phone|telephone|hotline|number to call|e-?mail address|opening hours|business hours|what time"
    r"|when (?:are|do) (?:you|they) (?:open|close|start|work))\b|电话|热线|号码|邮箱|几点|营业时间|上班时间|工作时间",
    re.IGNORECASE,
)
"""Asking how or when to reach the shop's people ("what's the hotline?", "人工客服几点上班？"): a question the
knowledge base answers, not a request for a person now."""

_HOW_TO = re.compile(r"\bhow (?:do|can|could|would|should|to)\b|怎么|怎样|如何", re.IGNORECASE)
"""Asking how something is done ("how do I cancel my order?", "怎么取消订单"): the knowledge base explains it."""

_WANTS = re.compile(r"\b(?:want|like|need|wish) to\b|我要|我想|想要|帮我|申请", re.IGNORECASE)
"""A request made outright ("I want to return it, can I?"): the action stays."""

_MONEY_DISPUTE = re.compile(
    r"\b(?:(?:charged|billed|debited|took (?:my )?money|paid)\s+(?:me\s+)?(?:twice|two times|2 times|double)"
    r"|double[- ]?(?:charged|charge|billed|payment)|duplicate (?:charge|payment)"
    r"|(?:charge|payment|transaction)s?\b[^.?!]{0,40}\b(?:don'?t|do not|didn'?t|did not|cannot|can'?t) recogni[sz]e"
    r"|unrecogni[sz]ed|unauthori[sz]ed (?:charge|payment|transaction)|(?:never|didn'?t) authori[sz]e"
    r"|charge-?backs?|dispute (?:the|this|a) (?:charge|payment)|bank dispute|dispute with (?:my|the) bank"
    r"|cancell?ed\b[^.?!]{0,40}\b(?:charged|money|taken|debited)"
    r"|refund\b[^.?!]{0,40}\b(?:never|still (?:not|hasn'?t|haven'?t)|not (?:arrived|received)|hasn'?t (?:arrived|come))"
    r"|(?:no|never (?:got|received)|haven'?t (?:got|received)|still waiting for|where(?:'s| is) my) refund"
    r"[^.!]{0,40}(?:\bweeks?\b|\bmonths?\b|\d+\s*days|still|yet|ago)"
    r"|(?:no|never (?:got|received)|haven'?t (?:got|received)|still waiting for) (?:a |my |the )?refund)\b"
    r"|(?:weeks?|months?|\d+\s*days) ago[^.?!]{0,60}(?:no|still no|never) refund"
    r"|扣了?(?:我)?两次|重复扣(?:款|费|钱)|多扣|扣(?:了)?双倍|(?:扣款|扣费|扣钱)[^。？！]{0,8}不认识|不认识[^。？！]{0,8}(?:扣款|扣费)"
    r"|莫名(?:其妙)?[^。？！]{0,6}扣|拒付|盗刷|取消了?[^。？！]{0,10}(?:扣|钱)"
    r"|(?:退款|钱|款)[^。？！]{0,10}(?:还没|还是没|一直没|迟迟没|没有)(?:到|退|收到|回来)",
    re.IGNORECASE,
)

_ASKS_IF_SOLD = re.compile(
    r"\b(?:(?:do|does) (?:you|u|ya|your shop) (?:guys )?(?:sell|have|carry|stock|offer)|got any|have you got"
    r"|looking for|can i (?:buy|get|order)|where (?:can|do) i (?:buy|get)|for sale)\b"
    r"|卖|有没有|有.{1,12}[吗嘛么]|能买|可以买|在售",
    re.IGNORECASE,
)


_CANCEL_ROLES = ORDER_ROLES | {Role.COMPLAINT}
"""Roles under which "cancel my order" starts a cancellation (as it does with no confident intent)."""
_RETURN_ROLES = frozenset({Role.RETURN_REFUND, Role.ORDER_STATUS, Role.COMPLAINT})
"""Roles under which "I want to return it" starts a return (as it does with no confident intent)."""
_PRODUCT_OR_OTHER = frozenset({Role.PRODUCT_INFO, Role.OTHER})
"""Roles under which "can I get…" may ask about a product (as it may with no confident intent): not under a confident
shipping or payment intent ("can I get express?")."""


def asks_if_sold(text: str) -> bool:
    """True when the shopper asks whether the shop sells or has something ("do you sell…", "有…吗")."""
    return bool(_ASKS_IF_SOLD.search(text))


def product_relevance(hits: Sequence[Hit]) -> float:
    """The relevance of the best product passage, 0 when none was retrieved."""
    return max((passage_relevance(h) for h in hits if h.metadata.get("kind") == "product"), default=0.0)


_RULED_OUT = re.compile(
    r"[^.!?。！？]*(?:cannot be (?:returned|exchanged)|can'?t be (?:returned|exchanged)|not returnable"
    r"|no returns|不支持退|不能退|不可退|不予退|不接受退)[^.!?。！？]*",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z]{4,}|[\u4e00-\u9fff]{2,}", re.IGNORECASE)


def _words(text: str) -> set[str]:
    """Content words: English words of four letters or more without a plural "s", Chinese character pairs."""
    words: set[str] = set()
    for run in _WORD.findall(text.lower()):
        if run.isascii():
            words.add(run.removesuffix("s"))
        else:
            words.update(run[i : i + 2] for i in range(len(run) - 1))
    return words


def passage_rules_out(question: str, passage: str) -> bool:
    """True when ``passage`` says that what the shopper asks about cannot be returned: a sentence of it that
    refuses returns shares a content word with the question ("clearance", "耳钉", "清仓")."""
    asked = _words(question)
    return any(asked & _words(sentence.group(0)) for sentence in _RULED_OUT.finditer(passage))


def asks_whether_allowed(text: str) -> bool:
    """True when the shopper asks whether something is allowed ("can I still cancel it?", "还能退吗"): a question
    about the policy, which the knowledge base answers, rather than a request to do it now."""
    return bool(_ASKS_WHETHER_ALLOWED.search(text))


def money_dispute(text: str) -> bool:
    """True for a dispute about money a person must handle: a double or unrecognised charge, a refund that has
    not arrived, a chargeback threat (not a question about how refunds work)."""
    return bool(_MONEY_DISPUTE.search(text))


def strongly_negative(text: str) -> bool:
    """True when ``text`` has strong negative wording (insults, threats, "!!!") in English or Chinese."""
    return bool(_STRONG_NEGATIVE.search(text))


def asks_to_cancel(text: str) -> bool:
    """True when the shopper asks to cancel an order (or whether it can still be cancelled)."""
    return bool(_CANCEL_REQUEST.search(text))


def asks_to_return(text: str) -> bool:
    """True when the shopper asks to return something now, not how returns work."""
    return bool(_RETURN_REQUEST.search(text))


@dataclass(frozen=True, slots=True)
class TurnFacts:
    """What the pipeline knows when it decides."""

    text: str
    language: str
    intent: str | None
    """The shop's own name of the predicted intent (shown in the reason)."""
    confidence: float
    out_of_scope: bool
    hits: Sequence[Hit]
    role: Role | None = None
    """What the core does with ``intent`` (``bot.intents.roles``): the rules decide on it, never on the name."""
    payload: str | None = None
    slots: Mapping[str, str] = field(default_factory=dict)
    """Action slot values the message gives (``bot.actions.slots.heard``): an order number, or the answer to
    "what is the order number?"."""
    pending: str | None = None
    """The action that asked the shopper for a value on the previous turn."""
    low_confidence_streak: int = 0
    """How many turns in a row, before this one, the bot was unsure."""
    photo_product: bool = False
    """A photo of the turn names a catalogue product (its SKU or name is on it): the product is the answer."""
    named_product: Hit | None = None
    """The catalogue product the text names by a word of its name no other product has (``catalogue_product``)."""


@dataclass(frozen=True, slots=True)
class Decision:
    action: Move
    reason: str
    task: str | None = None
    """For ``ACT``: the name of the action to run."""
    unsure: bool = False
    """The bot did not understand this turn (it counts towards the low-confidence streak)."""
    template: str | None = None
    """The bot's own sentence for the move when it is not the move's usual one (``not_sold`` for a decline)."""
    order_id: str | None = None
    """The order a hand-over is about, when the shopper named one (the colleague sees it in the reason)."""


def _said(facts: TurnFacts) -> str:
    """The intent as a reason tells it: the shop's name, its role where the name is not the role, the confidence."""
    role = f"role {facts.role}, " if facts.role is not None and facts.role != facts.intent else ""
    return f"intent {facts.intent} ({role}{facts.confidence:.2f})"


def passage_relevance(hit: Hit) -> float:
    """How well a passage matches, on the dense cosine scale when the retriever reports it."""
    return float(hit.metadata.get("dense_score", hit.score))


def best_relevance(hits: Sequence[Hit]) -> float:
    """The relevance of the best passage, 0 when there is none."""
    return max((passage_relevance(hit) for hit in hits), default=0.0)


ESCALATION_KINDS = (
    ("the shopper pressed the talk-to-a-human button", "button"),
    ("the shopper asked for a person", "asked_for_person"),
    ("money dispute", "money_dispute"),
    ("complaint with strong negative wording", "complaint"),
    ("no passage good enough", "no_answer"),
    ("low confidence", "unsure"),
)
"""The opening words of each escalation reason ``Policy.decide`` gives, and its short kind (a metrics label)."""


def escalation_kind(reason: str) -> str:
    """The short kind of an escalation from its reason (``escalate: …`` as a reply carries it); ``other`` if none."""
    said = reason.removeprefix(f"{Move.ESCALATE.value}: ")
    return next((kind for opening, kind in ESCALATION_KINDS if said.startswith(opening)), "other")


class Policy:
    """Rules in order: hand-over requests, complaints, actions, small talk, a good passage, out of scope, unsure.

    ``min_relevance`` is the passage relevance under which the bot would rather not answer than guess;
    ``min_confidence`` the intent confidence under which an intent does not drive the decision;
    ``unsure_limit`` how many unsure turns in a row make the bot hand over to a person.
    A question whether the shop sells something is answered "we don't sell that" (with the categories it sells)
    when no product passage reaches ``min_product_relevance`` and no passage at all reaches ``sold_ceiling``
    (both chosen on the answer evaluation's dev split for the packaged encoder).
    """

    def __init__(
        self,
        *,
        min_relevance: float,
        min_confidence: float = 0.5,
        unsure_limit: int = 2,
        min_product_relevance: float = 0.22,
        sold_ceiling: float = 0.45,
    ) -> None:
        self.min_product_relevance = min_product_relevance
        self.sold_ceiling = sold_ceiling
        self.min_relevance = min_relevance
        self.min_confidence = min_confidence
        self.unsure_limit = unsure_limit

    def is_relevant(self, hits: Sequence[Hit]) -> bool:
        """Whether the best passage is good enough to answer from."""
        return best_relevance(hits) >= self.min_relevance

    def decide(self, facts: TurnFacts, *, tasks: Collection[str] = ORDER_TASKS) -> Decision:
        """The move for this turn; ``tasks`` are the actions that can run (none: the bot only talks)."""
        confident = facts.intent is not None and facts.confidence >= self.min_confidence and not facts.out_of_scope
        intent = facts.intent if confident else None
        role = facts.role if confident else None
        best = best_relevance(facts.hits)
        said = _said(facts)
        if facts.payload == HUMAN_PAYLOAD:
            return Decision(Move.ESCALATE, "the shopper pressed the talk-to-a-human button")
        if role is Role.HUMAN_AGENT and not (_CONTACT_DETAILS.search(facts.text) and best >= self.min_relevance):
            return Decision(Move.ESCALATE, f"the shopper asked for a person: {said}")
        if money_dispute(facts.text):
            order = facts.slots.get(ORDER_ID) or extract_order_number(facts.text, bare=True)
            about = f"; order {order}" if order else "; no order number given"
            return Decision(Move.ESCALATE, f"money dispute: a person must check the payment{about}", order_id=order)
        if facts.role is Role.COMPLAINT and strongly_negative(facts.text):
            return Decision(Move.ESCALATE, f"complaint with strong negative wording: {said}")
        acted = self._act(facts, intent, role, said)
        if acted is not None and acted.task in tasks and not self._policy_question(facts, acted, best):
            return acted
        if facts.photo_product:
            return Decision(Move.ANSWER, f"the photo names a catalogue product; {said}")
        if role in (Role.GREETING, Role.GOODBYE) and best < self.min_relevance + 0.1:
            return Decision(Move.GREET if role is Role.GREETING else Move.GOODBYE, said)
        maybe_product = intent is None or role in _PRODUCT_OR_OTHER
        if asks_if_sold(facts.text) and best < self.sold_ceiling and maybe_product and facts.named_product is None:
            product = product_relevance(facts.hits)
            if product < self.min_product_relevance:
                return Decision(
                    Move.DECLINE,
                    f"not sold: no product passage close enough ({product:.2f} < {self.min_product_relevance:.2f}), "
                    f"relevance {best:.2f}; {said}",
                    template="not_sold",
                )
        if best >= self.min_relevance and role is not Role.OTHER:
            return Decision(Move.ANSWER, f"passage relevance {best:.2f} >= {self.min_relevance:.2f}; {said}")
        in_scope = not facts.out_of_scope and role is not Role.OTHER
        named = facts.named_product
        if named is None:
            retrieved = named_product(facts.text, facts.hits)
            if retrieved is not None and passage_relevance(retrieved) >= self.min_product_relevance:
                named = retrieved
        if named is not None and in_scope:
            return Decision(Move.ANSWER, f"the question names the product {named.title!r}; {said}")
        if facts.out_of_scope or role is Role.OTHER:
            return Decision(Move.DECLINE, f"out of scope: {said}, relevance {best:.2f}")
        if intent is not None:
            return Decision(
                Move.ESCALATE, f"no passage good enough for an in-scope question: {said}, relevance {best:.2f}"
            )
        if facts.low_confidence_streak + 1 >= self.unsure_limit:
            return Decision(
                Move.ESCALATE, f"low confidence {facts.low_confidence_streak + 1} turns in a row: {said}", unsure=True
            )
        return Decision(Move.CLARIFY, f"low confidence: {said}, relevance {best:.2f}", unsure=True)

    def _policy_question(self, facts: TurnFacts, acted: Decision, best: float) -> bool:
        """Whether an action the intent asked for yields to the knowledge base: the shopper asks whether something
        is allowed ("my order shipped, can I still cancel it?") or how it is done ("how do I cancel my order?"),
        gives no order number and a passage answers it."""
        return (
            not facts.pending
            and ORDER_ID not in facts.slots
            and extract_order_number(facts.text, bare=True) is None
            and (asks_whether_allowed(facts.text) or bool(_HOW_TO.search(facts.text)))
            and not _WANTS.search(facts.text)
            and best >= self.min_relevance
            and acted.task in ORDER_TASKS
        )

    def _act(self, facts: TurnFacts, intent: str | None, role: Role | None, said: str) -> Decision | None:
        """An order action when the shopper asks for one, or answers the question a pending action asked;
        ``intent`` and ``role`` are the confident intent's (None: unsure)."""
        number = facts.slots.get(ORDER_ID)
        if number is None and role in ORDER_ROLES:
            number = extract_order_number(facts.text, bare=True)  # "did my return for 100289 go through"
        if facts.pending and number:
            return Decision(Move.ACT, f"order number {number} for the pending {facts.pending}", facts.pending)
        unsure = intent is None
        if asks_to_cancel(facts.text) and (unsure or role in _CANCEL_ROLES):
            return Decision(Move.ACT, f"the shopper asks to cancel an order: {said}", CANCEL_ORDER)
        wants_return = asks_to_return(facts.text)
        if wants_return and (unsure or role in _RETURN_ROLES):
            return Decision(Move.ACT, f"the shopper asks to return something: {said}", START_RETURN)
        if number and (unsure or role in ORDER_ROLES):
            return Decision(Move.ACT, f"order number {number} given: {said}", ORDER_STATUS)
        if role is Role.ORDER_STATUS:
            return Decision(Move.ACT, f"order status asked: {said}", ORDER_STATUS)
        return None
