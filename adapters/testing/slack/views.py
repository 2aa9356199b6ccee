"""Modals and home tabs in the fake Slack: ``views.open/push/update/publish`` with Slack's trigger, stack and hash
rules, and what the app's answer to a ``view_submission`` (its ``response_action``) does to the user's modals."""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.testing.slack.methods import SlackError

log = logging.getLogger(__name__)

MAX_MODAL_STACK = 3
"""Slack keeps at most three modals on a user's stack (``views.push`` beyond: ``push_limit_reached``)."""
MAX_VIEW_BLOCKS = 100


class ViewsMixin:
    """``views.open``, ``views.push``, ``views.update``, ``views.publish`` and the modal stacks they build."""

    team_id: str
    api_app_id: str
    bot_id: str
    triggers: dict[str, tuple[str | None, float]]
    handlers: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]

    def __init__(self) -> None:
        self.views: list[dict[str, Any]] = []
        """Every view the bot opened, pushed or published, each kept current by later updates, in order."""
        self.modal_stacks: dict[str, list[dict[str, Any]]] = {}
        """Each user's open modals, the one on top last (closed ones leave the stack)."""
        self.home_tabs: dict[str, dict[str, Any]] = {}
        """The home tab each user sees (``views.publish``)."""
        self.view_errors: dict[str, dict[str, str]] = {}
        """The errors a modal shows under its inputs (``response_action: errors``), by view id."""
        self.trigger_ttl_s = 3.0
        """How long a ``trigger_id`` can open a view (Slack: 3 s; ``expired_trigger_id`` after)."""
        self._used_triggers: set[str] = set()
        self._view_ids = itertools.count(1)
        self.handlers.update(
            {
                "views.open": self._views_open,
                "views.push": self._views_push,
                "views.update": self._views_update,
                "views.publish": self._views_publish,
            }
        )

    def modals(self, user_id: str) -> list[dict[str, Any]]:
        """The modals open for ``user_id``, the visible one last."""
        return list(self.modal_stacks.get(user_id, []))

    def modal(self, user_id: str) -> dict[str, Any]:
        """The modal ``user_id`` sees now; LookupError when none is open."""
        stack = self.modal_stacks.get(user_id)
        if not stack:
            raise LookupError(f"{user_id} has no modal open")
        return stack[-1]

    def view_by_id(self, view_id: str) -> dict[str, Any] | None:
        return next((view for view in self.views if view["id"] == view_id), None)

    def apply_view_answer(self, user_id: str, view_id: str, body: str) -> None:
        """Do what Slack does with the app's ack of a ``view_submission``: show ``errors``, ``update`` or ``push``
        a view, ``clear`` every modal, or (an empty ack) close the submitted one."""
        try:
            answer = json.loads(body) if body.strip() else {}
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        action = answer.get("response_action")
        stack = self.modal_stacks.setdefault(user_id, [])
        if action == "errors":
            given = answer.get("errors")
            errors: dict[str, str] = dict(given) if isinstance(given, dict) else {}
            view = self.view_by_id(view_id) or {}
            inputs = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
            unknown = set(errors) - inputs
            if unknown:
                log.warning(
                    "fake Slack: errors for blocks %s that are not input blocks of %s", sorted(unknown), view_id
                )
            self.view_errors[view_id] = errors
            return
        self.view_errors.pop(view_id, None)
        if action == "update" and isinstance(answer.get("view"), dict):
            self._replace(view_id, answer["view"])
        elif action == "push" and isinstance(answer.get("view"), dict) and len(stack) < MAX_MODAL_STACK:
            stack.append(self._store(answer["view"], previous=view_id, root=stack[0]["id"] if stack else None))
        elif action == "clear":
            stack.clear()
        else:
            stack[:] = [view for view in stack if view["id"] != view_id]

    def close_view(self, user_id: str, view_id: str) -> None:
        """The user closed the modal ``view_id`` (Cancel or ×): it and the views pushed above it leave the stack."""
        stack = self.modal_stacks.get(user_id, [])
        ids = [view["id"] for view in stack]
        if view_id in ids:
            del stack[ids.index(view_id) :]

    # the methods --------------------------------------------------------------------------------

    async def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._exchange(params)
        view = self._store(_modal(params))
        self.modal_stacks[user or ""] = [view]
        return {"view": view}

    async def _views_push(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._exchange(params)
        stack = self.modal_stacks.get(user or "")
        if not stack:
            raise SlackError("not_found")
        if len(stack) >= MAX_MODAL_STACK:
            raise SlackError("push_limit_reached")
        view = self._store(_modal(params), previous=stack[-1]["id"], root=stack[0]["id"])
        stack.append(view)
        return {"view": view}

    async def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        if not view_id and not external_id:
            raise SlackError("invalid_arguments")
        current = next(
            (
                v
                for v in self.views
                if (view_id and v["id"] == view_id) or (external_id and v["external_id"] == external_id)
            ),
            None,
        )
        if current is None:
            raise SlackError("not_found")
        if params.get("hash") and params["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        new = params.get("view")
        if not isinstance(new, dict) or new.get("type") != current["type"]:
            raise SlackError("invalid_arguments")
        return {"view": self._replace(current["id"], new)}

    async def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user, view = params.get("user_id"), params.get("view")
        if not user or not isinstance(view, dict) or view.get("type") != "home":
            raise SlackError("invalid_arguments")
        current = self.home_tabs.get(user)
        if current is None:
            self.home_tabs[user] = current = self._store(view)
            return {"view": current}
        if params.get("hash") and params["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        return {"view": self._replace(current["id"], view)}

    # machinery ----------------------------------------------------------------------------------

    def _exchange(self, params: dict[str, Any]) -> str | None:
        """The user a ``trigger_id`` was issued to, used up; Slack's errors for unknown, used or stale ones."""
        trigger = params.get("trigger_id") or params.get("interactivity_pointer")
        if not isinstance(trigger, str) or trigger not in self.triggers:
            raise SlackError("invalid_trigger_id")
        if trigger in self._used_triggers:
            raise SlackError("exchanged_trigger_id")
        user, issued = self.triggers[trigger]
        if time.monotonic() - issued > self.trigger_ttl_s:
            raise SlackError("expired_trigger_id")
        self._used_triggers.add(trigger)
        return user

    def _store(self, view: dict[str, Any], *, previous: str | None = None, root: str | None = None) -> dict[str, Any]:
        view_id = f"V{next(self._view_ids):08d}"
        stored = self._shaped(view, view_id, previous=previous, root=root)
        if stored["external_id"] and any(v["external_id"] == stored["external_id"] for v in self.views):
            raise SlackError("duplicate_external_id")
        self.views.append(stored)
        return stored

    def _replace(self, view_id: str, view: dict[str, Any]) -> dict[str, Any]:
        current = self.view_by_id(view_id)
        if current is None:
            raise SlackError("not_found")
        shaped = self._shaped(view, view_id, previous=current["previous_view_id"], root=current["root_view_id"])
        current.clear()
        current.update(shaped)
        return current

    def _shaped(self, view: dict[str, Any], view_id: str, *, previous: str | None, root: str | None) -> dict[str, Any]:
        """``view`` as Slack returns and stores it: ids, a fresh hash, and generated ids for blocks and inputs that
        came without one (Slack makes them up, so ``state.values`` can be keyed)."""
        blocks = view.get("blocks") or []
        if not isinstance(blocks, list) or len(blocks) > MAX_VIEW_BLOCKS:
            raise SlackError("invalid_arguments")
        shaped_blocks = []
        for n, block in enumerate(blocks):
            if not isinstance(block, dict) or not block.get("type"):
                raise SlackError("invalid_arguments")
            block = dict(block, block_id=block.get("block_id") or f"{view_id}-b{n}")
            if isinstance(block.get("element"), dict):
                block["element"] = dict(
                    block["element"], action_id=block["element"].get("action_id") or f"{view_id}-a{n}"
                )
            shaped_blocks.append(block)
        return {
            "type": view.get("type"),
            "callback_id": view.get("callback_id", ""),
            "private_metadata": view.get("private_metadata", ""),
            "external_id": view.get("external_id", ""),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            **{k: v for k, v in view.items() if k not in ("blocks",)},
            "id": view_id,
            "team_id": self.team_id,
            "app_id": self.api_app_id,
            "bot_id": self.bot_id,
            "blocks": shaped_blocks,
            "state": {"values": {}},
            "hash": f"{time.time_ns()}.{view_id}",
            "previous_view_id": previous,
            "root_view_id": root or view_id,
        }


def _modal(params: dict[str, Any]) -> dict[str, Any]:
    """The ``view`` argument of ``views.open``/``push``: a modal with a title, else ``invalid_arguments``."""
    view = params.get("view")
    if not isinstance(view, dict) or view.get("type") != "modal" or not isinstance(view.get("title"), dict):
        raise SlackError("invalid_arguments")
    return view
