"""The "was this helpful? 👍 👎" answer a user gave to one of the bot's replies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.messages import ConversationRef


@dataclass(frozen=True, slots=True)
class Feedback:
    """One press of 👍 or 👎 under a reply."""

    conversation: ConversationRef
    user_id: str
    helpful: bool
    message_id: str
    """The platform's id of the bot message the buttons were under (a Telegram message id, a Slack ts)."""
    reply_text: str
    """The text of that message, as the user saw it."""


FeedbackHook = Callable[[Feedback], Awaitable[None]]
"""Called for every feedback press (e.g. to store it with the turn); errors are logged, not shown."""
