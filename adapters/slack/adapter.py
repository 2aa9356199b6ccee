"""``SlackAdapter``: kefu's Slack channel on slack-bolt's ``AsyncApp``, over the HTTP Events API or Socket Mode.

adapter = SlackAdapter(bot_token="xoxb-…", signing_secret="…")      # HTTP: routes() gives /slack/events
adapter = SlackAdapter(bot_token="xoxb-…", app_token="xapp-…")      # Socket Mode: no public URL needed
await adapter.start(dispatch)             # auth.test; slack-bolt is imported here, not at import time
await adapter.send(ConversationRef("slack", "C0123:1700000000.000100"), Reply(text="Hi!"))
await adapter.stop()
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from adapters.base import Adapter, Dispatch
from adapters.feedback import FeedbackHook
from adapters.slack.actions import ActionHandler, ActionRouter, ResponseUrls, ThreadHandler, ViewHandler
from adapters.slack.conversations import CHANNEL, Place
from adapters.slack.files import DEFAULT_MAX_DOWNLOAD_BYTES, download
from adapters.slack.render import SlackMessage, render_reply
from adapters.slack.threads import JoinedThreads
from adapters.slack.webapi import DeliveryFailed, WebApi
from bot.errors import BadInput, ConfigError
from bot.messages import ConversationRef, Reply

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://slack.com/api/"
EVENTS_PATH = "/slack/events"
_COMMAND = re.compile(r"^/[a-z0-9_-]{1,31}$")


class SlackAdapter(Adapter):
    """A Slack app: DMs, @mentions (answered in their thread) and a slash command become ``Message``s; ``Reply``s
    go out in Block Kit with sources and 👍/👎 buttons."""

    name = CHANNEL

    def __init__(
        self,
        *,
        bot_token: str,
        signing_secret: str | None = None,
        app_token: str | None = None,
        api_base: str = DEFAULT_API_BASE,
        command: str = "/kefu",
        on_feedback: FeedbackHook | None = None,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        max_rate_wait_s: float = 30.0,
        request_timeout_s: int = 30,
        dedupe_size: int = 10_000,
        knowledge_bases: Mapping[str, str] | None = None,
    ) -> None:
        if not (bot_token or "").startswith("xoxb-"):
            raise ConfigError("KEFU_SLACK__BOT_TOKEN must be a bot token ('xoxb-…', OAuth & Permissions page)")
        if app_token is not None and not app_token.startswith("xapp-"):
            raise ConfigError("KEFU_SLACK__APP_TOKEN must be an app-level token ('xapp-…') with connections:write")
        if app_token is None and not signing_secret:
            raise ConfigError(
                "the Slack Events API needs KEFU_SLACK__SIGNING_SECRET (or KEFU_SLACK__APP_TOKEN for Socket Mode)"
            )
        if not api_base.startswith(("http://", "https://")):
            raise ConfigError(f"KEFU_SLACK__API_BASE must be an http(s) URL, not {api_base!r}")
        if not _COMMAND.match(command):
            raise ConfigError(f"KEFU_SLACK__COMMAND must look like '/kefu', not {command!r}")
        self.api_base = api_base if api_base.endswith("/") else api_base + "/"
        self.mode = "socket" if app_token else "http"
        self.command = command
        self._bot_token, self._signing_secret, self._app_token = bot_token, signing_secret, app_token
        self._on_feedback = on_feedback
        self._max_download_bytes = max_download_bytes
        self._max_attempts, self._backoff_s, self._max_rate_wait_s = max_attempts, backoff_s, max_rate_wait_s
        self._request_timeout_s = request_timeout_s
        self._dedupe_size = dedupe_size
        self._knowledge_bases = dict(knowledge_bases or {})
        self._joined: JoinedThreads | None = None
        self.actions = ActionRouter()
        self._threads: dict[str, ThreadHandler] = {}
        self._views: dict[str, ViewHandler] = {}
        self._responses = ResponseUrls()
        self._progress: OrderedDict[str, int] = OrderedDict()
        self.web: WebApi | None = None
        self.bot_user_id: str | None = None
        self._session: aiohttp.ClientSession | None = None
        self._app: AsyncApp | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._ready = asyncio.Event()
        self._ready_timeout_s = float(request_timeout_s)

    def on_action(self, prefix: str, handler: ActionHandler) -> None:
        """Route presses of buttons whose ``action_id`` is ``prefix`` or starts with ``prefix_`` to ``handler``."""
        self.actions.add(prefix, handler)

    def on_thread_message(self, channel: str, handler: ThreadHandler) -> None:
        """Send people's thread replies in ``channel`` (read with ``channels:history``) to ``handler``."""
        self._threads[channel] = handler

    def on_view(self, callback_id: str, handler: ViewHandler) -> None:
        """Send submissions of the modal ``callback_id`` to ``handler``."""
        self._views[callback_id] = handler

    async def call(
        self, method: str, body: Mapping[str, Any] | None = None, *, query: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """One Web API call with the bot token (rate limits and retries honoured), once the channel has started."""
        try:
            await asyncio.wait_for(self._ready.wait(), self._ready_timeout_s)
        except TimeoutError:
            raise DeliveryFailed(f"slack {method}: the Slack channel is not running") from None
        return await self._web().call(method, body, query=query)

    async def start(self, dispatch: Dispatch) -> None:
        """``auth.test`` (a refused token is a ``ConfigError``), then listen (HTTP route or Socket Mode)."""
        from slack_bolt.async_app import AsyncApp
        from slack_bolt.authorization import AuthorizeResult
        from slack_sdk.errors import SlackApiError
        from slack_sdk.web.async_client import AsyncWebClient

        from adapters.slack.inbound import Inbound
        from bot.recent import RecentKeys

        session = aiohttp.ClientSession()
        client = AsyncWebClient(
            token=self._bot_token, base_url=self.api_base, session=session, timeout=self._request_timeout_s
        )
        try:
            auth = await client.auth_test()
        except SlackApiError as error:
            await session.close()
            raise ConfigError(f"Slack refused KEFU_SLACK__BOT_TOKEN ({error.response.get('error')})") from error
        except BaseException:
            await session.close()
            raise
        self._session, self.bot_user_id = session, str(auth["user_id"])
        web_api = self.web = WebApi(
            client, max_attempts=self._max_attempts, backoff_s=self._backoff_s, max_wait_s=self._max_rate_wait_s
        )
        self._joined = JoinedThreads(
            bot_user_id=self.bot_user_id,
            bot_id=auth.get("bot_id"),
            replies=lambda query: web_api.call("conversations.replies", query=query),
        )
        known = AuthorizeResult.from_auth_test_response(auth_test_response=auth, bot_token=self._bot_token)

        async def authorize(**_: Any) -> AuthorizeResult:
            return known

        # bolt's own auth.test on first use (once per request in flight until one returns) and its second signature
        # check are work kefu did already: start-up asked auth.test, handle_events checks every signature
        app = AsyncApp(
            client=AsyncWebClient(base_url=self.api_base, session=session, timeout=self._request_timeout_s),
            authorize=authorize,
            signing_secret=self._signing_secret or "",
            process_before_response=True,
            request_verification_enabled=False,
            logger=logging.getLogger("slack_bolt"),
        )
        Inbound(
            dispatch=dispatch,
            bot_user_id=self.bot_user_id,
            command=self.command,
            actions=self.actions,
            responses=self._responses,
            fetcher=self._lazy_fetch,
            respond=self._respond,
            on_feedback=self._on_feedback,
            seen=RecentKeys[str](self._dedupe_size),
            joined=self._joined,
            knowledge_bases=self._knowledge_bases,
            threads=self._threads,
            views=self._views,
        ).register(app)
        self._app = app
        self._ready.set()
        if self._app_token is not None:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(app, self._app_token)
            await self._socket.connect_async()
        log.info("slack: @%s started (%s, %s)", auth.get("user"), self.mode, self.api_base)

    async def stop(self) -> None:
        """Close the Socket Mode connection and the HTTP session; safe to call twice."""
        socket, session = self._socket, self._session
        self._socket = self._session = self._app = None
        self._ready.clear()
        if socket is not None:
            await socket.close_async()
        if session is not None:
            await session.close()

    def routes(self) -> Iterable[web.RouteDef]:
        """``POST /slack/events`` (events, slash commands, interactivity) in HTTP mode; none in Socket Mode."""
        return [web.post(EVENTS_PATH, self.handle_events)] if self.mode == "http" else []

    async def handle_events(self, request: web.Request) -> web.StreamResponse:
        """401 for a missing, forged or stale signature (checked before the body is parsed), 400 for a body that
        is not an event, a command or an interaction, else bolt's answer once the message is dispatched."""
        from slack_bolt.adapter.aiohttp import to_aiohttp_response
        from slack_bolt.request.async_request import AsyncBoltRequest
        from slack_sdk.signature import SignatureVerifier

        if self._app is None:
            return web.json_response({"ok": False, "error": "not started"}, status=503)
        body = await request.read()
        verifier = SignatureVerifier(self._signing_secret or "")
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        try:
            body.decode()
        except UnicodeDecodeError:  # Slack sends UTF-8; the verifier would raise on anything else
            log.warning("slack: a request from %s that is not UTF-8 was refused", request.remote)
            return web.json_response({"ok": False, "error": "malformed request"}, status=400)
        if not (timestamp and timestamp.isdigit() and signature and verifier.is_valid(body, timestamp, signature)):
            log.warning(
                "slack: a request from %s with a missing, forged or stale signature was refused", request.remote
            )
            return web.json_response({"ok": False, "error": "invalid signature"}, status=401)
        try:
            bolt_request = AsyncBoltRequest(body=body.decode(), query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        except (ValueError, RecursionError, AttributeError, TypeError) as error:  # bolt reads JSON as an object
            log.warning("slack: a signed request from %s was not readable (%s)", request.remote, type(error).__name__)
            return web.json_response({"ok": False, "error": "malformed request"}, status=400)
        event = bolt_request.body.get("event", {})
        if not isinstance(event, dict) or not isinstance(event.get("type", ""), str):  # bolt's own matchers read them
            log.warning("slack: a signed request from %s carried an event that is not an object", request.remote)
            return web.json_response({"ok": False, "error": "malformed request"}, status=400)
        return await to_aiohttp_response(await self._app.async_dispatch(bolt_request))

    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        """Post ``reply`` (in its thread, or privately to a slash command's asker); parts already posted by an
        earlier try of the same reply are not posted again."""
        place = Place.parse(conversation)
        messages = render_reply(reply)
        done = self._progress.get(reply.id, 0) if reply.id else 0
        for index in range(done, len(messages)):
            await self._post(place, messages[index])
            if reply.id:
                self._progress[reply.id] = index + 1
                self._progress.move_to_end(reply.id)
                while len(self._progress) > self._dedupe_size:
                    self._progress.popitem(last=False)
        if reply.id:
            self._progress.pop(reply.id, None)

    async def fetch(self, locator: str) -> bytes:
        """The file with id ``locator`` (``files.info`` then the download), for a message kept over a restart; a
        turn resumed before the channel started waits for it."""
        try:
            await asyncio.wait_for(self._ready.wait(), self._ready_timeout_s)
        except TimeoutError:
            raise BadInput(
                "the Slack channel is not running, so the file could not be read; please share it again"
            ) from None
        info = (await self._web().call("files.info", query={"file": locator})).get("file") or {}
        return await self._download(info)

    async def _post(self, place: Place, message: SlackMessage) -> None:
        content: dict[str, Any] = {"text": message.text, "blocks": message.blocks}
        if place.user:
            url = self._responses.take(place.conversation_id)
            if url is not None and await self._respond_with(url, content):
                return
            try:
                await self._web().call("chat.postEphemeral", {"channel": place.channel, "user": place.user, **content})
                return
            except DeliveryFailed:  # the bot is not in that channel: the asker's DM with the app still works
                log.warning("slack: answering %s in their DM instead of privately in %s", place.user, place.channel)
            await self._web().call("chat.postMessage", {"channel": place.user, **content})
            return
        thread = {"thread_ts": place.thread_ts} if place.thread_ts else {}
        if place.thread_ts and self._joined is not None:
            self._joined.joined(place.channel, place.thread_ts)
        await self._web().call(
            "chat.postMessage",
            {"channel": place.channel, "unfurl_links": False, "unfurl_media": False, **thread, **content},
        )

    async def _respond(self, url: str, text: str) -> None:
        await self._respond_with(url, {"text": text})

    async def _respond_with(self, url: str, content: Mapping[str, Any]) -> bool:
        """POST an ephemeral answer to a ``response_url``; False (logged) when Slack did not take it."""
        if self._session is None:
            return False
        body = {"response_type": "ephemeral", "replace_original": False, **content}
        try:
            async with self._session.post(url, json=body, timeout=aiohttp.ClientTimeout(total=10)) as response:
                if response.status == 200:
                    return True
                log.warning("slack: response_url answered %s", response.status)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("slack: response_url failed: %s", error)
        return False

    def _lazy_fetch(self, info: Mapping[str, Any]) -> Callable[[], Awaitable[bytes]]:
        return functools.partial(self._download, info)

    async def _download(self, info: Mapping[str, Any]) -> bytes:
        url = info.get("url_private_download") or info.get("url_private")
        if self._session is None:
            raise RuntimeError("the Slack adapter is not started")
        if not isinstance(url, str):
            raise BadInput("Slack did not give a download link for this file; please share it again")
        return await download(
            self._session,
            url,
            token=self._bot_token,
            api_base=self.api_base,
            max_bytes=self._max_download_bytes,
            size=_int_or_none(info.get("size")),
        )

    def _web(self) -> WebApi:
        if self.web is None:
            raise RuntimeError("the Slack adapter is not started")
        return self.web


def _int_or_none(value: Any) -> int | None:
    """A size Slack announced, when it is a number (a payload's odd value is ignored, the download still capped)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


__all__ = ["DEFAULT_API_BASE", "EVENTS_PATH", "DeliveryFailed", "SlackAdapter"]
