"""Intent roles: the few meanings the core's rules know, so a shop's intents may have names of their own.

An intents file gives an intent ``role: order_status`` (say) to have the policy treat it as the built-in order
question; an intent named after a role has that role unless it says otherwise (docs/intents.md, "Roles").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    """What the core does with an intent (the policy's rules and the structured product answers)."""

    ORDER_STATUS = "order_status"
    SHIPPING = "shipping"
    RETURN_REFUND = "return_refund"
    PRODUCT_INFO = "product_info"
    HUMAN_AGENT = "human_agent"
    COMPLAINT = "complaint"
    GREETING = "greeting"
    GOODBYE = "goodbye"
    OTHER = "other"


ROLE_NAMES = tuple(role.value for role in Role)
NO_ROLE = "none"
"""What ``role:`` says for an intent named after a role that should be a plain knowledge-base question."""


def default_role(intent: str) -> Role | None:
    """The role an intent has by its name alone: the role it is named after, else none."""
    return Role(intent) if intent in ROLE_NAMES else None


@dataclass(frozen=True, slots=True)
class IntentRoles:
    """Each intent's role, from the intents file (or a model trained on one); intents it does not list have the
    role of their name (``default_role``)."""

    declared: Mapping[str, Role | None] = field(default_factory=lambda: MappingProxyType({}))

    def of(self, intent: str | None) -> Role | None:
        """The role of ``intent`` (None: no intent, or a plain knowledge-base question)."""
        if intent is None:
            return None
        return self.declared[intent] if intent in self.declared else default_role(intent)

    def missing(self) -> list[Role]:
        """Roles no listed intent has (their rules never fire), in the order of ``Role``; ``other`` is not among them,
        as the classifier's out-of-scope flag declines unlike messages without an out-of-scope intent."""
        held = set(self.declared.values())
        return [role for role in Role if role not in held and role is not Role.OTHER]

    def to_json(self) -> dict[str, str | None]:
        """Intent to role name (null for none), as a model's manifest keeps it."""
        return {intent: (role.value if role else None) for intent, role in self.declared.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, str | None]) -> IntentRoles:
        """The roles a model's manifest keeps (``to_json``); ``ValueError`` for a role this kefu does not know."""
        return cls(MappingProxyType({intent: Role(role) if role else None for intent, role in data.items()}))

    @classmethod
    def by_name(cls, intents: Iterable[str]) -> IntentRoles:
        """Each of ``intents`` with the role of its name (a model trained before roles existed)."""
        return cls(MappingProxyType({intent: default_role(intent) for intent in intents}))
