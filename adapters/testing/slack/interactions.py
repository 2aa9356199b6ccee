"""What a member does with an app's interactive parts, as Slack builds the payloads: button presses on messages,
modals and the home tab, modal submissions and closes, global and message shortcuts, reactions, opening Home."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from adapters.testing.slack.records import Delivery, SentMessage, buttons_of

if TYPE_CHECKING:
    from adapters.testing.slack.server import FakeSlack

_CHOICE_ELEMENTS = ("static_select", "external_select", "radio_buttons", "users_select", "conversations_select")
_MULTI_ELEMENTS = ("multi_static_select", "multi_external_select", "checkboxes")


class InteractionsMixin:
    """The interactive half of ``FakeSlackUser``; every call posts a signed request and returns its ``Delivery``."""

    fake: FakeSlack
    user_id: str

    @property
    def dm_channel(self) -> str:
        """The id of this user's DM with the bot (``D`` + the user id's digits)."""
        return "D" + self.user_id[1:]

    async def presses(self, target: SentMessage | Mapping[str, Any], label: str, **options: Any) -> Delivery:
        """Press the button labelled ``label`` on a message the bot sent (ephemeral ones too) or on a view the user
        sees (``fake.modal(user)``, ``fake.home_tabs[user]``): a ``block_actions`` payload, as Slack builds it."""
        fake = self.fake
        if isinstance(target, SentMessage):
            if any(m.channel == target.channel and m.ts == target.ts for m in fake.deleted):
                raise LookupError(f"the message {target.ts} was deleted; its buttons are gone")
            blocks, container, extra = target.blocks, self._message_container(target), self._message_parts(target)
        else:
            view = self._current(target)
            blocks = view["blocks"]
            container = {"type": "view", "view_id": view["id"]}
            extra = {"view": view | {"state": {"values": _state(view, {})}}}
        matching = [b for b in buttons_of(blocks) if b[0] == label]
        if not matching:
            raise LookupError(f"no button {label!r}; there are {[b[0] for b in buttons_of(blocks)]}")
        label, action_id, value, block_id = matching[0]
        action = {
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "type": "button",
            "text": {"type": "plain_text", "text": label},
            "action_ts": fake.next_ts(),
        }
        payload = self._payload("block_actions") | {"container": container, "actions": [action]} | extra
        return await fake.block_action(payload, **options)

    async def submits(
        self, view: Mapping[str, Any], values: Mapping[str, str | Sequence[str]], **options: Any
    ) -> Delivery:
        """Submit the open modal ``view`` with ``values`` by input ``action_id``: text for text inputs, an option
        value for selects and radio buttons, a list for multi-selects and checkboxes. The app's ack then does
        what Slack does (``response_action`` errors, update, push, clear; closing the modal otherwise)."""
        fake = self.fake
        current = self._current(view)
        state = _state(current, values)
        payload = self._payload("view_submission") | {"view": current | {"state": {"values": state}}}
        delivery = await fake.block_action(payload, **options)
        if delivery.status == 200:
            fake.apply_view_answer(self.user_id, current["id"], delivery.body)
        return delivery

    async def searches(self, view: Mapping[str, Any], action_id: str, typed: str = "", **options: Any) -> Delivery:
        """Type ``typed`` into the external select ``action_id`` of the open ``view``: the ``block_suggestion``
        request Slack makes for its options (they come back in the ack: ``Delivery.json()``)."""
        current = self._current(view)
        block_id = next(
            (b["block_id"] for b in current["blocks"] if (b.get("element") or {}).get("action_id") == action_id), None
        )
        if block_id is None:
            raise LookupError(f"the view has no select {action_id!r}")
        payload = self._payload("block_suggestion") | {
            "container": {"type": "view", "view_id": current["id"]},
            "action_id": action_id,
            "block_id": block_id,
            "value": typed,
            "view": current,
        }
        payload.pop("trigger_id")
        return await self.fake.block_action(payload, **options)

    async def closes(self, view: Mapping[str, Any], **options: Any) -> Delivery | None:
        """Close the modal ``view`` (Cancel); the app hears of it (``view_closed``) only if it set
        ``notify_on_close``."""
        current = self._current(view)
        self.fake.close_view(self.user_id, current["id"])
        if not current.get("notify_on_close"):
            return None
        payload = self._payload("view_closed") | {"view": current, "is_cleared": False}
        payload.pop("trigger_id")
        return await self.fake.block_action(payload, **options)

    async def uses_shortcut(self, callback_id: str, **options: Any) -> Delivery:
        """Run the app's global shortcut ``callback_id`` (from the ⚡ menu or search): a ``shortcut`` payload."""
        payload = self._payload("shortcut") | {"callback_id": callback_id, "action_ts": self.fake.next_ts()}
        return await self.fake.block_action(payload, **options)

    async def uses_message_shortcut(
        self, message: SentMessage | Mapping[str, Any], callback_id: str, **options: Any
    ) -> Delivery:
        """Run the message shortcut ``callback_id`` on ``message`` (the bot's, or a stored user message from
        ``fake.history``): a ``message_action`` payload with a ``response_url``."""
        fake = self.fake
        if isinstance(message, SentMessage):
            channel, shown = message.channel, self._message_parts(message)["message"]
        else:
            channel, shown = str(message["channel"]), {k: v for k, v in message.items() if k != "channel"}
        payload = self._payload("message_action") | {
            "callback_id": callback_id,
            "action_ts": fake.next_ts(),
            "message_ts": shown["ts"],
            "message": shown,
            "channel": {"id": channel, "name": channel.lower()},
            "response_url": fake.new_response_url(channel, self.user_id),
        }
        return await fake.block_action(payload, **options)

    async def reacts(self, channel: str, ts: str, name: str, **options: Any) -> Delivery:
        """Add the reaction ``:name:`` to the message ``ts`` in ``channel`` (a ``reaction_added`` event)."""
        stored = next((m for m in self.fake.history if m["channel"] == channel and m["ts"] == ts), None)
        if stored is None:
            raise LookupError(f"no message {ts} in {channel}")
        event = {
            "type": "reaction_added",
            "user": self.user_id,
            "reaction": name,
            "item_user": stored.get("user"),
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": self.fake.next_ts(),
        }
        return await self.fake.post_event(event, **options)

    async def opens_home(self, **options: Any) -> Delivery:
        """Open the app's Home tab (an ``app_home_opened`` event, with the view published for the user, if any)."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": self.user_id,
            "channel": self.dm_channel,
            "tab": "home",
            "event_ts": self.fake.next_ts(),
        }
        if self.user_id in self.fake.home_tabs:
            event["view"] = self.fake.home_tabs[self.user_id]
        return await self.fake.post_event(event, **options)

    # payload parts -------------------------------------------------------------------------------

    def _payload(self, kind: str) -> dict[str, Any]:
        fake = self.fake
        return {
            "type": kind,
            "user": {"id": self.user_id, "username": self.user_id.lower(), "team_id": fake.team_id},
            "api_app_id": fake.api_app_id,
            "token": "unused-verification-token",
            "trigger_id": fake.new_trigger_id(self.user_id),
            "team": {"id": fake.team_id, "domain": "kefu-test"},
            "is_enterprise_install": False,
        }

    def _message_container(self, message: SentMessage) -> dict[str, Any]:
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": message.ephemeral_to is not None,
        }
        if message.thread_ts:
            container["thread_ts"] = message.thread_ts
        return container

    def _message_parts(self, message: SentMessage) -> dict[str, Any]:
        """The ``channel``, ``response_url`` and (for a message everyone sees) ``message`` of a payload."""
        fake = self.fake
        parts: dict[str, Any] = {
            "channel": {"id": message.channel, "name": message.channel.lower()},
            "response_url": fake.new_response_url(message.channel, self.user_id, message_ts=message.ts),
        }
        if message.ephemeral_to is None:
            shown = {
                "type": "message",
                "user": fake.bot_user_id,
                "bot_id": fake.bot_id,
                "ts": message.ts,
                "text": message.text,
                "blocks": message.blocks,
            }
            if message.thread_ts:
                shown["thread_ts"] = message.thread_ts
            parts["message"] = shown
        return parts

    def _current(self, view: Mapping[str, Any]) -> dict[str, Any]:
        """The view as the user sees it now; LookupError when it is not open for them (closed, or someone else's)."""
        fake = self.fake
        current = fake.view_by_id(str(view.get("id", "")))
        open_ids = {v["id"] for v in fake.modals(self.user_id)}
        home = fake.home_tabs.get(self.user_id)
        if current is None or (current["id"] not in open_ids and (home is None or home["id"] != current["id"])):
            raise LookupError(f"view {view.get('id')} is not open for {self.user_id}")
        return current


def _state(view: Mapping[str, Any], values: Mapping[str, str | Sequence[str]]) -> dict[str, dict[str, Any]]:
    """``view.state.values`` as Slack fills it: every input block, with what the user typed or chose, or else
    what the view put there (``initial_value``, ``initial_option(s)``)."""
    state: dict[str, dict[str, Any]] = {}
    known: set[str] = set()
    for block in view.get("blocks", []):
        element = block.get("element") or {}
        if block.get("type") != "input" or not element.get("action_id"):
            continue
        action_id, kind = element["action_id"], element.get("type", "plain_text_input")
        known.add(action_id)
        given = values.get(action_id)
        entry: dict[str, Any] = {"type": kind}
        if kind in _CHOICE_ELEMENTS:
            chosen = _option(element, str(given)) if given is not None else element.get("initial_option")
            entry["selected_option"] = chosen
        elif kind in _MULTI_ELEMENTS:
            chosen_many = [_option(element, str(v)) for v in given or []] if given is not None else None
            entry["selected_options"] = chosen_many if chosen_many is not None else element.get("initial_options", [])
        else:
            entry["value"] = given if given is not None else element.get("initial_value")
        state[block["block_id"]] = {action_id: entry}
    missing = set(values) - known
    if missing:
        raise LookupError(f"the view has no input {sorted(missing)}")
    return state


def _option(element: Mapping[str, Any], value: str) -> dict[str, Any]:
    """The option with ``value`` (external selects take any value: their options come from the app)."""
    options = list(element.get("options") or []) + [o for g in element.get("option_groups") or [] for o in g["options"]]
    for option in options:
        if option.get("value") == value:
            return dict(option)
    if element.get("type") in ("external_select", "multi_external_select"):
        return {"text": {"type": "plain_text", "text": value}, "value": value}
    raise LookupError(
        f"no option {value!r} in {element.get('action_id')}; there are {[o.get('value') for o in options]}"
    )
