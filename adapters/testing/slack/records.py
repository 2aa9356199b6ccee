"""What the fake Slack records: Web API calls, messages the bot sent, event deliveries, injected faults."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Web API request the bot made, as the fake received it."""

    method: str
    params: dict[str, Any]
    at: float
    """``time.monotonic()`` when it arrived."""
    status: int = 200
    error: str | None = None
    """Slack's ``error`` code when the answer was ``ok: false`` (``invalid_auth``, ``ratelimited``…)."""


@dataclass(slots=True)
class Fault:
    """A failure injected for one future call of a method: HTTP 429 with Retry-After, another status, or an error."""

    status: int = 200
    retry_after: int | None = None
    error: str | None = None


@dataclass(slots=True)
class SentMessage:
    """A message the bot posted (``chat.postMessage``, ``chat.postEphemeral``, a ``response_url``), as users see it."""

    channel: str
    ts: str
    text: str
    """The ``text`` field as sent (the notification fallback when there are blocks)."""
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    ephemeral_to: str | None = None
    """The one user who sees it (``chat.postEphemeral``, an ephemeral ``response_url`` answer); None: everyone."""
    via: str = "chat.postMessage"
    at: float = field(default_factory=time.monotonic)
    edits: int = 0

    @property
    def body(self) -> str:
        """The visible text of the section blocks (links as their labels, entities unescaped), else ``text``."""
        from adapters.testing.slack.blocks import visible_text

        sections = [visible_text(b["text"]["text"]) for b in self.blocks if b.get("type") == "section" and "text" in b]
        return "\n".join(sections) if sections else visible_text(self.text)

    @property
    def context(self) -> list[str]:
        """The visible text of each context block (e.g. the sources line), in order."""
        from adapters.testing.slack.blocks import visible_text

        return [
            " ".join(visible_text(e.get("text", "")) for e in b.get("elements", []))
            for b in self.blocks
            if b.get("type") == "context"
        ]

    @property
    def buttons(self) -> list[tuple[str, str, str]]:
        """Every button (in actions blocks and as section accessories) as ``(label, action_id, value)``, in order."""
        return [(label, action_id, value) for label, action_id, value, _ in buttons_of(self.blocks)]


def buttons_of(blocks: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """Every button in ``blocks`` as ``(label, action_id, value, block_id)``: actions blocks and accessories."""
    found = []
    for block in blocks:
        elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button":
                found.append(
                    (element["text"]["text"], element["action_id"], element.get("value", ""), block.get("block_id", ""))
                )
    return found


@dataclass(frozen=True, slots=True)
class Delivery:
    """One request the fake posted to the app (an event, a slash command, a button press) and what it answered."""

    kind: str
    status: int
    body: str
    elapsed_s: float
    """From sending the request to the app's complete answer (the ack)."""
    event_id: str | None = None
    ts: str | None = None
    """The ts of the message the request carried (an event's message), when it carried one."""
    headers: dict[str, str] = field(default_factory=dict)
    """Headers the fake sent (signature, timestamp, retry)."""

    def json(self) -> Any:
        import json

        return json.loads(self.body)
