"""Slack's requests as ``bot.messages.Message``s: the slack-bolt listeners for DMs, @mentions, follow-ups in the
threads the bot takes part in, the slash command and button presses (each tagged with its channel's knowledge
base, when the channel has one). Imported only when the adapter starts (it imports slack-bolt).

Every listener returns once ``dispatch`` has kept the message (the app runs with ``process_before_response``),
so Slack is acknowledged only then and a crash before it makes Slack retry. A retried delivery of an
``event_id`` already taken is acknowledged and dropped here; the runtime's inbox drops a message ts it has
seen (a ``message`` and an ``app_mention`` of one message, a retry after a restart).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from adapters.base import Dispatch
from adapters.feedback import Feedback, FeedbackHook
from adapters.slack.actions import (
    ActionRouter,
    Press,
    ResponseUrls,
    ThreadHandler,
    ThreadMessage,
    ViewHandler,
    parse_press,
    parse_view,
)
from adapters.slack.conversations import Place
from adapters.slack.render import FEEDBACK, QUICK_REPLY, escape
from adapters.slack.texts import text
from adapters.slack.threads import JoinedThreads
from bot.messages import Attachment, AttachmentKind, Message, Reply
from bot.recent import RecentKeys

log = logging.getLogger(__name__)

AttachmentFetch = Callable[[Mapping[str, Any]], Callable[[], Awaitable[bytes]]]
Respond = Callable[[str, str], Awaitable[None]]
_ANSWERED_SUBTYPES = (None, "file_share", "thread_broadcast")
_LINK = re.compile(r"<([^>|]+)(?:\|([^>]*))?>")
_CJK = re.compile(r"[\u3400-\u9fff]")


class Inbound:
    """Registers kefu's listeners on a bolt ``AsyncApp`` and turns what they receive into ``Message``s."""

    def __init__(
        self,
        *,
        dispatch: Dispatch,
        bot_user_id: str,
        command: str,
        actions: ActionRouter,
        responses: ResponseUrls,
        fetcher: AttachmentFetch,
        respond: Respond,
        on_feedback: FeedbackHook | None,
        seen: RecentKeys[str],
        joined: JoinedThreads,
        knowledge_bases: Mapping[str, str] | None = None,
        threads: Mapping[str, ThreadHandler] | None = None,
        views: Mapping[str, ViewHandler] | None = None,
    ) -> None:
        self._dispatch_to_core = dispatch
        self._mention = re.compile(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>")
        self._command = command
        self._actions = actions
        self._responses = responses
        self._fetcher = fetcher
        self._respond = respond
        self._on_feedback = on_feedback
        self._seen = seen
        self._joined = joined
        self._knowledge_bases = knowledge_bases or {}
        self._threads = threads or {}
        self._views = views or {}
        actions.add(QUICK_REPLY, self._quick_reply)
        actions.add(FEEDBACK, self._feedback)

    def register(self, app: AsyncApp) -> None:
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.command(self._command)(self.on_command)
        app.action(re.compile(".+"))(self.on_action)
        app.view(re.compile(".+"))(self.on_view)
        app.event(re.compile(".+"))(self.on_other_event)

    async def on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """DMs are answered, and follow-ups in channel threads the bot takes part in; a message that mentions the
        bot reaches kefu as ``app_mention`` instead; other channel messages and bots are ignored."""
        if event.get("bot_id") or event.get("subtype") not in _ANSWERED_SUBTYPES or not event.get("user"):
            log.debug("slack: ignoring a %s message", event.get("subtype") or "bot")
            return
        said = str(event.get("text") or "")
        if event.get("channel_type") != "im":
            channel, thread_ts = event.get("channel"), event.get("thread_ts")
            if channel in self._threads and thread_ts:
                await self._thread_reply(event, body)
            elif not self._mention.search(said) and await self._is_follow_up(event):
                await self._from_event(event, body, plain_text(said))
            return
        await self._from_event(event, body, plain_text(said))

    async def on_mention(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """``@kefu question`` in a channel, answered in the message's thread."""
        if event.get("bot_id") or not event.get("user"):
            log.debug("slack: ignoring a mention by a bot")
            return
        await self._from_event(event, body, plain_text(self._mention.sub("", str(event.get("text") or ""))))
        channel, ts = event.get("channel"), event.get("thread_ts") or event.get("ts")
        if isinstance(channel, str) and isinstance(ts, str):
            self._joined.joined(channel, ts)

    async def on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """``/kefu question``: acknowledged with the question, answered privately to the asker."""
        question = (command.get("text") or "").strip()
        language = _guess_language(question)
        if not question:
            await ack(text=text("usage", language, command=self._command))
            return
        if not command.get("channel_id") or not command.get("user_id"):
            log.warning("slack: a %s command without channel or user was refused", self._command)
            await ack(text=text("usage", language, command=self._command))
            return
        place = Place(command["channel_id"], user=command["user_id"])
        self._responses.remember(place.conversation_id, command.get("response_url"))
        await self._dispatch(
            Message(
                conversation=place.ref(),
                user_id=command["user_id"],
                text=question,
                message_id=f"cmd:{command.get('trigger_id')}",
                metadata={"command": self._command, "channel": command["channel_id"]},
                knowledge_base=self._knowledge_bases.get(place.channel),
            )
        )
        await ack(text=text("asking", language, question=escape(question)))

    async def on_action(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Every button press, routed by ``action_id``; acknowledged once its handler returned."""
        try:
            press = parse_press(body, action)
        except (KeyError, TypeError):
            log.warning("slack: a button press without channel or user was ignored")
            await ack()
            return
        if press.place.user:
            self._responses.remember(press.place.conversation_id, press.response_url)
        handler = self._actions.handler_for(press.action_id)
        if handler is None:
            log.warning("slack: no handler for button %r in %s", press.action_id, press.place.ref())
        else:
            await handler(press)
        await ack()

    async def on_view(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """A modal submitted: its handler's errors keep it open, else it closes."""
        try:
            submission = parse_view(body)
        except (KeyError, TypeError, AttributeError):
            log.warning("slack: a malformed view submission was ignored")
            await ack()
            return
        handler = self._views.get(submission.callback_id)
        if handler is None:
            log.warning("slack: no handler for modal %r", submission.callback_id)
            await ack()
            return
        errors = await handler(submission)
        await (ack(response_action="errors", errors=dict(errors)) if errors else ack())

    async def _thread_reply(self, event: Mapping[str, Any], body: Mapping[str, Any]) -> None:
        """A person's reply in a thread of a watched channel, to that channel's handler (once per event)."""
        try:
            reply = ThreadMessage(
                channel=str(event["channel"]),
                thread_ts=str(event["thread_ts"]),
                ts=str(event["ts"]),
                user_id=str(event["user"]),
                text=plain_text(str(event.get("text") or "")),
                event_id=body.get("event_id"),
            )
        except KeyError as error:
            log.warning("slack: a thread reply without %s was dropped", error)
            return
        if reply.ts == reply.thread_ts:
            return
        if reply.event_id and not self._seen.add(reply.event_id):
            log.info("slack: ignoring a retried delivery of event %s", reply.event_id)
            return
        try:
            await self._threads[reply.channel](reply)
        except BaseException:
            if reply.event_id:
                self._seen.discard(reply.event_id)
            raise

    async def _is_follow_up(self, event: Mapping[str, Any]) -> bool:
        """A reply in a channel thread the bot takes part in (mentioned or answered there)."""
        channel, thread_ts, ts = event.get("channel"), event.get("thread_ts"), event.get("ts")
        if not (isinstance(channel, str) and isinstance(thread_ts, str)) or thread_ts == ts:
            return False
        if await self._joined.includes_bot(channel, thread_ts):
            return True
        log.debug("slack: ignoring a message in thread %s of %s, which the bot is not part of", thread_ts, channel)
        return False

    async def on_other_event(self, event: dict[str, Any]) -> None:
        """Events kefu does not answer are acknowledged (so Slack does not retry them) and logged."""
        log.debug("slack: ignoring a %s event", event.get("type"))

    async def _from_event(self, event: Mapping[str, Any], body: Mapping[str, Any], said: str) -> None:
        try:
            if not isinstance(body.get("event_id", ""), str):
                raise TypeError("event_id is not a string")
            message = self._message(event, body, said)
        except (KeyError, TypeError, ValueError) as error:
            log.warning(
                "slack: a malformed %s event %s was acknowledged and dropped (%s: %s)",
                event.get("type"),
                body.get("event_id"),
                type(error).__name__,
                error,
            )
            return
        await self._dispatch(message, event_id=body.get("event_id"))

    def _message(self, event: Mapping[str, Any], body: Mapping[str, Any], said: str) -> Message:
        """The ``Message`` of a message event; ``KeyError``/``ValueError`` when it lacks what every one carries."""
        channel, ts, user = str(event["channel"]), str(event["ts"]), str(event["user"])
        timestamp = float(ts)
        thread_ts = event.get("thread_ts")
        place = Place.of_message(channel, ts=ts, thread_ts=str(thread_ts) if thread_ts else None)
        attachments, unreadable = self._attachments(event.get("files") or [])
        language = _guess_language(said)
        answer = None
        if unreadable and not attachments and not said:
            said = " ".join(f"[file {name}]" for name in unreadable)
            answer = _notice("unsupported", language)
        elif not said and not attachments:
            answer = _notice("empty", language)
        metadata = {
            "channel_type": event.get("channel_type", "channel"),
            "event_id": body.get("event_id"),
            "team": body.get("team_id"),
        }
        return Message(
            conversation=place.ref(),
            user_id=user,
            text=said,
            attachments=attachments,
            message_id=ts,
            timestamp=timestamp,
            metadata=metadata,
            answer=answer,
            knowledge_base=self._knowledge_bases.get(channel),
        )

    def _attachments(self, files: Sequence[Mapping[str, Any]]) -> tuple[tuple[Attachment, ...], list[str]]:
        """Audio, video clips (their sound) and images as lazy attachments; the names of the other files."""
        readable, unreadable = [], []
        for info in files:
            kind = _kind(info)
            name = str(info.get("name") or info.get("id") or "file")
            if kind is None or not info.get("id"):
                unreadable.append(name)
                continue
            duration, size = info.get("duration_ms"), info.get("size")
            readable.append(
                Attachment(
                    kind=kind,
                    fetch=self._fetcher(info),
                    mime_type=str(info["mimetype"]),
                    size=size if isinstance(size, int) else None,
                    filename=name,
                    locator=str(info["id"]),
                    duration_s=duration / 1000 if isinstance(duration, int | float) else None,
                )
            )
        return tuple(readable), unreadable

    async def _dispatch(self, message: Message, *, event_id: str | None = None) -> None:
        if event_id and not self._seen.add(event_id):
            log.info("slack: ignoring a retried delivery of event %s", event_id)
            return
        try:
            await self._dispatch_to_core(message)
        except BaseException:
            if event_id:
                self._seen.discard(event_id)
            raise

    async def _quick_reply(self, press: Press) -> None:
        action_ts = (press.body.get("actions") or [{}])[0].get("action_ts") or press.trigger_id
        await self._dispatch(
            Message(
                conversation=press.place.ref(),
                user_id=press.user_id,
                text=press.label,
                message_id=f"act:{action_ts}",
                payload=press.value,
                knowledge_base=self._knowledge_bases.get(press.place.channel),
            )
        )

    async def _feedback(self, press: Press) -> None:
        feedback = Feedback(
            press.place.ref(), press.user_id, press.action_id == f"{FEEDBACK}_yes", press.message_ts, press.message_text
        )
        log.info(
            "slack: feedback helpful=%s conversation=%s message=%s",
            feedback.helpful,
            feedback.conversation,
            feedback.message_id,
        )
        if self._on_feedback is not None:
            try:
                await self._on_feedback(feedback)
            except Exception:
                log.exception("slack: the feedback hook failed for %s", feedback.conversation)
        if press.response_url:
            await self._respond(press.response_url, text("thanks", _guess_language(press.label)))


def plain_text(mrkdwn: str) -> str:
    """What a person typed, from Slack's message text: links as their label (or URL), entities unescaped."""

    def shown(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#", "!")):
            return ("#" if target.startswith("#") else "@") + (label or target[1:]) if label else target
        return label or target

    said = _LINK.sub(shown, mrkdwn)
    return said.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def _kind(info: Mapping[str, Any]) -> AttachmentKind | None:
    mime = str(info.get("mimetype") or "")
    if mime.startswith("image/"):
        return "photo"
    if info.get("subtype") in ("slack_audio", "slack_video") and mime.startswith(("audio/", "video/")):
        return "voice"
    if mime.startswith("audio/"):
        return "audio"
    return None


def _guess_language(said: str) -> str:
    return "zh" if _CJK.search(said) else "en"


def _notice(key: str, language: str) -> Reply:
    return Reply(text=text(key, language), language=language, notice=True)
