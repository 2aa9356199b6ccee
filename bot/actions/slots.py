"""Slot filling: the values the shopper's words give the actions, and the question an action is waiting on.

A session keeps the values collected so far and, under ``PENDING``, the action that asked the shopper for one; the
shopper's next message is read as the answer to it (a bare "100258" or "sorry, it's 100258" counts then).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.actions.base import Action, ActionResult
from bot.sessions.base import Session

PENDING = "pending"
"""Session slot naming the action that asked the shopper for a value."""


def heard(actions: Mapping[str, Action], text: str, *, pending: str | None) -> dict[str, str]:
    """The slot values in ``text`` (for the policy); the ``pending`` action reads it as the answer to its question."""
    found: dict[str, str] = {}
    for action in actions.values():
        found.update(action.extract(text, asked=False))
    if pending is not None and pending in actions:
        found.update(actions[pending].extract(text, asked=True))
    return found


async def run_action(action: Action, *, text: str, language: str, session: Session) -> ActionResult:
    """Run ``action`` with the session's slots and those ``text`` gives it (read as an answer), updating the session.

    While the action asks for a slot it stays pending, without the value it could not use (an unknown order number),
    so the shopper's next message can give it; once it is done, or raises ``ActionError``, the slots are cleared.
    """
    slots = {key: value for key, value in session.slots.items() if key != PENDING}
    slots.update(action.extract(text, asked=True))
    session.slots.clear()
    result = await action.run(slots=slots, language=language, conversation=session.conversation)
    if result.missing:
        slots.pop(result.missing, None)
        session.slots.update({**slots, PENDING: action.name})
    return result
